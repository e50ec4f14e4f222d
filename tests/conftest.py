"""Fixtures: real SQLite and PostgreSQL databases, Redis as broker, real worker processes.

Nothing here mocks the database or the broker, and nothing runs Celery in eager mode.
Each xdist worker gets its own PostgreSQL database and its own Redis database numbers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from moderation.settings import Settings
from tests.helpers import (
    SHARED_DATA,
    create_postgres_database,
    migrated_engine,
    service_env,
    slot_redis_url,
    test_slot,
    truncate_all,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not SHARED_DATA.exists():
        skip = pytest.mark.skip(reason=f"shared data sets not found at {SHARED_DATA}")
        for item in items:
            if "shared_data" in item.keywords:
                item.add_marker(skip)


@dataclass
class Backend:
    """A migrated database plus a Redis broker DB, shared by a test session."""

    name: str
    url: str
    engine: sa.Engine
    broker_url: str
    data_dir: Path

    def settings(self, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "database_url": self.url,
            "broker_url": self.broker_url,
            "data_dir": self.data_dir,
            "secret_key": "test-secret-key-0123456789abcdef",
            # Rate limits have their own tests; elsewhere they would only get in the way.
            "rate_limit_per_ip": 0,
            "rate_limit_per_author": 0,
        }
        return Settings(**(values | overrides))  # type: ignore[arg-type]

    def env(self, **extra: str) -> dict[str, str]:
        return service_env(self.url, self.broker_url, self.data_dir, **extra)

    def session(self) -> Session:
        return sessionmaker(bind=self.engine, expire_on_commit=False)()


_ENGINES: dict[str, Backend] = {}


def _backend(name: str, tmp_root: Path) -> Backend:
    if name in _ENGINES:
        return _ENGINES[name]
    slot = test_slot()
    data_dir = tmp_root / f"data-{name}"
    data_dir.mkdir(parents=True, exist_ok=True)
    if name == "postgres":
        url = create_postgres_database(f"moderation_test_{slot}")
    else:
        url = f"sqlite:///{data_dir / 'test.sqlite3'}"
    # Tests in one process run one at a time and flush this DB first, so both backends share it.
    backend = Backend(name, url, migrated_engine(url), slot_redis_url(), data_dir)
    _ENGINES[name] = backend
    return backend


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    """Both databases, empty (but for the demo article) at the start of each test, Redis broker flushed."""
    b = _backend(request.param, tmp_path_factory.getbasetemp())
    truncate_all(b.engine)
    redis.Redis.from_url(b.broker_url).flushdb()
    return b


@pytest.fixture
def sqlite_backend(tmp_path_factory: pytest.TempPathFactory) -> Backend:
    b = _backend("sqlite", tmp_path_factory.getbasetemp())
    truncate_all(b.engine)
    redis.Redis.from_url(b.broker_url).flushdb()
    return b


@pytest.fixture
def postgres_backend(tmp_path_factory: pytest.TempPathFactory) -> Backend:
    b = _backend("postgres", tmp_path_factory.getbasetemp())
    truncate_all(b.engine)
    redis.Redis.from_url(b.broker_url).flushdb()
    return b


@pytest.fixture
def published() -> list[uuid.UUID]:
    """Comment ids the API published (tests that do not need a worker use this)."""
    return []


@pytest.fixture
def client(backend: Backend, published: list[uuid.UUID]) -> Iterator[TestClient]:
    """The API on ``backend``, publishing into a list instead of the broker (no worker)."""
    from moderation.api.app import create_app
    from workers.app import make_celery

    settings = backend.settings()
    app = create_app(settings, celery=make_celery(settings), publish=published.append)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c

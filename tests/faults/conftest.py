"""Fixtures of the fault tests: an own Redis per test and short timeouts everywhere."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from celery import Celery
from fastapi.testclient import TestClient

from moderation.api.app import create_app
from moderation.settings import Settings
from tests.conftest import Backend
from tests.faults.helpers import ARTICLE_URL, OwnRedis
from workers.app import make_celery

# Short enough that a redelivery after a SIGKILL happens within a test, long enough above the
# task time limit (the settings refuse anything else) that a slow task is never handed out twice.
VISIBILITY_TIMEOUT = 12
# The soft limit is 5 s earlier: 3 s leaves room for SQLite lock waits on a loaded machine.
TASK_TIME_LIMIT = 8
# requeue-stuck republishes what has waited this long; far above a healthy queue's wait in
# production (600 s), a few seconds here. Attempts are generous so that a comment merely
# waiting in a slow queue is never given up on (a test asserts gave_up == 0).
PREFETCH = 1  # prefetch x time limit must stay below the visibility timeout too
FAULT_TIMEOUTS: dict[str, object] = {
    "visibility_timeout": VISIBILITY_TIMEOUT,
    "task_time_limit": TASK_TIME_LIMIT,
    "worker_prefetch_multiplier": PREFETCH,
}
REQUEUE_AFTER = 3
REQUEUE_MAX_ATTEMPTS = 20


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    with OwnRedis(tmp_path / "redis") as server:
        yield server


@dataclass
class Service:
    """The API (real publisher into the own Redis), its Celery app and the worker env."""

    backend: Backend
    redis: OwnRedis
    settings: Settings
    celery: Celery
    client: TestClient
    log_dir: Path

    def env(self, **extra: str) -> dict[str, str]:
        return self.backend.env(**fault_env(self.redis.url(), self.settings.database_url), **extra)

    def submit(self, n: int, prefix: str = "comment") -> tuple[list[uuid.UUID], list[int]]:
        """POST ``n`` comments; return the accepted ids and every status code."""
        ids: list[uuid.UUID] = []
        codes: list[int] = []
        for i in range(n):
            response = self.client.post(
                ARTICLE_URL, json={"body": f"{prefix} {i}: thanks, this helped me understand it"}
            )
            codes.append(response.status_code)
            if response.status_code == 202:
                ids.append(uuid.UUID(response.json()["id"]))
        return ids, codes


def fault_env(broker_url: str, database_url: str) -> dict[str, str]:
    return {
        "MODERATION_BROKER_URL": broker_url,
        "MODERATION_DATABASE_URL": database_url,
        "MODERATION_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "MODERATION_TASK_TIME_LIMIT": str(TASK_TIME_LIMIT),
        "MODERATION_WORKER_PREFETCH_MULTIPLIER": str(PREFETCH),
        "MODERATION_JOBS_REQUEUE_AFTER": str(REQUEUE_AFTER),
        "MODERATION_JOBS_REQUEUE_MAX_ATTEMPTS": str(REQUEUE_MAX_ATTEMPTS),
        "MODERATION_RATE_LIMIT_PER_IP": "0",
        "MODERATION_RATE_LIMIT_PER_AUTHOR": "0",
    }


def fault_settings(backend: Backend, broker_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "broker_url": broker_url,
        **FAULT_TIMEOUTS,
        "jobs_requeue_after": REQUEUE_AFTER,
        "jobs_requeue_max_attempts": REQUEUE_MAX_ATTEMPTS,
    }
    return backend.settings(**(values | overrides))


def make_service(backend: Backend, own: OwnRedis, log_dir: Path, **overrides: object) -> Iterator[Service]:
    settings = fault_settings(backend, own.url(), **overrides)
    celery = make_celery(settings)
    app = create_app(settings, celery=celery)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Service(backend, own, settings, celery, client, log_dir)


@pytest.fixture
def service(postgres_backend: Backend, own_redis: OwnRedis, tmp_path: Path) -> Iterator[Service]:
    yield from make_service(postgres_backend, own_redis, tmp_path)


def run_requeue_stuck(settings: Settings, celery: Celery, *, use_lock: bool = True) -> dict[str, int]:
    """One run of the real requeue-stuck job (moderation/jobs/requeue.py) through its runner."""
    from moderation.db import sessionmaker_for
    from moderation.jobs.runner import run_job
    from moderation.queue import publisher

    _, result = run_job(
        "requeue-stuck",
        sessions=sessionmaker_for(settings.resolved_database_url),
        settings=settings,
        publish=publisher(celery),
        use_lock=use_lock,
    )
    return dict(result.counts)

"""Engine, sessions and the enqueue-after-commit hook.

One session per unit of work: the API request dependency and the task wrapper own
begin/commit/rollback/close through :func:`session_scope`; service functions only flush.
Tasks are published only after the transaction that created their rows commits
(:func:`enqueue_after_commit`), so a worker never looks for a row that is not there yet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import DateTime, Engine, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from moderation.settings import get_settings

log = logging.getLogger(__name__)
_AFTER_COMMIT = "moderation.after_commit"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime}  # noqa: RUF012 (SQLAlchemy's documented idiom)


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets the API read while a worker writes; busy_timeout waits out writers.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            # SQLAlchemy emits BEGIN itself (below), not the driver.
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            # Take the write lock up front: a deferred transaction that reads, then writes
            # after another writer committed, fails at once with "database is locked"
            # instead of waiting out busy_timeout. Transactions on SQLite thus queue one at a
            # time, which is what one machine's embedded default needs; use PostgreSQL to scale.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # No ping on every checkout (a round trip per request): a connection the server dropped
    # fails its first statement with a disconnect error, on which SQLAlchemy invalidates it and
    # every pooled connection opened before it; that one request or task fails (503 with
    # Retry-After, a task retry) and the next ones get fresh connections
    # (tests/faults/test_database_down.py).
    kwargs.setdefault("pool_pre_ping", False)
    # Connections above pool_size are closed when returned and opened again for the next
    # request: under load that churn (a PostgreSQL connect is ~0.3 ms of API CPU) cost more
    # than keeping up to 20 idle. The ceiling stays 30 per process.
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("connect_args", {"connect_timeout": 5})
    return create_engine(url, **kwargs)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One engine (and pool) per database URL per process."""
    return make_engine(url)


def get_engine() -> Engine:
    return engine_for(get_settings().resolved_database_url)


@lru_cache(maxsize=8)
def sessionmaker_for(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=engine_for(url), expire_on_commit=False)


def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker_for(get_settings().resolved_database_url)


@contextmanager
def session_scope(factory: Callable[[], Session] | None = None) -> Iterator[Session]:
    """Open one session for one unit of work; commit on success, roll back on error."""
    session = (factory or get_sessionmaker())()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def enqueue_after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` (typically a task publish) once ``session`` commits; drop it on rollback."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    callbacks = session.info.pop(_AFTER_COMMIT, [])
    for callback in callbacks:
        try:
            callback()
        except Exception:
            # The row is committed and stays pending: requeue-stuck publishes it again later.
            log.exception("post-commit publish failed; requeue-stuck will retry")


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)

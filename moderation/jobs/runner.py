"""Run a job by name: take its lock, record a ``JobRun``, call the service function."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import redis
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from moderation.db import utcnow
from moderation.jobs.base import JobContext, JobResult, Notify, Publish
from moderation.jobs.locks import db_lock, redis_lock
from moderation.jobs.models import JobRun
from moderation.jobs.registry import get_job
from moderation.settings import Settings

log = logging.getLogger("moderation.jobs")


@contextmanager
def job_lock(settings: Settings, sessions: sessionmaker[Session], name: str) -> Iterator[bool]:
    # Longer than the task's hard time limit: a live run never loses its lock.
    ttl = get_job(name).time_limit(settings) + 60
    if settings.redis_url:
        client = redis.Redis.from_url(settings.redis_url, socket_timeout=5)
        try:
            with redis_lock(client, name, ttl) as held:
                yield held
        finally:
            client.close()
    else:
        with db_lock(sessions, name, ttl) as held:
            yield held


def run_job(
    name: str,
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    now: datetime | None = None,
    dry_run: bool = False,
    publish: Publish | None = None,
    notify: Notify | None = None,
    use_lock: bool = True,
) -> tuple[JobRun, JobResult]:
    """Run job ``name`` once and record it; a run that finds the lock held records a skip.

    An error in the job is recorded on the ``JobRun`` row (``error``) and re-raised.
    ``use_lock=False`` is for tests that prove the row-level safety on its own.
    """
    job = get_job(name)
    ctx = JobContext(
        sessions=sessions,
        settings=settings,
        now=now or utcnow(),
        dry_run=dry_run,
        publish=publish,
        notify=notify,
    )
    started_at = utcnow()
    with sessions() as session, session.begin():
        row = JobRun(name=name, started_at=started_at, counts={}, dry_run=dry_run)
        session.add(row)
        session.flush()
        run_id = row.id
    started = time.monotonic()
    result = JobResult()
    error: str | None = None
    try:
        if use_lock:
            with job_lock(settings, sessions, name) as held:
                if held:
                    result = job.run(ctx)
                else:
                    result.add("skipped_locked")
                    log.info("job skipped: another run holds the lock", extra={"job": name})
        else:
            result = job.run(ctx)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        finished_at = utcnow()
        with sessions() as session, session.begin():
            session.execute(
                update(JobRun)
                .where(JobRun.id == run_id)
                .values(finished_at=finished_at, counts=dict(result.counts), error=error)
            )
        # A plain copy for the caller (the sessionmaker may expire objects on commit).
        record = JobRun(
            id=run_id,
            name=name,
            started_at=started_at,
            finished_at=finished_at,
            counts=dict(result.counts),
            dry_run=dry_run,
            error=error,
        )
        if not dry_run:
            _count(name, ok=error is None)
        log.log(
            logging.ERROR if error else logging.INFO,
            "job finished",
            extra={
                "job": name,
                "counts": record.counts,
                "dry_run": dry_run,
                "duration_ms": round((time.monotonic() - started) * 1000),
                "error": error,
                "host": socket.gethostname(),
            },
        )
    return record, result


def _count(name: str, *, ok: bool) -> None:
    """Count the run on ``/metrics`` (moderation_job_runs); metrics never fail a job."""
    try:
        from moderation.metrics import record_job_run

        record_job_run(name, ok)
    except Exception:
        log.warning("could not record job metrics", exc_info=True)

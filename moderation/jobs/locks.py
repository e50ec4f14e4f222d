"""One run of a job at a time: a Redis lock with expiry, or a database row lock.

Exactly one beat is the deployment rule, but two beats (or a beat and an operator running
``moderation jobs run``) must not make a job run twice at once. The lock is a first line;
the row-level safety in each job (``SKIP LOCKED`` / conditional updates) is what makes a run
that slipped past an expired lock harmless. Locks expire (a crashed holder frees it) and
are measured in wall-clock time, not the job's injected clock.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import redis
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from moderation.db import utcnow
from moderation.jobs.models import JobLock

_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


@contextmanager
def redis_lock(client: redis.Redis, name: str, ttl_seconds: int) -> Iterator[bool]:
    """``SET key token NX PX ttl``; yields whether this caller holds the lock."""
    key = f"moderation:job-lock:{name}"
    token = secrets.token_hex(16)
    held = bool(client.set(key, token, nx=True, px=ttl_seconds * 1000))
    try:
        yield held
    finally:
        if held:
            client.eval(_RELEASE, 1, key, token)  # only our own token: never another holder's


@contextmanager
def db_lock(sessions: sessionmaker[Session], name: str, ttl_seconds: int) -> Iterator[bool]:
    """A ``job_locks`` row: inserted (or taken over once expired) in its own transaction."""
    token = secrets.token_hex(16)
    held = _acquire(sessions, name, token, ttl_seconds)
    try:
        yield held
    finally:
        if held:
            with sessions() as session, session.begin():
                session.execute(delete(JobLock).where(JobLock.name == name, JobLock.holder == token))


def _acquire(sessions: sessionmaker[Session], name: str, token: str, ttl_seconds: int) -> bool:
    now = utcnow()
    expires = now + timedelta(seconds=ttl_seconds)
    with sessions() as session, session.begin():
        taken = session.execute(
            update(JobLock)
            .where(JobLock.name == name, JobLock.expires_at < now)
            .values(holder=token, expires_at=expires)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return True
    try:
        with sessions() as session, session.begin():
            session.add(JobLock(name=name, holder=token, expires_at=expires))
    except IntegrityError:
        return False  # held by someone else, not expired
    return True

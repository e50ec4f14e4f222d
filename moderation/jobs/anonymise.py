"""anonymise: author email, IP address and user agent past PII retention become keyed hashes.

``h1:`` + the first 40 hex digits of HMAC-SHA256(secret key, field name + value): the same
address still hashes to the same value (so counting repeats over old data keeps working)
but cannot be read back or recomputed without the key. Recent rows keep their raw values,
which is what flood detection reads. A value that already starts with ``h1:`` is never
hashed again, so a second run changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from moderation.jobs.base import JobResult, lock_rows, progress
from moderation.models import Comment
from moderation.settings import Settings

NAME = "anonymise"
PREFIX = "h1:"
FIELDS: tuple[InstrumentedAttribute[str | None], ...] = (
    Comment.author_email,
    Comment.client_ip,
    Comment.user_agent,
)


def keyed_hash(key: str, field: str, value: str) -> str:
    """Idempotent: a value already hashed is returned as it is."""
    if value.startswith(PREFIX):
        return value
    mac = hmac.new(key.encode(), f"{field}\x00{value}".encode(), hashlib.sha256)
    return PREFIX + mac.hexdigest()[:40]  # 43 characters: fits client_ip's String(64)


def _raw(column: InstrumentedAttribute[str | None]) -> ColumnElement[bool]:
    return and_(column.is_not(None), ~column.startswith(PREFIX, autoescape=True))


def _identifying(cutoff: datetime) -> ColumnElement[bool]:
    return and_(Comment.created_at < cutoff, or_(*(_raw(c) for c in FIELDS)))


def anonymise(
    *, sessions: sessionmaker[Session], now: datetime, dry_run: bool, settings: Settings
) -> JobResult:
    """Hash author email, IP and user agent of comments older than ``jobs_pii_retention_days``.

    Triggered by beat every ``jobs_anonymise_interval`` seconds and by hand. Must not touch
    the body, author name or status, nor rows younger than the retention period.
    """
    result = JobResult()
    key = settings.resolved_secret_key()
    cutoff = now - timedelta(days=settings.jobs_pii_retention_days)
    after: uuid.UUID | None = None
    for batch in range(1, settings.jobs_max_batches + 1):
        with sessions() as session, session.begin():
            query = select(Comment.id, *FIELDS).where(_identifying(cutoff))
            if after is not None:
                query = query.where(Comment.id > after)
            rows = session.execute(
                lock_rows(session, query.order_by(Comment.id).limit(settings.jobs_batch_size))
            ).all()
            for row in rows:
                old = {c.key: getattr(row, c.key) for c in FIELDS}
                new = {k: keyed_hash(key, k, v) if v is not None else None for k, v in old.items()}
                changed = [k for k in old if old[k] != new[k]]
                if dry_run:
                    result.add("would_anonymise")
                    result.note(f"hash {', '.join(changed)} of comment {row.id}")
                    continue
                # Conditional on the values read: a concurrent run's hash is not hashed again.
                done = session.execute(
                    update(Comment)
                    .where(Comment.id == row.id, *(_same(c, old[c.key]) for c in FIELDS))
                    .values({k: new[k] for k in changed})
                    .execution_options(synchronize_session=False)
                )
                if done.rowcount == 1:  # type: ignore[attr-defined]
                    result.add("anonymised")
                    for k in changed:
                        result.add(f"hashed_{k}")
            after = rows[-1].id if rows and dry_run else None
        progress(NAME, batch, result, dry_run=dry_run)
        if len(rows) < settings.jobs_batch_size:
            break
    return result


def _same(column: InstrumentedAttribute[str | None], value: str | None) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value

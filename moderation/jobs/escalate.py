"""escalate: flagged comments waiting too long rise in priority; waiting crisis items notify.

* A flagged comment left untouched for ``jobs_review_target`` seconds rises one level
  (low -> normal -> high), and again after each further target period. ``urgent`` is kept
  for crisis language (the policy's promise), so escalation stops at ``high``. The rise sets
  ``updated_at`` to the job's clock: that is what makes a second run a no-op.
* An ``urgent`` item (crisis language: the only path to ``urgent``) still pending or flagged
  ``jobs_crisis_notify_after`` seconds after it became urgent, with no live moderator claim,
  sends one notification: a WARNING log line and, when ``jobs_webhook_url`` is set, a signed
  webhook. A ``crisis_notices`` row (primary key: the comment) makes it once per item.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from moderation.jobs.base import JobResult, Notify, lock_rows, progress
from moderation.jobs.models import CrisisNotice
from moderation.models import Article, Comment, CommentStatus
from moderation.review.policy import Priority
from moderation.review.queue_models import Claim
from moderation.settings import Settings

NAME = "escalate"
log = logging.getLogger("moderation.jobs.escalate")
RISE = {Priority.LOW: Priority.NORMAL, Priority.NORMAL: Priority.HIGH}


def escalate(
    *,
    sessions: sessionmaker[Session],
    now: datetime,
    dry_run: bool,
    settings: Settings,
    notify: Notify | None,
) -> JobResult:
    """Raise waiting flagged comments one level; notify once per waiting crisis item.

    Triggered by beat every ``jobs_escalate_interval`` seconds and by hand. Must not change
    a comment's status or version (a moderator's open decision stays valid).
    """
    result = JobResult()
    _raise_priorities(sessions, now, dry_run, settings, result)
    _notify_crisis(sessions, now, dry_run, settings, notify, result)
    return result


def _waiting(cutoff: datetime) -> ColumnElement[bool]:
    return and_(
        Comment.status == CommentStatus.FLAGGED,
        Comment.priority.in_(list(RISE)),
        Comment.updated_at < cutoff,
    )


def _raise_priorities(
    sessions: sessionmaker[Session], now: datetime, dry_run: bool, settings: Settings, result: JobResult
) -> None:
    cutoff = now - timedelta(seconds=settings.jobs_review_target)
    after: uuid.UUID | None = None
    for batch in range(1, settings.jobs_max_batches + 1):
        with sessions() as session, session.begin():
            query = select(Comment.id, Comment.priority).where(_waiting(cutoff))
            if after is not None:
                query = query.where(Comment.id > after)
            rows = session.execute(
                lock_rows(session, query.order_by(Comment.id).limit(settings.jobs_batch_size))
            ).all()
            for comment_id, priority in rows:
                new = RISE[priority]
                if dry_run:
                    result.add("would_raise")
                    result.note(f"raise {comment_id}: {priority.value} -> {new.value}")
                    continue
                changed = session.execute(
                    update(Comment)
                    .where(Comment.id == comment_id, Comment.priority == priority, _waiting(cutoff))
                    .values(priority=new, updated_at=now)
                    .execution_options(synchronize_session=False)
                )
                if changed.rowcount == 1:  # type: ignore[attr-defined]
                    result.add("raised")
                    result.note(f"raised {comment_id}: {priority.value} -> {new.value}")
            after = rows[-1].id if rows and dry_run else None
        progress(NAME, batch, result, dry_run=dry_run)
        if len(rows) < settings.jobs_batch_size:
            break


def _crisis_waiting(cutoff: datetime, now: datetime) -> ColumnElement[bool]:
    return and_(
        Comment.status.in_([CommentStatus.PENDING, CommentStatus.FLAGGED]),
        Comment.priority == Priority.URGENT,
        func.coalesce(Comment.decided_at, Comment.created_at) < cutoff,
        ~exists().where(CrisisNotice.comment_id == Comment.id),
        ~exists().where(Claim.comment_id == Comment.id, Claim.expires_at > now),
    )


def _notify_crisis(
    sessions: sessionmaker[Session],
    now: datetime,
    dry_run: bool,
    settings: Settings,
    notify: Notify | None,
    result: JobResult,
) -> None:
    cutoff = now - timedelta(seconds=settings.jobs_crisis_notify_after)
    webhook = bool(settings.jobs_webhook_url) and notify is not None
    for _batch in range(settings.jobs_max_batches):
        with sessions() as session, session.begin():
            rows = session.execute(
                select(Comment.id, Comment.status, Comment.created_at, Comment.decided_at, Article.slug)
                .join(Article, Article.id == Comment.article_id)
                .where(_crisis_waiting(cutoff, now))
                .order_by(Comment.created_at)
                .limit(settings.jobs_batch_size)
            ).all()
            if dry_run:
                for row in rows:
                    result.add("would_notify")
                    result.note(
                        f"notify: crisis comment {row.id} on {row.slug} waiting since {row.created_at}"
                    )
                return
            # The notice row is the once-per-item record; a concurrent run's insert wins.
            insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
            fresh = []
            for row in rows:
                inserted = session.scalar(
                    insert(CrisisNotice)
                    .values(comment_id=row.id, notified_at=now, webhook=webhook)
                    .on_conflict_do_nothing(index_elements=["comment_id"])
                    .returning(CrisisNotice.comment_id)
                )
                if inserted is not None:  # None: a concurrent run recorded it first
                    fresh.append(row)
        for row in fresh:
            since = row.decided_at or row.created_at
            payload: dict[str, Any] = {
                "event": "comment.crisis_waiting",
                "comment_id": str(row.id),
                "article": row.slug,
                "status": row.status.value,
                "priority": Priority.URGENT.value,
                "waiting_since": since.isoformat(),
                "waiting_seconds": int((now - since).total_seconds()),
            }
            log.warning("crisis comment waiting for a moderator", extra=payload)
            result.add("notified")
            result.note(f"notified: crisis comment {row.id} waiting {payload['waiting_seconds']}s")
            if webhook and notify is not None:
                _send(sessions, notify, payload, row.id, result)
        if len(rows) < settings.jobs_batch_size:
            return


def _send(
    sessions: sessionmaker[Session],
    notify: Notify,
    payload: dict[str, Any],
    comment_id: uuid.UUID,
    result: JobResult,
) -> None:
    try:
        notify(payload)
    except Exception:
        # Not handed to the broker: forget the notice so the next run tries again.
        log.exception("crisis webhook could not be queued", extra={"comment_id": str(comment_id)})
        with sessions() as session, session.begin():
            session.execute(delete(CrisisNotice).where(CrisisNotice.comment_id == comment_id))
        result.add("notify_failed")
        return
    result.add("webhooks_queued")

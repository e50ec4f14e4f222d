"""purge: delete rejected comments past retention (spam first), keeping a text-free tombstone.

Decision rows cascade with their comment, so before deleting a batch the job writes one
``purged_comments`` row per comment: its article, final status, categories and every
decision (source, decision, priority, categories, reason codes, actor, time) but no body,
no reason spans or details, and nothing about the author. The moderators' audit trail
(``audit_entries``) has no foreign key to comments and is left as it is. Labeled examples a
moderator chose for training keep their text by design (``comment_id`` becomes NULL).

Also purged: expired moderator page sessions, ``job_runs`` rows past
``jobs_run_retention_days`` and, with the embedded SQLite
broker, consumed kombu messages (``visible = false``: kombu's SQLAlchemy transport never
deletes them).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, delete, exists, func, or_, select, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from moderation.db import make_engine, utcnow
from moderation.jobs.base import JobResult, lock_rows, progress
from moderation.jobs.models import JobRun, PurgedComment
from moderation.models import Comment, CommentStatus, Decision
from moderation.settings import Settings

NAME = "purge"


def purge(*, sessions: sessionmaker[Session], now: datetime, dry_run: bool, settings: Settings) -> JobResult:
    """Delete old rejected comments (spam first), old job runs and consumed broker messages.

    Triggered by beat every ``jobs_purge_interval`` seconds and by hand. Must never delete a
    comment that is not ``rejected`` (a moderator may have overturned it meanwhile).
    """
    result = JobResult()
    cutoff = now - timedelta(days=settings.jobs_reject_retention_days)
    budget = settings.jobs_max_batches
    for spam_only in (True, False):
        budget = _purge_comments(sessions, now, cutoff, spam_only, budget, dry_run, settings, result)
    _purge_job_runs(sessions, now, dry_run, settings, result)
    _purge_moderator_sessions(sessions, now, dry_run, result)
    if settings.embedded:
        _purge_broker(settings, dry_run, result)
    return result


def _spam() -> ColumnElement[bool]:
    # JSON lists are stored as text on both databases; a category is a quoted word in it.
    return exists().where(
        Decision.comment_id == Comment.id, cast(Decision.categories, String).like('%"spam"%')
    )


def _purgeable(cutoff: datetime) -> ColumnElement[bool]:
    return and_(
        Comment.status == CommentStatus.REJECTED,
        Comment.decided_at.is_not(None),
        Comment.decided_at < cutoff,
    )


def _purge_comments(
    sessions: sessionmaker[Session],
    now: datetime,
    cutoff: datetime,
    spam_only: bool,
    budget: int,
    dry_run: bool,
    settings: Settings,
    result: JobResult,
) -> int:
    label = "spam" if spam_only else "other"
    after: uuid.UUID | None = None
    while budget > 0:
        budget -= 1
        with sessions() as session, session.begin():
            query = select(Comment).where(_purgeable(cutoff))
            query = query.where(_spam() if spam_only else ~_spam())
            if after is not None:
                query = query.where(Comment.id > after)
            comments = session.scalars(
                lock_rows(session, query.order_by(Comment.id).limit(settings.jobs_batch_size))
            ).all()
            if dry_run:
                for comment in comments:
                    result.add(f"would_delete_{label}")
                    result.note(
                        f"delete rejected {label} comment {comment.id} (decided {comment.decided_at})"
                    )
                after = comments[-1].id if comments else None
            else:
                ids = [c.id for c in comments]
                history = _decisions(session, ids)
                # Conditional on the status: a comment overturned since it was read stays.
                deleted = set(
                    session.scalars(
                        delete(Comment)
                        .where(Comment.id.in_(ids), _purgeable(cutoff))
                        .returning(Comment.id)
                        .execution_options(synchronize_session=False)
                    )
                )
                session.add_all(
                    _tombstone(c, history.get(c.id, []), now) for c in comments if c.id in deleted
                )
                result.add(f"deleted_{label}", len(deleted))
        progress(NAME, settings.jobs_max_batches - budget, result, dry_run=dry_run)
        if len(comments) < settings.jobs_batch_size:
            break
    return budget


def _decisions(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Decision]]:
    by_comment: dict[uuid.UUID, list[Decision]] = defaultdict(list)
    if ids:
        for decision in session.scalars(
            select(Decision).where(Decision.comment_id.in_(ids)).order_by(Decision.id)
        ):
            by_comment[decision.comment_id].append(decision)
    return by_comment


def _tombstone(comment: Comment, decisions: list[Decision], now: datetime) -> PurgedComment:
    kept: list[dict[str, Any]] = [
        {
            "source": d.source.value,
            "decision": d.decision.value,
            "priority": d.priority.value,
            "categories": list(d.categories),
            "codes": sorted({r["code"] for r in d.reasons}),
            "actor": d.actor,
            "created_at": d.created_at.isoformat(),
        }
        for d in decisions
    ]
    return PurgedComment(
        id=comment.id,
        article_id=comment.article_id,
        status=comment.status.value,
        categories=list(decisions[-1].categories) if decisions else [],
        decisions=kept,
        created_at=comment.created_at,
        decided_at=comment.decided_at,
        purged_at=now,
    )


def _purge_job_runs(
    sessions: sessionmaker[Session], now: datetime, dry_run: bool, settings: Settings, result: JobResult
) -> None:
    cutoff = now - timedelta(days=settings.jobs_run_retention_days)
    # Unfinished rows are runs in progress (this one, at least) unless older than any run
    # can last (wall clock): those crashed and go like the others.
    crashed = utcnow() - timedelta(seconds=settings.jobs_time_limit + 60)
    for _batch in range(settings.jobs_max_batches):
        with sessions() as session, session.begin():
            ids = session.scalars(
                select(JobRun.id)
                .where(
                    JobRun.started_at < cutoff,
                    or_(JobRun.finished_at.is_not(None), JobRun.started_at < crashed),
                )
                .limit(settings.jobs_batch_size)
            ).all()
            if dry_run:
                result.add("would_delete_job_runs", len(ids))
                return
            deleted = session.execute(delete(JobRun).where(JobRun.id.in_(ids)))
            result.add("deleted_job_runs", deleted.rowcount)  # type: ignore[attr-defined]
        if len(ids) < settings.jobs_batch_size:
            return


def _purge_moderator_sessions(
    sessions: sessionmaker[Session], now: datetime, dry_run: bool, result: JobResult
) -> None:
    """Expired moderator page sessions (refused at sign-in already) are deleted."""
    from moderation.accounts.models import WebSession
    from moderation.accounts.service import purge_expired_sessions

    with sessions() as session, session.begin():
        if dry_run:
            expired = session.scalar(select(func.count()).where(WebSession.expires_at <= now)) or 0
            if expired:
                result.add("would_delete_sessions", expired)
            return
        deleted = purge_expired_sessions(session=session, now=now)
        if deleted:
            result.add("deleted_sessions", deleted)


def _purge_broker(settings: Settings, dry_run: bool, result: JobResult) -> None:
    """Delete consumed messages from the embedded SQLite broker, in batches."""
    engine = make_engine(settings.resolved_broker_url.removeprefix("sqla+"))
    try:
        for _batch in range(settings.jobs_max_batches):
            with engine.begin() as conn:
                if dry_run:
                    count = conn.execute(text("SELECT count(*) FROM kombu_message WHERE visible = 0"))
                    result.add("would_delete_broker_messages", int(count.scalar_one()))
                    return
                deleted = conn.execute(
                    text(
                        "DELETE FROM kombu_message WHERE id IN "
                        "(SELECT id FROM kombu_message WHERE visible = 0 LIMIT :n)"
                    ),
                    {"n": settings.jobs_batch_size},
                )
                result.add("deleted_broker_messages", deleted.rowcount)
            if deleted.rowcount < settings.jobs_batch_size:
                return
    except (OperationalError, ProgrammingError) as exc:
        if "no such table" not in str(exc):  # broker not used yet: nothing to purge
            raise
    finally:
        engine.dispose()

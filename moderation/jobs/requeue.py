"""requeue-stuck: publish again what the broker lost; flag what keeps failing.

A comment is stored ``pending`` and its task published after commit. If the publish failed
(broker down) or the message was lost (Redis restarted empty, a worker crashed without
acking), the comment would stay pending forever. This job publishes it again once it has
waited ``jobs_requeue_after`` seconds since it was last published, and after
``jobs_requeue_max_attempts`` publishes it is flagged for a human with reason
``system.processing_failed`` (a ``Decision`` with ``source=system``).

Publishing happens after each batch commits. A duplicate publish is harmless: the task
decides a comment only while it is still pending (conditional update).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from moderation.filters.types import Category, Reason, ReasonCode
from moderation.jobs.base import JobResult, Publish, lock_rows, log, progress
from moderation.models import Comment, CommentStatus, Decision, DecisionSource
from moderation.review.policy import Priority
from moderation.review.service import reason_dict
from moderation.settings import Settings

NAME = "requeue-stuck"


def _stuck(cutoff: datetime) -> ColumnElement[bool]:
    return and_(
        Comment.status == CommentStatus.PENDING,
        or_(
            Comment.last_enqueued_at < cutoff,
            and_(Comment.last_enqueued_at.is_(None), Comment.created_at < cutoff),
        ),
    )


def requeue_stuck(
    *,
    sessions: sessionmaker[Session],
    now: datetime,
    dry_run: bool,
    settings: Settings,
    publish: Publish | None,
) -> JobResult:
    """Publish stuck pending comments again, or flag them after too many attempts.

    Triggered by beat every ``jobs_requeue_stuck_interval`` seconds and by hand. Must not
    decide a comment itself (only the pipeline or a human does) nor touch a decided one.
    """
    if publish is None and not dry_run:
        raise ValueError("requeue-stuck needs a publish function")
    result = JobResult()
    cutoff = now - timedelta(seconds=settings.jobs_requeue_after)
    max_attempts = settings.jobs_requeue_max_attempts
    after: uuid.UUID | None = None  # keyset for dry runs, whose rows never stop matching
    for batch in range(1, settings.jobs_max_batches + 1):
        published: list[tuple[uuid.UUID, int]] = []
        with sessions() as session, session.begin():
            query = select(Comment.id, Comment.attempts, Comment.priority).where(_stuck(cutoff))
            if after is not None:
                query = query.where(Comment.id > after)
            rows = session.execute(
                lock_rows(session, query.order_by(Comment.id).limit(settings.jobs_batch_size))
            ).all()
            for comment_id, attempts, priority in rows:
                if attempts >= max_attempts:
                    if dry_run:
                        result.add("would_flag")
                        result.note(f"flag {comment_id}: still pending after {attempts} attempts")
                    elif _flag(session, comment_id, attempts, priority, now, cutoff):
                        result.add("flagged")
                        result.note(f"flagged {comment_id}: still pending after {attempts} attempts")
                elif dry_run:
                    result.add("would_requeue")
                    result.note(f"publish {comment_id} again (attempt {attempts + 1})")
                else:
                    claimed = session.execute(
                        update(Comment)
                        .where(Comment.id == comment_id, Comment.attempts == attempts, _stuck(cutoff))
                        .values(attempts=attempts + 1, last_enqueued_at=now)
                        .execution_options(synchronize_session=False)
                    )
                    if claimed.rowcount == 1:  # type: ignore[attr-defined]
                        published.append((comment_id, attempts + 1))
            after = rows[-1].id if rows and dry_run else None
        broker_down = _publish_all(sessions, publish, published, result)
        progress(NAME, batch, result, dry_run=dry_run)
        if broker_down or len(rows) < settings.jobs_batch_size:
            break
    return result


def _flag(
    session: Session,
    comment_id: uuid.UUID,
    attempts: int,
    priority: Priority,
    now: datetime,
    cutoff: datetime,
) -> bool:
    # Crisis items seen at submission stay urgent; any other unprocessed comment goes high:
    # nobody (not even the pipeline) has read it yet.
    new_priority = Priority.URGENT if priority is Priority.URGENT else Priority.HIGH
    changed = session.execute(
        update(Comment)
        .where(Comment.id == comment_id, Comment.attempts == attempts, _stuck(cutoff))
        .values(
            status=CommentStatus.FLAGGED,
            priority=new_priority,
            decided_at=now,
            updated_at=now,
            version=Comment.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    reason = Reason(
        code=ReasonCode.PROCESSING_FAILED,
        category=Category.SYSTEM,
        detail=f"not decided after {attempts} publishes",
        rule_id=NAME,
    )
    session.add(
        Decision(
            comment_id=comment_id,
            source=DecisionSource.SYSTEM,
            decision=CommentStatus.FLAGGED,
            priority=new_priority,
            categories=[Category.SYSTEM.value],
            scores={},
            reasons=[reason_dict(reason)],
            versions={"job": NAME},
            actor=NAME,
            created_at=now,
        )
    )
    session.flush()
    return True


def _publish_all(
    sessions: sessionmaker[Session],
    publish: Publish | None,
    items: list[tuple[uuid.UUID, int]],
    result: JobResult,
) -> bool:
    """Publish the committed batch; on the first broker error stop and give the attempts back.

    Returns True when the broker is down (the run stops: the next one tries again). The
    comments keep their new ``last_enqueued_at``, so they wait one more threshold, but the
    attempt is not counted: a long broker outage must not flag every comment as failed.
    """
    if not items:
        return False
    if publish is None:
        raise ValueError("requeue-stuck needs a publish function")
    for index, (comment_id, _attempts) in enumerate(items):
        try:
            publish(comment_id)
        except Exception:
            failed = items[index:]
            with sessions() as session, session.begin():
                for failed_id, attempts in failed:
                    session.execute(
                        update(Comment)
                        .where(Comment.id == failed_id, Comment.attempts == attempts)
                        .values(attempts=attempts - 1)
                        .execution_options(synchronize_session=False)
                    )
            result.add("publish_failed", len(failed))
            log.exception("requeue-stuck: publish failed; %d comments wait for the next run", len(failed))
            return True
        result.add("requeued")
    return False

"""Reader reports: a published comment goes back to the moderators once enough distinct
readers report it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from moderation.db import utcnow
from moderation.filters.types import Category, ReasonCode
from moderation.models import Comment, CommentStatus, Decision, DecisionSource
from moderation.review.audit import SYSTEM_ACTOR, record_audit
from moderation.review.queue_models import Report
from moderation.review.service import NotFoundError


class ReportReason(StrEnum):
    SPAM = "spam"
    ABUSE = "abuse"
    UNSAFE_MEDICAL = "unsafe_medical"
    SELF_HARM = "self_harm"
    OFF_TOPIC = "off_topic"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    # False when this reader had already reported the comment (counted once).
    recorded: bool
    open_reports: int
    requeued: bool


def report_comment(
    *,
    session: Session,
    comment_id: uuid.UUID,
    reason: ReportReason,
    note: str | None,
    reporter_hash: str,
    threshold: int,
    now: datetime | None = None,
) -> ReportOutcome:
    """Record a reader's report of a published comment.

    Only published (approved) comments can be reported; anything else is "not found", so
    the endpoint does not reveal unpublished comments. When the open reports reach
    ``threshold``, the comment is flagged again by a conditional update on its version (a
    moderator deciding at the same moment wins), with a ``system`` decision whose reason
    is :attr:`ReasonCode.READER_REPORTS`, and an audit row.
    """
    now = now or utcnow()
    comment = session.get(Comment, comment_id)
    if comment is None or comment.status is not CommentStatus.APPROVED:
        raise NotFoundError("comment", comment_id)
    recorded = True
    try:
        with session.begin_nested():
            session.add(
                Report(
                    comment_id=comment_id,
                    reason=reason.value,
                    note=note,
                    reporter_hash=reporter_hash,
                    created_at=now,
                )
            )
    except IntegrityError:
        recorded = False
    open_reports = int(
        session.scalar(
            select(func.count()).where(Report.comment_id == comment_id, Report.resolved_at.is_(None))
        )
        or 0
    )
    if not recorded or open_reports < threshold:
        return ReportOutcome(recorded, open_reports, requeued=False)
    result = session.execute(
        update(Comment)
        .where(
            Comment.id == comment_id,
            Comment.version == comment.version,
            Comment.status == CommentStatus.APPROVED,
        )
        .values(status=CommentStatus.FLAGGED, updated_at=now, version=Comment.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return ReportOutcome(recorded, open_reports, requeued=False)
    session.refresh(comment)
    reasons = sorted(
        {r for (r,) in session.execute(select(Report.reason).where(Report.comment_id == comment_id)).all()}
    )
    session.add(
        Decision(
            comment_id=comment_id,
            source=DecisionSource.SYSTEM,
            decision=CommentStatus.FLAGGED,
            priority=comment.priority,
            categories=[Category.SYSTEM.value],
            scores={},
            reasons=[
                {
                    "code": ReasonCode.READER_REPORTS.value,
                    "category": Category.SYSTEM.value,
                    "rule_id": "reader_reports",
                    "span": None,
                    "detail": f"{open_reports} reader reports ({', '.join(reasons)})",
                    "score": 1.0,
                }
            ],
            versions={"policy": "reader_reports"},
            actor=SYSTEM_ACTOR,
            created_at=now,
        )
    )
    record_audit(
        session=session,
        actor=SYSTEM_ACTOR,
        action="reported_back",
        comment_id=comment_id,
        from_status=CommentStatus.APPROVED.value,
        to_status=CommentStatus.FLAGGED.value,
        reason="reader_reports",
        details={"open_reports": open_reports, "threshold": threshold},
        now=now,
    )
    return ReportOutcome(recorded, open_reports, requeued=True)


def reports_for(*, session: Session, comment_id: uuid.UUID) -> list[Report]:
    return list(
        session.scalars(select(Report).where(Report.comment_id == comment_id).order_by(Report.id)).all()
    )

"""Everything a moderator needs to decide one comment, loaded in a handful of queries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.db import utcnow
from moderation.filters.types import Category
from moderation.models import Article, Comment, Decision, DecisionSource
from moderation.review.audit import audit_for_comment
from moderation.review.highlight import Segment, segments
from moderation.review.policy import Priority
from moderation.review.queue_models import AuditEntry, Report
from moderation.review.queue_service import ClaimView, active_claims, author_comments
from moderation.review.reports import reports_for
from moderation.review.service import NotFoundError


@dataclass(frozen=True, slots=True)
class CommentDetail:
    comment: Comment
    article: Article
    decisions: Sequence[Decision]
    reports: Sequence[Report]
    audit: Sequence[AuditEntry]
    claim: ClaimView | None
    author_recent: Sequence[Comment]
    segments: list[Segment]
    crisis: bool

    def automatic_reasons(self) -> list[dict[str, Any]]:
        """Reasons of the automatic decisions (pipeline and reader reports), latest first."""
        return [
            r
            for d in reversed(self.decisions)
            if d.source is not DecisionSource.MODERATOR
            for r in (d.reasons or [])
        ]


def load_detail(*, session: Session, comment_id: uuid.UUID, now: datetime | None = None) -> CommentDetail:
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise NotFoundError("comment", comment_id)
    article = session.get_one(Article, comment.article_id)
    decisions = session.scalars(
        select(Decision).where(Decision.comment_id == comment_id).order_by(Decision.id)
    ).all()
    automatic = [d for d in decisions if d.source is not DecisionSource.MODERATOR]
    # Highlight the spans of the latest automatic run: older runs judged the same text.
    latest = automatic[-1:] if automatic else []
    spans = [r for d in latest for r in (d.reasons or [])]
    recent = [c for c in author_comments(session=session, comment=comment, limit=11) if c.id != comment.id]
    crisis = comment.priority is Priority.URGENT or any(
        Category.CRISIS.value in (d.categories or []) for d in automatic
    )
    return CommentDetail(
        comment=comment,
        article=article,
        decisions=decisions,
        reports=reports_for(session=session, comment_id=comment_id),
        audit=audit_for_comment(session=session, comment_id=comment_id),
        claim=active_claims(session=session, comment_ids=[comment_id], now=now or utcnow()).get(comment_id),
        author_recent=recent[:10],
        segments=segments(comment.body, spans),
        crisis=crisis,
    )

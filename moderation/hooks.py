"""What follows a stored decision: metrics, a log line, webhooks. Side effects run after commit."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from moderation import metrics
from moderation.db import enqueue_after_commit
from moderation.models import Comment, Decision
from moderation.review.service import OnDecided
from moderation.webhooks import service as webhooks

log = logging.getLogger("moderation.decisions")


def decision_hook(send: webhooks.Send | None = None) -> OnDecided:
    """The ``on_decided`` callback the moderation task hands to the review service."""

    def on_decided(session: Session, comment: Comment, decision: Decision) -> None:
        comment_id = str(comment.id)
        source, value = decision.source.value, decision.decision.value
        categories = list(decision.categories)
        submitted, decided = comment.created_at, decision.created_at

        def after_commit() -> None:
            metrics.record_decision(
                source=source,
                decision=value,
                categories=categories,
                submitted_at=submitted,
                decided_at=decided,
            )
            log.info(
                "decision stored",
                extra={
                    "comment_id": comment_id,
                    "source": source,
                    "decision": value,
                    "priority": decision.priority.value,
                    "categories": categories,
                    "policy": decision.versions.get("policy"),
                },
            )

        enqueue_after_commit(session, after_commit)
        webhooks.emit_decision(session, comment, decision, send=send)

    return on_decided

"""What follows a decision the pipeline stored: metrics, a log line, webhooks.

The worker calls the hook only after the decision committed (on PostgreSQL the decision is
one autocommitted statement; on SQLite the hook runs after the transaction's commit), so
nothing here is ever about a decision that was rolled back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Engine

from moderation import metrics
from moderation.review.decide import DecidedComment
from moderation.webhooks import service as webhooks

log = logging.getLogger("moderation.decisions")
AfterDecision = Callable[[Engine, DecidedComment], None]


def after_decision(send: webhooks.Send | None = None) -> AfterDecision:
    """The callback the moderation task runs once a pipeline decision has committed."""

    def after_commit(engine: Engine, decided: DecidedComment) -> None:
        comment = decided.comment
        metrics.record_decision(
            source=decided.source.value,
            decision=decided.status.value,
            categories=decided.categories,
            submitted_at=comment.created_at,
            decided_at=decided.decided_at,
        )
        log.info(
            "decision stored",
            extra={
                "comment_id": str(comment.id),
                "source": decided.source.value,
                "decision": decided.status.value,
                "priority": decided.priority.value,
                "categories": decided.categories,
                "policy": decided.versions.get("policy"),
            },
        )
        try:
            webhooks.emit_pipeline_decision(engine, decided, send=send)
        except Exception:
            # The decision stands; like any post-commit publish, a failure is logged, not retried.
            log.exception("webhook events for a decision could not be queued")

    return after_commit

"""Webhook endpoints and events: register endpoints, emit events after commit, log deliveries.

Events are emitted inside the transaction that decides a comment and published to the
``moderation.deliver_webhook`` task only once it commits (:func:`enqueue_after_commit`), so a
receiver never hears of a decision that was rolled back. Delivery (HTTP, retries) lives in
``workers/tasks_webhooks.py``; this module does no network I/O.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from moderation.db import enqueue_after_commit, utcnow
from moderation.models import Article, Comment, Decision, DecisionSource
from moderation.webhooks.models import WebhookDelivery, WebhookEndpoint

TASK_DELIVER = "moderation.deliver_webhook"
EVENTS = (
    "comment.approved",
    "comment.flagged",
    "comment.urgent",
    "comment.rejected",
    "comment.moderated",
)
KEEP_DELIVERIES = 200  # delivery log rows kept per endpoint
# send(endpoint_id, event, event_id, body) publishes one delivery task.
Send = Callable[[int, str, str, str], None]


class UnknownEventError(ValueError):
    pass


def celery_sender(app: Any) -> Send:
    """A :data:`Send` bound to a Celery app (the worker's own, or the API's)."""

    def send(endpoint_id: int, event: str, event_id: str, body: str) -> None:
        app.send_task(TASK_DELIVER, args=[endpoint_id, event, event_id, body], retry=False)

    return send


def _default_sender() -> Send:
    from workers.app import celery_app

    return celery_sender(celery_app)


def validate_events(events: Sequence[str]) -> list[str]:
    chosen = list(dict.fromkeys(e.strip() for e in events if e.strip())) or list(EVENTS)
    unknown = [e for e in chosen if e not in EVENTS]
    if unknown:
        raise UnknownEventError(f"unknown event(s): {', '.join(unknown)}; known: {', '.join(EVENTS)}")
    return chosen


def add_endpoint(
    *, session: Session, url: str, events: Sequence[str] = (), description: str = ""
) -> WebhookEndpoint:
    if not url.startswith(("http://", "https://")):
        raise ValueError("the webhook URL must start with http:// or https://")
    endpoint = WebhookEndpoint(
        url=url,
        secret="whsec_" + secrets.token_urlsafe(32),
        events=validate_events(events),
        active=True,
        description=description,
        created_at=utcnow(),
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def list_endpoints(*, session: Session) -> Sequence[WebhookEndpoint]:
    return session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()


def remove_endpoint(*, session: Session, endpoint_id: int) -> bool:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        return False
    session.delete(endpoint)
    session.flush()
    return True


def recent_deliveries(*, session: Session, endpoint_id: int, limit: int = 20) -> Sequence[WebhookDelivery]:
    """The last attempts to reach one endpoint, newest first."""
    return session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        .limit(limit)
    ).all()


def event_body(
    session: Session, event: str, comment: Comment, decision: Decision | None, event_id: str
) -> str:
    article = session.get_one(Article, comment.article_id)
    data: dict[str, Any] = {
        "id": str(comment.id),
        "article": article.slug,
        "parent_id": str(comment.parent_id) if comment.parent_id else None,
        "status": comment.status.value,
        "priority": comment.priority.value,
        "author_name": comment.author_name,
        "body": comment.body,
        "published_body": comment.censored_body or comment.body,
        "created_at": comment.created_at.isoformat(),
        "decided_at": comment.decided_at.isoformat() if comment.decided_at else None,
        "status_url": f"/api/v1/comments/{comment.id}",
    }
    if decision is not None:
        data["decision"] = {
            "source": decision.source.value,
            "decision": decision.decision.value,
            "priority": decision.priority.value,
            "categories": list(decision.categories),
            "reasons": [{k: r.get(k) for k in ("code", "category", "rule_id")} for r in decision.reasons],
            "policy_version": decision.versions.get("policy"),
            "actor": decision.actor,
        }
    payload = {"id": event_id, "type": event, "created": utcnow().isoformat(), "data": {"comment": data}}
    return json.dumps(payload, separators=(",", ":"), sort_keys=True)


def emit_event(
    session: Session,
    event: str,
    comment: Comment,
    *,
    decision: Decision | None = None,
    send: Send | None = None,
) -> int:
    """Queue ``event`` about ``comment`` to every active endpoint subscribed to it, after commit.

    Returns the number of deliveries queued. For the review engineer: call it in the
    moderator's transaction, e.g. ``emit_event(session, "comment.moderated", comment)``.
    """
    if event not in EVENTS:
        raise UnknownEventError(event)
    endpoints = [
        e
        for e in session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True)))
        if event in e.events
    ]
    if not endpoints:
        return 0
    sender = send or _default_sender()
    event_id = "evt_" + uuid.uuid4().hex
    body = event_body(session, event, comment, decision, event_id)
    for endpoint in endpoints:
        endpoint_id = endpoint.id
        enqueue_after_commit(
            session,
            lambda eid=endpoint_id: sender(eid, event, event_id, body),  # type: ignore[misc]
        )
    return len(endpoints)


def events_for(decision: Decision) -> list[str]:
    """The events a stored decision raises: its outcome, ``urgent`` and ``moderated``."""
    events = [f"comment.{decision.decision.value}"]
    if decision.priority.value == "urgent":
        events.append("comment.urgent")
    if decision.source is DecisionSource.MODERATOR:
        events.append("comment.moderated")
    return [e for e in events if e in EVENTS]


def emit_decision(session: Session, comment: Comment, decision: Decision, *, send: Send | None = None) -> int:
    """Emit every event a decision raises (the pipeline's ``on_decided`` hook uses this)."""
    return sum(
        emit_event(session, event, comment, decision=decision, send=send) for event in events_for(decision)
    )


def record_delivery(
    *,
    session: Session,
    endpoint_id: int,
    event: str,
    event_id: str,
    attempt: int,
    status_code: int | None,
    error: str | None,
    duration_ms: int | None,
) -> WebhookDelivery:
    delivery = WebhookDelivery(
        endpoint_id=endpoint_id,
        event=event,
        event_id=event_id,
        attempt=attempt,
        status_code=status_code,
        error=error[:2000] if error else None,
        duration_ms=duration_ms,
        created_at=utcnow(),
    )
    session.add(delivery)
    session.flush()
    _prune(session, endpoint_id)
    return delivery


def _prune(session: Session, endpoint_id: int) -> None:
    """Keep the log bounded: only the last :data:`KEEP_DELIVERIES` attempts per endpoint."""
    cutoff = session.scalar(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.id.desc())
        .offset(KEEP_DELIVERIES)
        .limit(1)
    )
    if cutoff is not None:
        session.execute(
            delete(WebhookDelivery).where(
                WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.id <= cutoff
            )
        )

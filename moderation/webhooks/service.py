"""Webhook endpoints and events: register endpoints, emit events after commit, log deliveries.

Events are emitted inside the transaction that decides a comment and published to the
``moderation.deliver_webhook`` task only once it commits (:func:`enqueue_after_commit`), so a
receiver never hears of a decision that was rolled back. The pipeline's decisions are emitted
by :func:`emit_pipeline_decision` after the worker's write committed. Delivery (HTTP,
retries) lives in ``workers/tasks_webhooks.py``; this module does no network I/O.

The worker looks endpoints up in a per-process :class:`EndpointCache` rather than querying
them for every decision: an endpoint added (or removed) by the CLI, the admin API or another
process is seen by every worker within :data:`ENDPOINT_CACHE_SECONDS`. Moderators' events
(:func:`emit_event`, in the moderator's transaction) always read the table.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from moderation.db import enqueue_after_commit, utcnow
from moderation.models import Article, Comment, Decision, DecisionSource
from moderation.webhooks.models import WebhookDelivery, WebhookEndpoint

if TYPE_CHECKING:
    from moderation.review.decide import DecidedComment

TASK_DELIVER = "moderation.deliver_webhook"
EVENTS = (
    "comment.approved",
    "comment.flagged",
    "comment.urgent",
    "comment.rejected",
    "comment.moderated",
)
KEEP_DELIVERIES = 200  # delivery log rows kept per endpoint
# The longest a worker goes on using its snapshot of the endpoints (see EndpointCache).
ENDPOINT_CACHE_SECONDS = 5.0
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


def comment_data(
    *,
    comment_id: uuid.UUID,
    article_slug: str,
    parent_id: uuid.UUID | None,
    status: str,
    priority: str,
    author_name: str,
    body: str,
    censored_body: str | None,
    created_at: datetime,
    decided_at: datetime | None,
) -> dict[str, Any]:
    """The ``data.comment`` object of an event (never scores, e-mail or address)."""
    return {
        "id": str(comment_id),
        "article": article_slug,
        "parent_id": str(parent_id) if parent_id else None,
        "status": status,
        "priority": priority,
        "author_name": author_name,
        "body": body,
        "published_body": censored_body or body,
        "created_at": created_at.isoformat(),
        "decided_at": decided_at.isoformat() if decided_at else None,
        "status_url": f"/api/v1/comments/{comment_id}",
    }


def decision_data(
    *,
    source: str,
    decision: str,
    priority: str,
    categories: Sequence[str],
    reasons: Sequence[dict[str, Any]],
    versions: dict[str, str],
    actor: str | None,
) -> dict[str, Any]:
    return {
        "source": source,
        "decision": decision,
        "priority": priority,
        "categories": list(categories),
        "reasons": [{k: r.get(k) for k in ("code", "category", "rule_id")} for r in reasons],
        "policy_version": versions.get("policy"),
        "actor": actor,
    }


def _body(event: str, event_id: str, comment: dict[str, Any], decision: dict[str, Any] | None) -> str:
    if decision is not None:
        comment["decision"] = decision
    payload = {"id": event_id, "type": event, "created": utcnow().isoformat(), "data": {"comment": comment}}
    return json.dumps(payload, separators=(",", ":"), sort_keys=True)


def event_body(
    session: Session, event: str, comment: Comment, decision: Decision | None, event_id: str
) -> str:
    article = session.get_one(Article, comment.article_id)
    data = comment_data(
        comment_id=comment.id,
        article_slug=article.slug,
        parent_id=comment.parent_id,
        status=comment.status.value,
        priority=comment.priority.value,
        author_name=comment.author_name,
        body=comment.body,
        censored_body=comment.censored_body,
        created_at=comment.created_at,
        decided_at=comment.decided_at,
    )
    extra = None
    if decision is not None:
        extra = decision_data(
            source=decision.source.value,
            decision=decision.decision.value,
            priority=decision.priority.value,
            categories=decision.categories,
            reasons=decision.reasons,
            versions=decision.versions,
            actor=decision.actor,
        )
    return _body(event, event_id, data, extra)


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


def event_names(decision: str, priority: str, source: DecisionSource) -> list[str]:
    """The events a decision raises: its outcome, ``urgent`` and ``moderated``."""
    events = [f"comment.{decision}"]
    if priority == "urgent":
        events.append("comment.urgent")
    if source is DecisionSource.MODERATOR:
        events.append("comment.moderated")
    return [e for e in events if e in EVENTS]


def events_for(decision: Decision) -> list[str]:
    """The events a stored decision raises: its outcome, ``urgent`` and ``moderated``."""
    return event_names(decision.decision.value, decision.priority.value, decision.source)


def emit_decision(session: Session, comment: Comment, decision: Decision, *, send: Send | None = None) -> int:
    """Emit every event a decision raises, after the session commits (moderators' decisions)."""
    return sum(
        emit_event(session, event, comment, decision=decision, send=send) for event in events_for(decision)
    )


# --- the pipeline's decisions ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Subscription:
    endpoint_id: int
    events: frozenset[str]


_ACTIVE = select(WebhookEndpoint.id, WebhookEndpoint.events).where(WebhookEndpoint.active.is_(True))


class EndpointCache:
    """A per-process snapshot of the active endpoints and their events, per database.

    The snapshot is read again once it is ``ttl`` seconds old, so an endpoint added or
    removed anywhere (CLI, admin API, another host) is seen within ``ttl``; a removed
    endpoint's stale entry costs at most a delivery task that finds no endpoint and does
    nothing. With no endpoint at all a decision costs no query.
    """

    def __init__(
        self, ttl: float = ENDPOINT_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._snapshots: weakref.WeakKeyDictionary[Engine, tuple[float, tuple[Subscription, ...]]] = (
            weakref.WeakKeyDictionary()
        )

    def active(self, engine: Engine) -> tuple[Subscription, ...]:
        now = self._clock()
        snapshot = self._snapshots.get(engine)
        if snapshot is None or now - snapshot[0] >= self.ttl:
            with engine.connect() as conn:
                rows = conn.execute(_ACTIVE).all()
            snapshot = (now, tuple(Subscription(row.id, frozenset(row.events)) for row in rows))
            self._snapshots[engine] = snapshot
        return snapshot[1]

    def clear(self) -> None:
        self._snapshots.clear()


ENDPOINTS = EndpointCache()


def emit_pipeline_decision(
    engine: Engine, decided: DecidedComment, *, send: Send | None = None, cache: EndpointCache = ENDPOINTS
) -> int:
    """Publish every event a committed pipeline decision raises to the subscribed endpoints
    (from ``cache``). Call it only after the decision committed. Returns deliveries queued."""
    subscriptions = cache.active(engine)
    if not subscriptions:
        return 0
    sender = send or _default_sender()
    comment = decided.comment
    queued = 0
    for event in event_names(decided.status.value, decided.priority.value, decided.source):
        targets = [s.endpoint_id for s in subscriptions if event in s.events]
        if not targets:
            continue
        event_id = "evt_" + uuid.uuid4().hex
        data = comment_data(
            comment_id=comment.id,
            article_slug=comment.article_slug,
            parent_id=comment.parent_id,
            status=decided.status.value,
            priority=decided.priority.value,
            author_name=comment.author_name,
            body=comment.body,
            censored_body=decided.censored_body,
            created_at=comment.created_at,
            decided_at=decided.decided_at,
        )
        extra = decision_data(
            source=decided.source.value,
            decision=decided.status.value,
            priority=decided.priority.value,
            categories=decided.categories,
            reasons=decided.reasons,
            versions=decided.versions,
            actor=None,
        )
        body = _body(event, event_id, data, extra)
        for endpoint_id in targets:
            sender(endpoint_id, event, event_id, body)
            queued += 1
    return queued


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

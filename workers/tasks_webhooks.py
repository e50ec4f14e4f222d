"""Webhook delivery: one signed POST per task, retried with exponential backoff."""

from __future__ import annotations

import json
import logging
import time

import httpx

from moderation import metrics
from moderation.db import session_scope
from moderation.settings import get_settings
from moderation.webhooks import service
from moderation.webhooks.models import WebhookEndpoint
from moderation.webhooks.signing import HEADER, sign
from workers.app import celery_app

log = logging.getLogger(__name__)
_settings = get_settings()


class DeliveryFailedError(Exception):
    """The endpoint did not answer 2xx; the task is retried with backoff."""


@celery_app.task(
    name="moderation.deliver_webhook",
    bind=True,
    acks_late=True,
    autoretry_for=(DeliveryFailedError,),
    retry_backoff=True,
    # Below the visibility timeout, or Redis hands the waiting message to a second worker.
    retry_backoff_max=min(_settings.webhook_retry_backoff_max, max(1, _settings.visibility_timeout // 2)),
    retry_jitter=True,
    max_retries=_settings.webhook_max_retries,
    ignore_result=True,
)
def deliver_webhook(self: object, endpoint_id: int, event: str, event_id: str, body: str) -> None:
    """POST one event to one endpoint, signed at send time. Triggered after the transaction
    that decided a comment commits; retried on network errors and non-2xx answers. Every
    attempt is logged in ``webhook_deliveries``. Must not touch comments. Receivers should
    de-duplicate on the event id: a retry after a lost answer delivers the same id again."""
    attempt = self.request.retries + 1  # type: ignore[attr-defined]
    with session_scope() as session:
        endpoint = session.get(WebhookEndpoint, endpoint_id)
        if endpoint is None or not endpoint.active:
            return
        url, secret = endpoint.url, endpoint.secret
    payload = body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "moderation-webhooks/1",
        "X-Moderation-Event": event,
        "X-Moderation-Event-Id": event_id,
        "X-Moderation-Attempt": str(attempt),
        HEADER: sign(secret, payload),
    }
    status_code: int | None = None
    error: str | None = None
    started = time.perf_counter()
    try:
        response = httpx.post(url, content=payload, headers=headers, timeout=get_settings().webhook_timeout)
        status_code = response.status_code
        if not response.is_success:
            error = f"HTTP {status_code}: {response.text[:200]}"
    except httpx.HTTPError as exc:
        error = f"{exc.__class__.__name__}: {exc}"
    duration_ms = int((time.perf_counter() - started) * 1000)
    with session_scope() as session:
        service.record_delivery(
            session=session,
            endpoint_id=endpoint_id,
            event=event,
            event_id=event_id,
            attempt=attempt,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
        )
    ok = error is None
    metrics.record_webhook_delivery(event, ok)
    extra = {
        "comment_id": json.loads(body).get("data", {}).get("comment", {}).get("id"),
        "endpoint_id": endpoint_id,
        "event": event,
        "event_id": event_id,
        "attempt": attempt,
    }
    if ok:
        log.info("webhook delivered", extra=extra | {"status_code": status_code})
        return
    log.warning("webhook delivery failed", extra=extra | {"error": error})
    raise DeliveryFailedError(error)

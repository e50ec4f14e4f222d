"""Crisis notifications: a signed JSON POST to the configured webhook.

Signature, Stripe style: ``X-Moderation-Signature: t=<unix seconds>,v1=<hex>`` where ``v1``
is HMAC-SHA256 over ``f"{t}.".encode() + body`` with ``jobs_webhook_secret`` (or the service
secret key). The timestamp is signed so a receiver can refuse replays; every retry is
signed afresh. Delivery with retries and backoff is the ``moderation.notify_crisis`` task.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from moderation.settings import Settings
from moderation.webhooks import signing

HEADER = signing.HEADER


class WebhookError(RuntimeError):
    """The receiver refused or failed; ``retryable`` says whether trying again can help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class RetryableWebhookError(WebhookError):
    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)


def webhook_secret(settings: Settings) -> str:
    return settings.jobs_webhook_secret or settings.resolved_secret_key()


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The header value: the same signature as every other outbound webhook."""
    return signing.sign(secret, body, timestamp)


def verify(secret: str, body: bytes, header: str, *, now: int, tolerance: int = 300) -> bool:
    """What a receiver does: recompute the HMAC and refuse stale timestamps."""
    try:
        signing.verify(secret, body, header, tolerance=tolerance, now=now)
    except signing.SignatureError:
        return False
    return True


def deliver(*, client: httpx.Client, url: str, payload: dict[str, Any], secret: str, timestamp: int) -> int:
    """POST ``payload`` signed; return the status code or raise :class:`WebhookError`.

    5xx, 408 and 429 answers and transport errors are retryable; other 4xx are not (the
    receiver will not change its mind).
    """
    body = encode(payload)
    response = client.post(
        url,
        content=body,
        headers={
            "Content-Type": "application/json",
            "User-Agent": "moderation-jobs/1",
            HEADER: sign(secret, body, timestamp),
        },
    )
    status = response.status_code
    if status >= 500 or status in (408, 429):
        raise RetryableWebhookError(f"webhook answered {status}")
    if status >= 300:
        raise WebhookError(f"webhook answered {status}", retryable=False)
    return status

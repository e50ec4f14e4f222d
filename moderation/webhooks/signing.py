"""Signatures of outbound webhooks, Stripe style: ``X-Moderation-Signature: t=<unix>,v1=<hex>``.

``v1`` is HMAC-SHA256 with the endpoint's secret over ``f"{t}.{body}"``; the timestamp in
the signed text lets a receiver reject replays older than a tolerance. Receivers can copy
:func:`verify` (it needs only the standard library).
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-Moderation-Signature"
DEFAULT_TOLERANCE = 300


class SignatureError(ValueError):
    pass


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for ``body`` signed now (or at ``timestamp``)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return f"t={ts},v1={signature(secret, ts, body)}"


def verify(
    secret: str, body: bytes, header: str, tolerance: int = DEFAULT_TOLERANCE, now: float | None = None
) -> int:
    """Check ``header`` against ``body``; return its timestamp or raise :class:`SignatureError`."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise SignatureError("no timestamp in signature header") from None
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise SignatureError("signature timestamp outside the tolerance")
    expected = signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", [])):
        raise SignatureError("signature does not match")
    return timestamp

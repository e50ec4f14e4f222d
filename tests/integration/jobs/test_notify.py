"""The crisis webhook's signature and delivery rules (no network: httpx.MockTransport)."""

from __future__ import annotations

import httpx
import pytest

from moderation.jobs.notify import HEADER, RetryableWebhookError, WebhookError, deliver, encode, sign, verify

SECRET = "webhook-secret-0123456789"
PAYLOAD = {"event": "comment.crisis_waiting", "comment_id": "c0ffee"}


def test_signature_covers_timestamp_and_body():
    body = encode(PAYLOAD)
    header = sign(SECRET, body, 1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
    assert len(header.partition("v1=")[2]) == 64
    assert verify(SECRET, body, header, now=1_700_000_100)
    assert not verify(SECRET, body + b" ", header, now=1_700_000_100)  # body changed
    assert not verify(SECRET, body, header.replace("t=1700000000", "t=1700000001"), now=1_700_000_100)
    assert not verify("other-secret-0123456789", body, header, now=1_700_000_100)
    assert not verify(SECRET, body, header, now=1_700_000_000 + 301)  # replayed too late
    assert not verify(SECRET, body, "v1=abc", now=1_700_000_000)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (200, None),
        (204, None),
        (500, RetryableWebhookError),
        (503, RetryableWebhookError),
        (429, RetryableWebhookError),
        (408, RetryableWebhookError),
        (400, WebhookError),
        (404, WebhookError),
    ],
)
def test_delivery_outcomes(status, error):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status)

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        if error is None:
            assert (
                deliver(
                    client=client, url="https://hooks.example/x", payload=PAYLOAD, secret=SECRET, timestamp=5
                )
                == status
            )
        else:
            with pytest.raises(error) as info:
                deliver(
                    client=client, url="https://hooks.example/x", payload=PAYLOAD, secret=SECRET, timestamp=5
                )
            assert info.value.retryable is (error is RetryableWebhookError)
    [request] = seen
    assert request.headers["Content-Type"] == "application/json"
    assert verify(SECRET, request.content, request.headers[HEADER], now=5)

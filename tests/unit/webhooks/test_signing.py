"""Webhook signatures: HMAC-SHA256 over f"{t}.{body}", Stripe-style header."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from moderation.webhooks.signing import SignatureError, sign, verify

SECRET = "whsec_test"
BODY = b'{"type":"comment.approved"}'


def test_header_is_hmac_sha256_of_timestamp_dot_body():
    header = sign(SECRET, BODY, timestamp=1_700_000_000)
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert verify(SECRET, BODY, header, now=1_700_000_010) == 1_700_000_000


@pytest.mark.parametrize(
    ("secret", "body", "now", "message"),
    [
        ("other-secret", BODY, 1_700_000_000, "does not match"),
        (SECRET, BODY + b" ", 1_700_000_000, "does not match"),
        (SECRET, BODY, 1_700_000_000 + 301, "tolerance"),
    ],
)
def test_tampering_wrong_secret_and_replay_are_refused(secret, body, now, message):
    header = sign(SECRET, BODY, timestamp=1_700_000_000)
    with pytest.raises(SignatureError, match=message):
        verify(secret, body, header, now=now)


def test_header_without_timestamp_is_refused():
    with pytest.raises(SignatureError, match="timestamp"):
        verify(SECRET, BODY, "v1=abc")

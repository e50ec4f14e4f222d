"""The Akismet-compatible API, driven by the real ``akismet`` client library from PyPI, unchanged.

The client always talks to https://rest.akismet.com; an httpx transport that rewrites the
scheme, host and port sends its requests to a real uvicorn server running our app instead.
"""

from __future__ import annotations

from collections.abc import Iterator

import akismet
import httpx
import pytest
from sqlalchemy import select

from moderation.api.app import create_app
from moderation.models import LabeledExample
from tests.serving import live_server
from workers.app import make_celery

KEY = "akismet-test-key-0123456789"
BLOG = "https://health.example"
HAM = (
    "My clinic monitored my blood pressure during every infusion. It helped after two failed antidepressants."
)
BLATANT = "Buy cheap viagra now!!! Visit http://cheap-pills.example http://pills.example best price casino"
# Reads like a normal comment to the classifier; a site reports it as spam.
NOVEL_SPAM = "Lovely article. I sell handmade quilted tote bags at our family market stall every Saturday."


class RewriteTransport(httpx.HTTPTransport):
    """Sends every request to ``base`` (keeping path and query): the client stays unchanged."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = httpx.URL(base)
        self.seen: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(str(request.url))
        request.url = request.url.copy_with(scheme=self.base.scheme, host=self.base.host, port=self.base.port)
        request.headers["Host"] = f"{self.base.host}:{self.base.port}"
        return super().handle_request(request)


@pytest.fixture
def server(backend) -> Iterator[str]:
    settings = backend.settings(akismet_keys=(KEY,))
    app = create_app(settings, celery=make_celery(settings), publish=lambda _id: None)
    with live_server(app) as base:
        yield base


@pytest.fixture
def client_for():
    """Build akismet clients pointed at the local server; their HTTP clients are closed after."""
    opened: list[httpx.Client] = []

    def build(base: str, key: str = KEY) -> tuple[akismet.SyncClient, RewriteTransport]:
        transport = RewriteTransport(base)
        http = httpx.Client(transport=transport, headers={"User-Agent": akismet.USER_AGENT}, timeout=10)
        opened.append(http)
        return akismet.SyncClient(config=akismet.Config(key=key, url=BLOG), http_client=http), transport

    yield build
    for http in opened:
        http.close()


def test_verify_key_and_comment_check_with_the_real_client(server, client_for):
    client, transport = client_for(server)
    assert client.verify_key() is True
    assert akismet.SyncClient.validated_client(
        config=akismet.Config(key=KEY, url=BLOG), http_client=client._http_client
    )
    assert client.comment_check(
        "203.0.113.7", comment_content=HAM, comment_type="comment", comment_author="Sam"
    ) == (akismet.CheckResponse.HAM)
    verdict = client.comment_check(
        "203.0.113.8", comment_content=BLATANT, comment_type="comment", comment_author="pills4u"
    )
    assert verdict == akismet.CheckResponse.DISCARD  # X-akismet-pro-tip: discard
    assert all(url.startswith("https://rest.akismet.com/1.1/") for url in transport.seen)


def test_wrong_key_is_invalid(server, client_for):
    client, _ = client_for(server, key="not-a-key")
    assert client.verify_key() is False
    with pytest.raises(akismet.APIKeyError):
        client.comment_check("203.0.113.7", comment_content=HAM)
    with pytest.raises(akismet.APIKeyError):
        akismet.SyncClient.validated_client(
            config=akismet.Config(key="not-a-key", url=BLOG), http_client=client._http_client
        )


def test_submitted_spam_changes_the_next_verdict_and_ham_changes_it_back(server, client_for, backend):
    client, _ = client_for(server)
    assert client.comment_check("198.51.100.4", comment_content=NOVEL_SPAM) == akismet.CheckResponse.HAM

    assert client.submit_spam("198.51.100.4", comment_content=NOVEL_SPAM, comment_author="Quilts") is True
    assert client.comment_check("198.51.100.4", comment_content=NOVEL_SPAM) == akismet.CheckResponse.DISCARD
    # A near-duplicate (case, spacing, punctuation) is caught too, from any address.
    variant = (
        "  lovely ARTICLE!! i sell handmade quilted tote-bags at our family market stall every saturday "
    )
    assert client.comment_check("192.0.2.9", comment_content=variant) == akismet.CheckResponse.DISCARD
    # Unrelated comments are unaffected.
    assert client.comment_check("198.51.100.4", comment_content=HAM) == akismet.CheckResponse.HAM

    assert client.submit_ham("198.51.100.4", comment_content=NOVEL_SPAM) is True
    assert client.comment_check("198.51.100.4", comment_content=NOVEL_SPAM) == akismet.CheckResponse.HAM

    with backend.session() as session:
        labels = session.scalars(select(LabeledExample.label).where(LabeledExample.text == NOVEL_SPAM)).all()
    assert sorted(labels) == ["ham", "spam"]  # both reports reach the learning store


def test_is_test_submissions_are_not_learned(server, client_for, backend):
    client, _ = client_for(server)
    assert client.submit_spam("198.51.100.4", comment_content=NOVEL_SPAM, is_test=True) is True
    assert client.comment_check("198.51.100.4", comment_content=NOVEL_SPAM) == akismet.CheckResponse.HAM
    with backend.session() as session:
        assert session.scalars(select(LabeledExample)).all() == []


def test_protocol_errors_carry_debug_help(server):
    with httpx.Client(base_url=server) as http:
        missing = http.post("/1.1/comment-check", data={"api_key": KEY, "blog": BLOG, "comment_content": HAM})
        assert missing.status_code == 200
        assert missing.text == "Missing required field: user_ip."
        assert missing.headers["X-akismet-debug-help"]
        invalid = http.post("/1.1/verify-key", data={"key": "nope", "blog": BLOG})
        assert invalid.text == "invalid"
        assert "verify" in invalid.headers["X-akismet-debug-help"]
        # Akismet's documented test author is always spam.
        forced = http.post(
            "/1.1/comment-check",
            data={"api_key": KEY, "blog": BLOG, "user_ip": "1.2.3.4", "comment_author": "viagra-test-123"},
        )
        assert forced.text == "true"

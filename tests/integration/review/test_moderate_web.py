"""The /moderate page over HTTP: login, cookies, throttling, CSRF, headers, escaping."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from moderation.accounts.models import WebSession
from moderation.api.app import create_app
from moderation.models import Comment, CommentStatus
from moderation.review.policy import Priority
from tests.conftest import Backend
from tests.integration.review.conftest import crisis_reason, page_csrf, page_login, seed_comment
from workers.app import make_celery

XSS = '<script>alert(1)</script> <img src=x onerror=alert(1)> "><svg onload=alert(1)>'


def test_anonymous_visitors_are_sent_to_login(client: TestClient) -> None:
    response = client.get("/moderate", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/moderate/login"
    form = client.get("/moderate/login")
    assert form.status_code == 200
    assert 'name="csrf_token"' in form.text
    assert (
        client.post("/moderate/bulk", data={"action": "approve"}, follow_redirects=False).status_code == 303
    )


def test_security_headers(client: TestClient) -> None:
    for path in ("/moderate/login", "/static/moderate/moderate.js", "/api/v1/moderation/counts"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
    assert client.get("/moderate/login").headers["cache-control"] == "no-store"


@pytest.mark.usefixtures("team")
def test_login_sets_a_hardened_session_cookie_and_logout_ends_it(
    client: TestClient, backend: Backend
) -> None:
    response = page_login(client, "alice")
    assert response.status_code == 303
    assert response.headers["location"] == "/moderate"
    cookie = response.headers["set-cookie"]
    assert "moderation_session=sess_" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http in this test
    page = client.get("/moderate")
    assert page.status_code == 200
    assert "alice" in page.text
    token = client.cookies["moderation_session"]
    with backend.session() as session:
        stored = session.scalars(select(WebSession.token_hash)).all()
    assert token not in stored
    assert len(stored) == 1
    refused = client.post("/moderate/logout", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    out = client.post("/moderate/logout", data={"csrf_token": page_csrf(client)}, follow_redirects=False)
    assert out.status_code == 303
    with backend.session() as session:
        assert session.scalars(select(WebSession)).all() == []


@pytest.mark.usefixtures("team")
def test_cookie_is_secure_over_https(backend: Backend) -> None:
    settings = backend.settings()
    app = create_app(settings, celery=make_celery(settings), publish=lambda _id: None)
    with TestClient(app, base_url="https://testserver") as client:
        response = page_login(client, "alice")
        assert response.status_code == 303
        assert "Secure" in response.headers["set-cookie"]


@pytest.mark.usefixtures("team")
def test_login_failures_are_throttled(backend: Backend) -> None:
    settings = backend.settings(login_max_failures=3)
    app = create_app(settings, celery=make_celery(settings), publish=lambda _id: None)
    client = TestClient(app)
    assert page_login(client, "nobody", "whatever-password").status_code == 401
    for _ in range(3):
        failed = page_login(client, "alice", "wrong password!")
        assert failed.status_code == 401
        assert "Wrong name or password." in failed.text
    locked = page_login(client, "alice")  # right password, but locked for now
    assert locked.status_code == 429
    assert "retry-after" in locked.headers
    assert page_login(client, "bob").status_code == 303  # other names are unaffected


@pytest.mark.usefixtures("team")
def test_login_form_needs_its_csrf_token(client: TestClient) -> None:
    client.get("/moderate/login")
    response = client.post(
        "/moderate/login", data={"name": "alice", "password": "correct horse battery", "csrf_token": "x"}
    )
    assert response.status_code == 403
    assert "moderation_session" not in client.cookies


@pytest.mark.usefixtures("team")
def test_page_escapes_comment_text_and_highlights_spans(client: TestClient, backend: Backend) -> None:
    body = f"I want to end my life {XSS}"
    cid = seed_comment(
        backend,
        body,
        priority=Priority.URGENT,
        categories=("crisis",),
        reasons=[crisis_reason(body, "end my life"), {**crisis_reason(body, "<script>"), "code": "x"}],
        author='<b onmouseover="alert(2)">Eve</b>',
    )
    page_login(client, "alice")
    page = client.get("/moderate").text
    assert "<script>alert" not in page
    assert "<img" not in page
    assert "<svg" not in page
    assert "<b " not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the queue excerpt, escaped
    assert '<mark class="hl hl-crisis" title="x">&lt;script&gt;</mark>alert(1)&lt;/script&gt;' in page
    assert '<mark class="hl hl-crisis" title="crisis.ideation">end my life</mark>' in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;b onmouseover=&#34;alert(2)&#34;&gt;Eve&lt;/b&gt;" in page
    assert "Possible crisis" in page
    assert "988" in page
    assert f'data-id="{cid}"' in page
    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None  # no inline script at all
    assert " style=" not in page


@pytest.mark.usefixtures("team")
def test_decide_forms_need_csrf_and_move_to_the_next_item(client: TestClient, backend: Backend) -> None:
    first = seed_comment(backend, "first", categories=("profanity",))
    second = seed_comment(backend, "second", categories=("spam",))
    page_login(client, "alice")
    token = page_csrf(client)
    url = f"/moderate/comments/{first}/decide"
    forged = client.post(url, data={"action": "approve", "version": "2", "csrf_token": "nope"})
    assert forged.status_code == 403
    missing = client.post(url, data={"action": "approve", "version": "2"})
    assert missing.status_code == 403
    no_reason = client.post(
        url, data={"action": "reject", "version": "2", "csrf_token": token}, follow_redirects=False
    )
    assert "notice=reason" in no_reason.headers["location"]
    ok = client.post(
        url, data={"action": "approve", "version": "2", "csrf_token": token}, follow_redirects=False
    )
    assert ok.status_code == 303
    assert "notice=approved" in ok.headers["location"]
    stale = client.post(
        url, data={"action": "approve", "version": "2", "csrf_token": token}, follow_redirects=False
    )
    assert "notice=conflict" in stale.headers["location"]
    bulk = client.post(
        "/moderate/bulk",
        data={"action": "reject", "reason": "spam", "items": [f"{second}:2"], "csrf_token": token},
        follow_redirects=False,
    )
    assert "notice=bulk" in bulk.headers["location"]
    with backend.session() as session:
        assert session.get_one(Comment, first).status is CommentStatus.APPROVED
        assert session.get_one(Comment, second).status is CommentStatus.REJECTED
    assert "Queue clear" in client.get("/moderate?tab=flagged").text

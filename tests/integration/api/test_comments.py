"""The public comment API against real SQLite and PostgreSQL (publishing captured, no worker)."""

from __future__ import annotations

import json
import uuid

import pytest
from fastapi.testclient import TestClient

from moderation.db import utcnow
from moderation.models import CommentStatus
from moderation.review.decide import record_verdict
from moderation.review.policy import Decision, Priority, Verdict

URL = "/api/v1/articles/ketamine-infusion-therapy/comments"


def submit(client: TestClient, body: str = "It helped me.", **extra: object) -> dict:
    response = client.post(URL, json={"body": body, "author_name": "Sam", **extra})
    assert response.status_code == 202, response.text
    accepted: dict = response.json()
    return accepted


def approve(backend, comment_id: str) -> None:
    verdict = Verdict(Decision.APPROVED, Priority.NORMAL, (), (), {}, {"test": "1"})
    with backend.session() as session, session.begin():
        assert record_verdict(session.connection(), uuid.UUID(comment_id), verdict, now=utcnow())


def test_submit_returns_202_pending_and_publishes_after_commit(client, published):
    body = submit(client)
    assert body["status"] == "pending"
    assert body["article"] == "ketamine-infusion-therapy"
    assert published == [uuid.UUID(body["id"])]
    status = client.get(body["status_url"]).json()
    assert status["status"] == "pending"
    assert status["body"] is None
    assert "scores" not in status


def test_idempotency_key_returns_the_same_comment(client, published):
    first = client.post(URL, json={"body": "once"}, headers={"Idempotency-Key": "k-1"})
    second = client.post(URL, json={"body": "once"}, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 202
    assert second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == second.json()["id"]
    assert len(published) == 1
    other = client.post(URL, json={"body": "once"}, headers={"Idempotency-Key": "k-2"})
    assert other.json()["id"] != first.json()["id"]


def test_published_list_shows_only_approved_oldest_first_with_nested_replies(client, backend):
    a = submit(client, "first")
    b = submit(client, "second, never approved")
    c = submit(client, "third")
    reply = submit(client, "a reply", parent_id=a["id"])
    nested = submit(client, "a reply to the reply", parent_id=reply["id"])
    for comment in (a, c, reply, nested):
        approve(backend, comment["id"])
    page = client.get(URL).json()
    assert [item["body"] for item in page["items"]] == ["first", "third"]
    assert page["items"][0]["replies"][0]["body"] == "a reply"
    assert page["items"][0]["replies"][0]["replies"][0]["body"] == "a reply to the reply"
    assert b["id"] not in json.dumps(page)
    assert "author_email" not in json.dumps(page)

    first_page = client.get(URL, params={"limit": 1}).json()
    assert [i["body"] for i in first_page["items"]] == ["first"]
    second_page = client.get(URL, params={"limit": 1, "cursor": first_page["next_cursor"]}).json()
    assert [i["body"] for i in second_page["items"]] == ["third"]
    assert second_page["next_cursor"] is None
    assert client.get(f"/api/v1/comments/{a['id']}").json()["body"] == "first"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "   \n "}, "body"),
        ({"body": "x" * 5001}, "body"),
        ({"body": "ok", "author_email": "not-an-email"}, "author_email"),
        ({"body": "ok", "author_url": "javascript:alert(1)"}, "author_url"),
        ({"body": "ok", "author_name": "n" * 81}, "author_name"),
        ({"body": 5}, "body"),
        ({}, "body"),
        ({"body": "ok", "unexpected": 1}, "unexpected"),
        ({"body": "ok", "parent_id": "nope"}, "parent_id"),
    ],
)
def test_invalid_fields_get_422_with_a_message(client, published, payload, field):
    response = client.post(URL, json=payload)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    assert field in body["message"]
    assert published == []


def test_unknown_parent_is_404(client):
    response = client.post(URL, json={"body": "hi", "parent_id": str(uuid.uuid4())})
    assert response.status_code == 404
    assert "parent comment" in response.json()["message"]


def test_malformed_json_is_400(client):
    response = client.post(URL, content=b'{"body": ', headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"


def test_invalid_utf8_is_rejected_cleanly(client):
    response = client.post(URL, content=b'{"body": "\xff\xfe"}', headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 422)
    assert "message" in response.json()


def test_non_json_content_type_is_415(client):
    response = client.post(
        URL, content=b"body=hi", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"


def test_body_over_byte_limit_is_413(client, published):
    response = client.post(
        URL, content=b'{"body": "' + b"a" * 70_000 + b'"}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"

    def chunks():
        yield b'{"body": "'
        for _ in range(100):
            yield b"a" * 1000
        yield b'"}'

    streamed = client.post(URL, content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert published == []


def test_unknown_article_and_comment_are_404(client):
    assert client.post("/api/v1/articles/nope/comments", json={"body": "hi"}).status_code == 404
    assert client.get("/api/v1/articles/nope/comments").status_code == 404
    missing = client.get(f"/api/v1/comments/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.json()["message"]
    assert client.get("/api/v1/comments/not-a-uuid").status_code == 422
    assert client.get("/no/such/route").json()["error"] == "not_found"


def test_bad_cursor_is_422(client):
    response = client.get(URL, params={"cursor": "%%%garbage"})
    assert response.status_code == 422


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_openapi_is_served(client):
    spec = client.get("/openapi.json").json()
    assert "/api/v1/articles/{slug}/comments" in spec["paths"]


def test_status_is_stored(backend, client):
    body = submit(client)
    with backend.session() as session:
        from moderation.models import Comment

        comment = session.get(Comment, uuid.UUID(body["id"]))
        assert comment is not None
        assert comment.status is CommentStatus.PENDING
        assert comment.client_ip

"""Webhooks end to end: a real worker decides, delivers signed events to a local HTTP server,
and retries an endpoint that fails; the delivery log records every attempt."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from moderation.api.app import create_app
from moderation.models import Comment
from moderation.webhooks import service
from moderation.webhooks.models import WebhookDelivery
from moderation.webhooks.signing import HEADER, verify
from tests.helpers import Receiver, running_worker, wait_for, webhook_receiver
from workers.app import make_celery

URL = "/api/v1/articles/ketamine-infusion-therapy/comments"
CRISIS = "I can't go on anymore, I want to end my life tonight"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as r:
        yield r


def _log(backend: Any, endpoint_id: int) -> list[WebhookDelivery]:
    with backend.session() as session:
        return list(service.recent_deliveries(session=session, endpoint_id=endpoint_id))


def _decoded(record: dict[str, Any]) -> Any:
    return json.loads(record["body"])


def test_signed_events_are_delivered_and_a_failing_endpoint_is_retried(backend, receiver, tmp_path):
    with backend.session() as session, session.begin():
        ok = service.add_endpoint(session=session, url=receiver.url + "/hook")
        flaky = service.add_endpoint(session=session, url=receiver.url + "/fail", events=["comment.approved"])
        ok_id, ok_secret, flaky_id, flaky_secret = ok.id, ok.secret, flaky.id, flaky.secret

    settings = backend.settings()
    with TestClient(create_app(settings, celery=make_celery(settings))) as client:
        fine = client.post(URL, json={"body": "My clinic monitored me closely. It helped a lot."}).json()
        crisis = client.post(URL, json={"body": CRISIS}).json()

    with running_worker(backend.env(), tmp_path / "worker.log", "--concurrency=2"):
        wait_for(lambda: len(receiver.events("/hook")) >= 3, timeout=40, what="three events on /hook")
        wait_for(
            lambda: any(not r["failed"] for r in receiver.events("/fail")),
            timeout=40,
            what="a retry to succeed",
        )
        # The attempt is logged after the answer arrives: wait for it before stopping the worker.
        wait_for(lambda: len(_log(backend, flaky_id)) == 3, timeout=20, what="three logged attempts")
        wait_for(lambda: len(_log(backend, ok_id)) >= 3, timeout=20, what="logged deliveries")

    hook = receiver.events("/hook")
    by_type = {(_decoded(r)["type"], _decoded(r)["data"]["comment"]["id"]) for r in hook}
    assert ("comment.approved", fine["id"]) in by_type
    assert ("comment.flagged", crisis["id"]) in by_type
    assert ("comment.urgent", crisis["id"]) in by_type
    for record in hook:
        headers = record["headers"]
        assert verify(ok_secret, record["body"], headers[HEADER]) > 0
        assert headers["X-Moderation-Event"] == _decoded(record)["type"]
    urgent = next(_decoded(r) for r in hook if _decoded(r)["type"] == "comment.urgent")
    assert urgent["data"]["comment"]["decision"]["categories"] == ["crisis"]
    assert urgent["data"]["comment"]["priority"] == "urgent"

    flaky_posts = receiver.events("/fail")
    assert [r["failed"] for r in flaky_posts] == [True, True, False]
    assert len({_decoded(r)["id"] for r in flaky_posts}) == 1  # the same event, retried
    assert [r["headers"]["X-Moderation-Attempt"] for r in flaky_posts] == ["1", "2", "3"]
    for record in flaky_posts:
        verify(flaky_secret, record["body"], record["headers"][HEADER])

    with backend.session() as session:
        log = service.recent_deliveries(session=session, endpoint_id=flaky_id)
        assert [(d.attempt, d.status_code) for d in reversed(log)] == [(1, 500), (2, 500), (3, 200)]
        assert (log[1].error or "").startswith("HTTP 500")
        ok_log = service.recent_deliveries(session=session, endpoint_id=ok_id)
        assert {d.status_code for d in ok_log} == {200}
        assert session.scalar(select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == ok_id))


def test_moderator_events_are_emitted_after_commit_only(backend, receiver, tmp_path):
    """emit_event (for the review engineer): nothing is sent on rollback; sent after commit."""
    settings = backend.settings()
    celery = make_celery(settings)
    with backend.session() as session, session.begin():
        endpoint = service.add_endpoint(
            session=session, url=receiver.url + "/hook", events=["comment.moderated"]
        )
        secret = endpoint.secret
    with TestClient(create_app(settings, celery=celery, publish=lambda _id: None)) as client:
        comment_id = uuid.UUID(client.post(URL, json={"body": "a fine comment"}).json()["id"])

    send = service.celery_sender(celery)
    with backend.session() as session:
        comment = session.get_one(Comment, comment_id)
        assert service.emit_event(session, "comment.moderated", comment, send=send) == 1
        session.rollback()
    with backend.session() as session, session.begin():
        comment = session.get_one(Comment, comment_id)
        assert service.emit_event(session, "comment.approved", comment, send=send) == 0  # not subscribed
        service.emit_event(session, "comment.moderated", comment, send=send)

    with running_worker(backend.env(), tmp_path / "worker.log", "--concurrency=1"):
        wait_for(lambda: receiver.events("/hook"), timeout=30, what="the moderated event")
        # Give a wrongly queued rolled-back event time to arrive too.
        wait_for(lambda: b"succeeded" in (tmp_path / "worker.log").read_bytes(), timeout=30, what="task done")
    events = receiver.events("/hook")
    assert len(events) == 1
    assert _decoded(events[0])["type"] == "comment.moderated"
    verify(secret, events[0]["body"], events[0]["headers"][HEADER])


def test_unknown_event_is_refused(backend):
    with backend.session() as session, pytest.raises(service.UnknownEventError):
        service.add_endpoint(session=session, url="http://127.0.0.1:1/x", events=["comment.deleted"])


def test_delivery_log_keeps_the_last_attempts_per_endpoint(backend, monkeypatch):
    monkeypatch.setattr(service, "KEEP_DELIVERIES", 3)
    with backend.session() as session, session.begin():
        a = service.add_endpoint(session=session, url="http://127.0.0.1:1/a").id
        b = service.add_endpoint(session=session, url="http://127.0.0.1:1/b").id
        for attempt in range(1, 6):
            for endpoint_id in (a, b):
                service.record_delivery(
                    session=session,
                    endpoint_id=endpoint_id,
                    event="comment.approved",
                    event_id="evt_1",
                    attempt=attempt,
                    status_code=500,
                    error="HTTP 500",
                    duration_ms=1,
                )
    with backend.session() as session:
        for endpoint_id in (a, b):
            log = service.recent_deliveries(session=session, endpoint_id=endpoint_id)
            assert [d.attempt for d in log] == [5, 4, 3]

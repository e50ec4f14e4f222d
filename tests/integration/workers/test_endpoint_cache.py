"""The worker's per-process cache of webhook endpoints: a newly added endpoint receives the
pipeline's events within ENDPOINT_CACHE_SECONDS, with a clock we control and with a real
worker whose cache was already filled when the endpoint was added."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from moderation.api.app import create_app
from moderation.models import CommentStatus
from moderation.webhooks import service
from moderation.webhooks.service import ENDPOINT_CACHE_SECONDS, EndpointCache
from tests.conftest import Backend
from tests.helpers import Receiver, running_worker, wait_for, webhook_receiver
from workers.app import make_celery

URL = "/api/v1/articles/ketamine-infusion-therapy/comments"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_snapshot_is_read_again_after_the_ttl(backend: Backend) -> None:
    clock = Clock()
    cache = EndpointCache(ttl=5.0, clock=clock)
    assert cache.active(backend.engine) == ()
    with backend.session() as session, session.begin():
        first = service.add_endpoint(session=session, url="http://127.0.0.1:1/a", events=["comment.flagged"])
        first_id = first.id
    clock.now += 4.9
    assert cache.active(backend.engine) == ()  # still the old snapshot
    clock.now += 0.1
    (subscription,) = cache.active(backend.engine)
    assert subscription.endpoint_id == first_id
    assert subscription.events == frozenset({"comment.flagged"})
    with backend.session() as session, session.begin():
        service.remove_endpoint(session=session, endpoint_id=first_id)
    clock.now += 5.0
    assert cache.active(backend.engine) == ()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as r:
        yield r


def test_an_endpoint_added_while_the_worker_runs_gets_events_within_the_ttl(
    postgres_backend: Backend, receiver: Receiver, tmp_path: object
) -> None:
    backend = postgres_backend
    settings = backend.settings()
    celery = make_celery(settings)
    log = tmp_path / "worker.log"  # type: ignore[operator]
    with (
        TestClient(create_app(settings, celery=celery)) as client,
        running_worker(backend.env(), log, "--concurrency=1"),
    ):

        def submit(body: str) -> uuid.UUID:
            return uuid.UUID(client.post(URL, json={"body": body}).json()["id"])

        def decided(comment_id: uuid.UUID) -> bool:
            status = client.get(f"/api/v1/comments/{comment_id}").json()["status"]
            return bool(status != CommentStatus.PENDING.value)

        # The worker decides a comment with no endpoint: its cache now holds "none". (Wait for
        # the task to finish, not only for the decision: the hook that reads the endpoints
        # runs after the commit.)
        first = submit("A first, ordinary comment.")
        wait_for(lambda: decided(first), timeout=30, what="the first decision")
        wait_for(lambda: b"succeeded" in log.read_bytes(), timeout=30, what="the first task to finish")
        with backend.session() as session, session.begin():
            service.add_endpoint(session=session, url=receiver.url + "/hook")
        added = time.monotonic()
        time.sleep(ENDPOINT_CACHE_SECONDS)
        # Every decision from now on reaches the new endpoint.
        second = submit("A second, ordinary comment.")
        wait_for(lambda: receiver.events("/hook"), timeout=30, what="the event for the new endpoint")
    assert time.monotonic() - added < ENDPOINT_CACHE_SECONDS + 30
    bodies = [r["body"] for r in receiver.events("/hook")]
    assert [str(second) in body.decode() for body in bodies] == [True]
    assert str(first) not in b"".join(bodies).decode()

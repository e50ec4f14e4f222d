"""requeue-stuck on SQLite and PostgreSQL: republish, give up to a human, survive a dead broker."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select

from moderation.api.app import create_app
from moderation.jobs.runner import run_job
from moderation.models import Comment, CommentStatus, Decision, DecisionSource
from moderation.queue import publisher
from moderation.review.policy import Priority
from tests.helpers import running_worker, wait_for
from tests.integration.jobs.conftest import LATER, add_comments, decision_counts, snapshot
from workers.app import make_celery

URL = "/api/v1/articles/ketamine-infusion-therapy/comments"


def test_stuck_comments_are_published_again_once(backend, sessions, t0):
    stuck = add_comments(backend, 7)
    fresh = add_comments(backend, 2, when=t0 + LATER)  # published "just now" by the job's clock
    decided = add_comments(backend, 2, status=CommentStatus.APPROVED)
    published: list[uuid.UUID] = []
    settings = backend.settings(jobs_batch_size=3)  # three batches
    _, result = run_job(
        "requeue-stuck", sessions=sessions, settings=settings, now=t0 + LATER, publish=published.append
    )
    assert sorted(published) == sorted(stuck)
    assert result.counts == {"requeued": 7}
    with backend.session() as session:
        attempts = dict(session.execute(select(Comment.id, Comment.attempts)).all())
    assert {attempts[i] for i in stuck} == {2}
    assert {attempts[i] for i in fresh + decided} == {1}
    # Idempotent: the same clock finds nothing left to do.
    before = snapshot(backend)
    _, again = run_job(
        "requeue-stuck", sessions=sessions, settings=settings, now=t0 + LATER, publish=published.append
    )
    assert again.counts == {}
    assert len(published) == 7
    assert snapshot(backend) == before


def test_dry_run_changes_nothing(backend, sessions, t0):
    add_comments(backend, 4)
    add_comments(backend, 2, attempts=9)
    before = snapshot(backend)
    published: list[uuid.UUID] = []
    _, result = run_job(
        "requeue-stuck",
        sessions=sessions,
        settings=backend.settings(jobs_batch_size=2),
        now=t0 + LATER,
        dry_run=True,
        publish=published.append,
    )
    assert result.counts == {"would_requeue": 4, "would_flag": 2}
    assert len(result.changes) == 6
    assert published == []
    assert snapshot(backend) == before


def test_after_max_attempts_a_human_gets_it(backend, sessions, t0):
    [normal] = add_comments(backend, 1, attempts=3)
    [crisis] = add_comments(backend, 1, attempts=3, priority=Priority.URGENT)
    published: list[uuid.UUID] = []
    settings = backend.settings(jobs_requeue_max_attempts=3)
    _, result = run_job(
        "requeue-stuck", sessions=sessions, settings=settings, now=t0 + LATER, publish=published.append
    )
    assert result.counts == {"flagged": 2}
    assert published == []
    with backend.session() as session:
        comments = {c.id: c for c in session.scalars(select(Comment))}
        decisions = session.scalars(select(Decision).order_by(Decision.id)).all()
    assert comments[normal].status is CommentStatus.FLAGGED
    assert comments[normal].priority is Priority.HIGH
    assert comments[crisis].priority is Priority.URGENT  # crisis stays at the head of the queue
    assert comments[normal].version == 2
    assert [(d.source, d.decision) for d in decisions] == [(DecisionSource.SYSTEM, CommentStatus.FLAGGED)] * 2
    assert decisions[0].reasons[0]["code"] == "system.processing_failed"
    assert decisions[0].reasons[0]["category"] == "system"
    # Never twice.
    _, again = run_job(
        "requeue-stuck", sessions=sessions, settings=settings, now=t0 + LATER, publish=published.append
    )
    assert again.counts == {}
    assert decision_counts(backend) == {normal: 1, crisis: 1}


def test_broker_down_stops_the_run_and_gives_the_attempt_back(backend, sessions, t0):
    ids = add_comments(backend, 5)
    calls: list[uuid.UUID] = []

    def flaky(comment_id: uuid.UUID) -> None:
        calls.append(comment_id)
        if len(calls) > 2:
            raise ConnectionError("broker unreachable")

    _, result = run_job(
        "requeue-stuck", sessions=sessions, settings=backend.settings(), now=t0 + LATER, publish=flaky
    )
    assert result.counts == {"requeued": 2, "publish_failed": 3}
    assert len(calls) == 3  # stopped at the first failure
    with backend.session() as session:
        attempts = sorted(session.scalars(select(Comment.attempts).where(Comment.id.in_(ids))))
    assert attempts == [1, 1, 1, 2, 2]


def test_lost_publishes_are_all_decided_by_a_real_worker(backend, sessions, tmp_path, t0):
    """The API's publish fails after commit for 50 comments; requeue-stuck gets all decided."""
    settings = backend.settings()

    def broker_unreachable(comment_id: uuid.UUID) -> None:
        del comment_id
        raise ConnectionError("broker unreachable")

    app = create_app(settings, celery=make_celery(settings), publish=broker_unreachable)
    with TestClient(app, raise_server_exceptions=False) as client:
        ids = []
        for i in range(50):
            response = client.post(URL, json={"body": f"Thanks for the careful article, part {i}."})
            assert response.status_code == 202
            ids.append(uuid.UUID(response.json()["id"]))
    with backend.session() as session:
        pending = session.scalars(select(Comment.id).where(Comment.status == CommentStatus.PENDING)).all()
    assert sorted(pending) == sorted(ids)

    celery = make_celery(settings)
    _, result = run_job(
        "requeue-stuck",
        sessions=sessions,
        settings=backend.settings(jobs_batch_size=20),
        now=t0 + LATER,
        publish=publisher(celery),
    )
    assert result.counts == {"requeued": 50}
    with running_worker(backend.env(), tmp_path / "worker.log", "--concurrency=2"):
        wait_for(
            lambda: len(decision_counts(backend)) == 50,
            timeout=60,
            what="all 50 comments decided",
        )
    assert decision_counts(backend) == dict.fromkeys(ids, 1)
    with backend.session() as session:
        statuses = set(session.scalars(select(Comment.status)))
    assert CommentStatus.PENDING not in statuses

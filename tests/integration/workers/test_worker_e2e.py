"""Submit -> store -> Redis queue -> real worker process -> decided, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from moderation.api.app import create_app
from moderation.models import Comment, CommentStatus, Decision
from moderation.queue import TASK_MODERATE
from tests.helpers import running_worker, wait_for
from workers.app import make_celery

URL = "/api/v1/articles/ketamine-infusion-therapy/comments"


@pytest.fixture
def api(backend):
    settings = backend.settings()
    celery = make_celery(settings)
    with TestClient(create_app(settings, celery=celery), raise_server_exceptions=False) as client:
        yield client, celery


def statuses(backend, ids):
    with backend.session() as session:
        rows = session.execute(select(Comment.id, Comment.status).where(Comment.id.in_(ids))).all()
    return {row.id: row.status for row in rows}


def decision_counts(backend, ids):
    with backend.session() as session:
        rows = session.execute(
            select(Decision.comment_id, func.count())
            .where(Decision.comment_id.in_(ids))
            .group_by(Decision.comment_id)
        ).all()
    return dict(rows)


def test_submitted_comments_are_decided_by_a_real_worker(backend, api, tmp_path):
    client, _ = api
    bodies = ["My clinic monitored my blood pressure. It helped.", "thanks for the article", "great read"]
    ids = [uuid.UUID(client.post(URL, json={"body": b}).json()["id"]) for b in bodies]
    with running_worker(backend.env(), tmp_path / "worker.log", "--concurrency=2"):
        wait_for(
            lambda: all(s is not CommentStatus.PENDING for s in statuses(backend, ids).values()),
            timeout=30,
            what="comments decided",
        )
    assert decision_counts(backend, ids) == dict.fromkeys(ids, 1)
    for comment_id in ids:
        status = client.get(f"/api/v1/comments/{comment_id}").json()
        assert status["status"] in ("approved", "flagged", "rejected")
        assert status["decided_at"]


def test_duplicate_deliveries_decide_once(backend, api, tmp_path):
    client, celery = api
    ids = [uuid.UUID(client.post(URL, json={"body": f"comment {i}"}).json()["id"]) for i in range(20)]
    for comment_id in ids:  # two more deliveries of every task
        celery.send_task(TASK_MODERATE, args=[str(comment_id)])
        celery.send_task(TASK_MODERATE, args=[str(comment_id)])
    with running_worker(backend.env(), tmp_path / "worker.log", "--concurrency=2"):
        wait_for(lambda: len(decision_counts(backend, ids)) == len(ids), timeout=30, what="decisions")
        # Let the duplicates drain: the queue must be empty before counting.
        wait_for(lambda: celery.connection().default_channel.client.llen("moderation") == 0, timeout=30)
    assert decision_counts(backend, ids) == dict.fromkeys(ids, 1)


def test_moderator_decision_is_not_overwritten_by_a_late_task(backend, api, tmp_path):
    client, _ = api
    comment_id = uuid.UUID(
        client.post(URL, json={"body": "buy cheap pills http://a.example http://b.example"}).json()["id"]
    )
    # A moderator decides before any worker has run.
    with backend.session() as session, session.begin():
        session.execute(
            update(Comment)
            .where(Comment.id == comment_id)
            .values(status=CommentStatus.APPROVED, version=Comment.version + 1)
        )
    with running_worker(backend.env(), tmp_path / "worker.log", "--concurrency=1"):
        wait_for(
            lambda: (
                b"moderation.moderate_comment" in (tmp_path / "worker.log").read_bytes()
                and b"succeeded" in (tmp_path / "worker.log").read_bytes()
            ),
            timeout=30,
            what="the late task to run",
        )
    assert statuses(backend, [comment_id]) == {comment_id: CommentStatus.APPROVED}
    assert decision_counts(backend, [comment_id]) == {}

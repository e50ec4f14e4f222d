"""Each job run twice at once (two threads, two connections): the end state of one run.

Run with the job lock (the second run skips or finds nothing left) and without it, which
proves the row-level safety on its own: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
conditional updates on SQLite.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from moderation.accounts.models import Moderator, Role
from moderation.jobs.anonymise import PREFIX
from moderation.jobs.models import CrisisNotice, JobLock, JobRun, PurgedComment
from moderation.jobs.runner import run_job
from moderation.models import Comment, CommentStatus, Decision
from moderation.review.policy import Priority
from moderation.review.queue_models import Claim
from tests.integration.jobs.conftest import LATER, add_comments

N = 120


def twice_at_once(name, backend, sessions, now, *, use_lock, **kwargs: Any) -> list[dict[str, int]]:
    settings = backend.settings(jobs_batch_size=10, jobs_max_batches=50)
    barrier = threading.Barrier(2)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def go() -> None:
        barrier.wait()
        try:
            _, result = run_job(
                name, sessions=sessions, settings=settings, now=now, use_lock=use_lock, **kwargs
            )
            results.append(result.counts)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert len(results) == 2
    if use_lock:
        assert sum(r.get("skipped_locked", 0) for r in results) <= 1
    return results


def total(results: list[dict[str, int]], key: str) -> int:
    return sum(r.get(key, 0) for r in results)


@pytest.fixture(params=[True, False], ids=["locked", "row-level"])
def use_lock(request) -> bool:
    return bool(request.param)


def test_requeue_stuck(backend, sessions, t0, use_lock):
    ids = add_comments(backend, N)
    flag = add_comments(backend, 10, attempts=5)
    published: list[uuid.UUID] = []
    lock = threading.Lock()

    def publish(comment_id: uuid.UUID) -> None:
        with lock:
            published.append(comment_id)

    results = twice_at_once(
        "requeue-stuck", backend, sessions, t0 + LATER, use_lock=use_lock, publish=publish
    )
    assert total(results, "requeued") == N
    assert total(results, "flagged") == 10
    assert Counter(published) == Counter(ids)  # each exactly once
    with backend.session() as session:
        attempts = dict(session.execute(select(Comment.id, Comment.attempts)).all())
        decisions = Counter(session.scalars(select(Decision.comment_id)))
    assert {attempts[i] for i in ids} == {2}
    assert decisions == Counter(flag)


def test_escalate(backend, sessions, t0, use_lock):
    ids = add_comments(backend, N, status=CommentStatus.FLAGGED, priority=Priority.LOW)
    crisis = add_comments(backend, 5, status=CommentStatus.FLAGGED, priority=Priority.URGENT)
    sent: list[dict[str, Any]] = []
    results = twice_at_once(
        "escalate",
        backend,
        sessions,
        t0 + LATER,
        use_lock=use_lock,
        notify=sent.append,
    )
    assert total(results, "raised") == N
    assert total(results, "notified") == 5
    with backend.session() as session:
        priorities = dict(session.execute(select(Comment.id, Comment.priority)).all())
        notices = set(session.scalars(select(CrisisNotice.comment_id)))
    assert {priorities[i] for i in ids} == {Priority.NORMAL}  # one level, not two
    assert notices == set(crisis)


def test_purge(backend, sessions, t0, use_lock):
    spam = add_comments(backend, N // 2, status=CommentStatus.REJECTED, categories=["spam"])
    other = add_comments(backend, N // 2, status=CommentStatus.REJECTED, categories=["abuse"])
    results = twice_at_once("purge", backend, sessions, t0 + LATER, use_lock=use_lock)
    assert total(results, "deleted_spam") == N // 2
    assert total(results, "deleted_other") == N // 2
    with backend.session() as session:
        assert session.scalar(select(func.count()).select_from(Comment)) == 0
        stones = Counter(session.scalars(select(PurgedComment.id)))
    assert stones == Counter(spam + other)


def test_anonymise(backend, sessions, t0, use_lock):
    add_comments(backend, N, author_email="sam@example.org", client_ip="203.0.113.9", user_agent="UA")
    results = twice_at_once("anonymise", backend, sessions, t0 + LATER, use_lock=use_lock)
    assert total(results, "anonymised") == N
    with backend.session() as session:
        values = session.execute(select(Comment.author_email, Comment.client_ip, Comment.user_agent)).all()
    assert len(set(values)) == 1  # all hashed once, to the same values
    assert all(v.startswith(PREFIX) for v in values[0])


def test_release_claims(backend, sessions, t0, use_lock):
    ids = add_comments(backend, 40, status=CommentStatus.FLAGGED)
    with backend.session() as session, session.begin():
        moderator = Moderator(name="sam", role=Role.MODERATOR)
        session.add(moderator)
        session.flush()
        session.add_all(Claim(comment_id=i, moderator_id=moderator.id, expires_at=t0) for i in ids)
    results = twice_at_once("release-claims", backend, sessions, t0 + timedelta(minutes=1), use_lock=use_lock)
    assert total(results, "released") == 40
    with backend.session() as session:
        assert session.scalar(select(func.count()).select_from(Claim)) == 0


def test_lock_lets_one_run_through(backend, sessions, t0):
    """With the lock held, a second run records a skip and touches nothing."""
    from moderation.jobs.runner import job_lock

    add_comments(backend, 3)
    settings = backend.settings()
    with job_lock(settings, sessions, "requeue-stuck") as held:
        assert held
        published: list[uuid.UUID] = []
        _, result = run_job(
            "requeue-stuck", sessions=sessions, settings=settings, now=t0 + LATER, publish=published.append
        )
    assert result.counts == {"skipped_locked": 1}
    assert published == []
    # Released: the next run goes through.
    _, result = run_job(
        "requeue-stuck", sessions=sessions, settings=settings, now=t0 + LATER, publish=published.append
    )
    assert result.counts == {"requeued": 3}
    with backend.session() as session:
        runs = session.execute(select(JobRun.name, JobRun.counts).order_by(JobRun.id)).all()
    assert [tuple(r) for r in runs] == [
        ("requeue-stuck", {"skipped_locked": 1}),
        ("requeue-stuck", {"requeued": 3}),
    ]


def test_redis_lock(backend, sessions):
    from moderation.jobs.runner import job_lock

    settings = backend.settings(redis_url=backend.broker_url)
    with job_lock(settings, sessions, "purge") as first:
        with job_lock(settings, sessions, "purge") as second:
            assert first
            assert not second
        with job_lock(settings, sessions, "anonymise") as other:
            assert other  # one lock per job
    with job_lock(settings, sessions, "purge") as again:
        assert again
    with backend.session() as session:  # Redis held it: no database lock rows were written
        assert session.execute(select(func.count()).select_from(JobLock)).scalar_one() == 0


def test_expired_db_lock_is_taken_over(sessions):
    from moderation.jobs.locks import db_lock

    with db_lock(sessions, "escalate", ttl_seconds=-1) as first:  # expired at once: holder died
        assert first
        with db_lock(sessions, "escalate", ttl_seconds=60) as second:
            assert second
            with db_lock(sessions, "escalate", ttl_seconds=60) as third:
                assert not third

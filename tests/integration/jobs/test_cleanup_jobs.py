"""escalate, purge, anonymise, release-claims, retrain on SQLite and PostgreSQL, injected clock."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from kombu import Connection  # type: ignore[attr-defined]
from sqlalchemy import func, select

from moderation.accounts.models import Moderator, Role
from moderation.jobs.anonymise import PREFIX, keyed_hash
from moderation.jobs.base import JobUnavailableError
from moderation.jobs.models import CrisisNotice, JobRun, PurgedComment
from moderation.jobs.runner import run_job
from moderation.models import Comment, CommentStatus, Decision, LabeledExample
from moderation.review.policy import Priority
from moderation.review.queue_models import Claim
from tests.integration.jobs.conftest import LATER, add_comments, snapshot


def run(name, backend, sessions, now, **kwargs: Any):
    settings = kwargs.pop("settings", None) or backend.settings()
    return run_job(name, sessions=sessions, settings=settings, now=now, **kwargs)[1]


# --- escalate --------------------------------------------------------------------------------


def priorities(backend) -> dict[Any, Priority]:
    with backend.session() as session:
        return dict(session.execute(select(Comment.id, Comment.priority)).all())


def test_escalate_raises_one_level_per_review_target(backend, sessions, t0):
    low = add_comments(backend, 2, status=CommentStatus.FLAGGED, priority=Priority.LOW)
    normal = add_comments(backend, 3, status=CommentStatus.FLAGGED, priority=Priority.NORMAL)
    high = add_comments(backend, 1, status=CommentStatus.FLAGGED, priority=Priority.HIGH)
    approved = add_comments(backend, 1, status=CommentStatus.APPROVED, priority=Priority.LOW)
    recent = add_comments(backend, 1, status=CommentStatus.FLAGGED, priority=Priority.LOW, when=t0 + LATER)
    settings = backend.settings(jobs_batch_size=2)
    now = t0 + LATER
    assert run("escalate", backend, sessions, now, settings=settings).counts == {"raised": 5}
    p = priorities(backend)
    assert {p[i] for i in low} == {Priority.NORMAL}
    assert {p[i] for i in normal + high} == {Priority.HIGH}
    assert p[approved[0]] is Priority.LOW
    assert p[recent[0]] is Priority.LOW
    # Same clock: nothing more. One review target later: one more level, capped at high.
    before = snapshot(backend)
    assert run("escalate", backend, sessions, now, settings=settings).counts == {}
    assert snapshot(backend) == before
    later = now + timedelta(seconds=settings.jobs_review_target + 1)
    assert run("escalate", backend, sessions, later, settings=settings).counts == {"raised": 3}
    p = priorities(backend)
    assert {p[i] for i in low} == {Priority.HIGH}
    assert p[recent[0]] is Priority.NORMAL
    # A raise never bumps the version a moderator's decision is checked against.
    with backend.session() as session:
        assert set(session.scalars(select(Comment.version))) == {1}


def test_escalate_dry_run_changes_nothing(backend, sessions, t0):
    add_comments(backend, 3, status=CommentStatus.FLAGGED, priority=Priority.NORMAL)
    add_comments(backend, 1, status=CommentStatus.FLAGGED, priority=Priority.URGENT, categories=["crisis"])
    before = snapshot(backend)
    sent: list[dict[str, Any]] = []
    result = run(
        "escalate",
        backend,
        sessions,
        t0 + LATER,
        dry_run=True,
        notify=sent.append,
        settings=backend.settings(jobs_batch_size=2, jobs_webhook_url="http://127.0.0.1:9/hook"),
    )
    assert result.counts == {"would_raise": 3, "would_notify": 1}
    assert sent == []
    assert snapshot(backend) == before
    with backend.session() as session:
        assert session.scalar(select(func.count()).select_from(CrisisNotice)) == 0


def test_waiting_crisis_item_notifies_once(backend, sessions, t0, caplog):
    [waiting] = add_comments(backend, 1, status=CommentStatus.FLAGGED, priority=Priority.URGENT)
    [pending] = add_comments(backend, 1, priority=Priority.URGENT)  # crisis seen at submission
    [claimed] = add_comments(backend, 1, status=CommentStatus.FLAGGED, priority=Priority.URGENT)
    add_comments(  # flagged an hour "later": not waiting yet
        backend,
        1,
        status=CommentStatus.FLAGGED,
        priority=Priority.URGENT,
        when=t0 + LATER + timedelta(hours=1),
    )
    now = t0 + LATER + timedelta(seconds=1)
    with backend.session() as session, session.begin():
        moderator = Moderator(name="alex", role=Role.MODERATOR)
        session.add(moderator)
        session.flush()
        session.add(
            Claim(comment_id=claimed, moderator_id=moderator.id, expires_at=now + timedelta(minutes=5))
        )
    sent: list[dict[str, Any]] = []
    settings = backend.settings(jobs_webhook_url="http://127.0.0.1:9/hook")
    with caplog.at_level(logging.WARNING, logger="moderation.jobs.escalate"):
        result = run("escalate", backend, sessions, now, notify=sent.append, settings=settings)
    assert result.counts == {"notified": 2, "webhooks_queued": 2}
    assert {p["comment_id"] for p in sent} == {str(waiting), str(pending)}
    assert all(p["event"] == "comment.crisis_waiting" and "body" not in p for p in sent)
    assert sum(r.levelno == logging.WARNING for r in caplog.records) == 2
    assert run("escalate", backend, sessions, now, notify=sent.append, settings=settings).counts == {}
    assert len(sent) == 2
    # The claim lapses: now the third one notifies, once.
    after = now + timedelta(minutes=6)
    result = run("escalate", backend, sessions, after, notify=sent.append, settings=settings)
    assert result.counts == {"notified": 1, "webhooks_queued": 1}
    assert sent[-1]["comment_id"] == str(claimed)


def test_notice_is_forgotten_when_the_webhook_cannot_be_queued(backend, sessions, t0):
    add_comments(backend, 1, status=CommentStatus.FLAGGED, priority=Priority.URGENT)
    settings = backend.settings(jobs_webhook_url="http://127.0.0.1:9/hook")

    def broker_down(payload: dict[str, Any]) -> None:
        raise ConnectionError(payload["comment_id"])

    result = run("escalate", backend, sessions, t0 + LATER, notify=broker_down, settings=settings)
    assert result.counts == {"notified": 1, "notify_failed": 1}
    sent: list[dict[str, Any]] = []
    result = run("escalate", backend, sessions, t0 + LATER, notify=sent.append, settings=settings)
    assert result.counts == {"notified": 1, "webhooks_queued": 1}
    assert len(sent) == 1


# --- purge -----------------------------------------------------------------------------------


def test_purge_deletes_old_rejected_spam_first_and_keeps_tombstones(backend, sessions, t0):
    spam = add_comments(backend, 3, status=CommentStatus.REJECTED, categories=["spam"], body="buy pills now")
    other = add_comments(backend, 2, status=CommentStatus.REJECTED, categories=["abuse"], body="you idiot")
    kept_recent = add_comments(
        backend, 1, status=CommentStatus.REJECTED, categories=["spam"], when=t0 + LATER
    )
    kept_flagged = add_comments(backend, 1, status=CommentStatus.FLAGGED, categories=["spam"])
    # One batch of 2 per run: the first run takes spam only.
    settings = backend.settings(jobs_batch_size=2, jobs_max_batches=1)
    now = t0 + LATER
    first = run("purge", backend, sessions, now, settings=settings)
    assert first.counts["deleted_spam"] == 2
    assert "deleted_other" not in first.counts
    settings = backend.settings(jobs_batch_size=2)
    second = run("purge", backend, sessions, now, settings=settings)
    assert second.counts["deleted_spam"] == 1
    assert second.counts["deleted_other"] == 2
    with backend.session() as session:
        remaining = set(session.scalars(select(Comment.id)))
        tombstones = {t.id: t for t in session.scalars(select(PurgedComment))}
        decisions = set(session.scalars(select(Decision.comment_id)))
    assert remaining == set(kept_recent + kept_flagged)
    assert set(tombstones) == set(spam + other)
    assert decisions == remaining  # decision rows went with their comments
    stone = tombstones[spam[0]]
    assert stone.status == "rejected"
    assert stone.categories == ["spam"]
    assert stone.decisions[0]["codes"] == ["spam.links"]
    assert stone.decisions[0]["source"] == "pipeline"
    text = repr(stone.decisions) + repr(stone.categories)
    assert "buy pills" not in text
    assert "secret words" not in text
    assert "reader" not in text
    # Idempotent.
    before = snapshot(backend)
    again = run("purge", backend, sessions, now, settings=settings)
    assert again.counts.get("deleted_spam", 0) == 0
    assert again.counts.get("deleted_other", 0) == 0
    assert snapshot(backend) == before


def test_purge_dry_run_changes_nothing(backend, sessions, t0):
    add_comments(backend, 3, status=CommentStatus.REJECTED, categories=["spam"])
    add_comments(backend, 1, status=CommentStatus.REJECTED, categories=[])
    before = snapshot(backend)
    result = run(
        "purge", backend, sessions, t0 + LATER, dry_run=True, settings=backend.settings(jobs_batch_size=2)
    )
    assert result.counts["would_delete_spam"] == 3
    assert result.counts["would_delete_other"] == 1
    assert snapshot(backend) == before


def test_purge_removes_old_job_runs(backend, sessions, t0):
    run("anonymise", backend, sessions, t0)
    run("anonymise", backend, sessions, t0)
    with backend.session() as session, session.begin():  # a run whose worker died long ago
        session.add(JobRun(name="escalate", started_at=t0 - timedelta(hours=1), counts={}))
    with backend.session() as session:
        assert session.scalar(select(func.count()).select_from(JobRun)) == 3
    result = run("purge", backend, sessions, t0 + LATER)
    assert result.counts["deleted_job_runs"] == 3
    with backend.session() as session:
        assert session.scalars(select(JobRun.name)).all() == ["purge"]  # only this run is left


def test_purge_deletes_expired_moderator_sessions(backend, sessions, t0):
    from moderation.accounts.models import WebSession

    with backend.session() as session, session.begin():
        moderator = Moderator(name="lee", role=Role.MODERATOR)
        session.add(moderator)
        session.flush()
        for i, expires in enumerate((t0 - timedelta(hours=1), t0 + timedelta(hours=1))):
            session.add(WebSession(moderator_id=moderator.id, token_hash=f"{i:064d}", expires_at=expires))
    dry = run("purge", backend, sessions, t0, dry_run=True)
    assert dry.counts["would_delete_sessions"] == 1
    result = run("purge", backend, sessions, t0)
    assert result.counts["deleted_sessions"] == 1
    with backend.session() as session:
        assert session.scalars(select(WebSession.expires_at)).all() == [t0 + timedelta(hours=1)]
    assert "deleted_sessions" not in run("purge", backend, sessions, t0).counts  # idempotent


def test_purge_deletes_consumed_messages_of_the_embedded_broker(sqlite_backend, tmp_path, t0):
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    with Connection(broker) as conn:
        queue = conn.SimpleQueue("moderation")
        for i in range(5):
            queue.put({"n": i})
        for _ in range(3):
            queue.get(timeout=5).ack()
        queue.close()
    settings = sqlite_backend.settings(broker_url=broker, jobs_batch_size=2)
    from sqlalchemy.orm import sessionmaker

    sessions = sessionmaker(bind=sqlite_backend.engine)
    dry = run_job("purge", sessions=sessions, settings=settings, now=t0, dry_run=True)[1]
    assert dry.counts["would_delete_broker_messages"] == 3
    result = run_job("purge", sessions=sessions, settings=settings, now=t0)[1]
    assert result.counts["deleted_broker_messages"] == 3
    with Connection(broker) as conn:
        queue = conn.SimpleQueue("moderation")
        left = [queue.get(timeout=5).payload["n"] for _ in range(2)]
        queue.close()
    assert sorted(left) == [3, 4]  # unconsumed messages untouched


# --- anonymise -------------------------------------------------------------------------------


def pii(backend) -> dict[Any, tuple[Any, ...]]:
    with backend.session() as session:
        rows = session.execute(
            select(Comment.id, Comment.author_email, Comment.client_ip, Comment.user_agent, Comment.body)
        ).all()
    return {r.id: r[1:] for r in rows}


def test_anonymise_hashes_old_pii_once(backend, sessions, t0):
    fields: dict[str, Any] = {
        "author_email": "sam@example.org",
        "client_ip": "203.0.113.7",
        "user_agent": "Firefox/130",
    }
    old = add_comments(backend, 3, status=CommentStatus.APPROVED, **fields)
    partial = add_comments(backend, 1, author_email=None, client_ip="198.51.100.1")
    recent = add_comments(backend, 1, when=t0 + LATER, **fields)
    settings = backend.settings(jobs_batch_size=2)
    result = run("anonymise", backend, sessions, t0 + LATER, settings=settings)
    assert result.counts == {
        "anonymised": 4,
        "hashed_author_email": 3,
        "hashed_client_ip": 4,
        "hashed_user_agent": 3,
    }
    rows = pii(backend)
    key = settings.resolved_secret_key()
    for comment_id in old:
        email, ip, agent, body = rows[comment_id]
        assert email == keyed_hash(key, "author_email", "sam@example.org")
        assert ip == keyed_hash(key, "client_ip", "203.0.113.7")
        assert len(ip) <= 64
        assert agent.startswith(PREFIX)
        assert "Firefox" not in agent
        assert body.startswith("comment number")
    # Same address, same hash: repeats stay countable; nothing identifying left.
    assert len({rows[i][0] for i in old}) == 1
    assert rows[partial[0]][0] is None
    assert rows[partial[0]][1].startswith(PREFIX)
    assert rows[recent[0]][:3] == ("sam@example.org", "203.0.113.7", "Firefox/130")
    before = snapshot(backend)
    assert run("anonymise", backend, sessions, t0 + LATER, settings=settings).counts == {}
    assert snapshot(backend) == before
    assert keyed_hash(key, "client_ip", rows[old[0]][1]) == rows[old[0]][1]


def test_anonymise_dry_run_changes_nothing(backend, sessions, t0):
    add_comments(backend, 3, author_email="a@example.org")
    before = snapshot(backend)
    result = run(
        "anonymise", backend, sessions, t0 + LATER, dry_run=True, settings=backend.settings(jobs_batch_size=2)
    )
    assert result.counts == {"would_anonymise": 3}
    assert snapshot(backend) == before


# --- release-claims, retrain -----------------------------------------------------------------


def test_release_claims_releases_expired_ones(backend, sessions, t0):
    ids = add_comments(backend, 3, status=CommentStatus.FLAGGED)
    with backend.session() as session, session.begin():
        moderator = Moderator(name="kim", role=Role.MODERATOR)
        session.add(moderator)
        session.flush()
        for i, comment_id in enumerate(ids):
            session.add(
                Claim(comment_id=comment_id, moderator_id=moderator.id, expires_at=t0 + timedelta(minutes=i))
            )
    now = t0 + timedelta(seconds=90)  # two of three expired
    assert run("release-claims", backend, sessions, now, dry_run=True).counts == {"would_release": 2}
    with backend.session() as session:
        assert session.scalar(select(func.count()).select_from(Claim)) == 3
    assert run("release-claims", backend, sessions, now).counts == {"released": 2}
    assert run("release-claims", backend, sessions, now).counts == {"released": 0}
    with backend.session() as session:
        assert session.scalars(select(Claim.comment_id)).all() == [ids[2]]


def test_retrain_dry_run_counts_labels(backend, sessions, t0):
    from moderation.learning.data import has_shared_data

    if not has_shared_data():
        pytest.skip("shared data sets not found: retrain cannot run")
    with backend.session() as session, session.begin():
        session.add_all(
            [LabeledExample(text="buy now", label="spam"), LabeledExample(text="thanks", label="ham")]
        )
    result = run("retrain", backend, sessions, t0, dry_run=True)
    assert result.counts == {"labels": 2}
    assert "plus 2 moderator labels" in result.changes[0]


def test_a_failing_job_records_its_error(backend, sessions, t0, monkeypatch):
    def missing(**_: Any) -> None:
        raise JobUnavailableError("retrain needs moderation.learning (No module named 'x')")

    monkeypatch.setattr("moderation.jobs.retrain.retrain", missing)
    with pytest.raises(JobUnavailableError):
        run("retrain", backend, sessions, t0)
    with backend.session() as session:
        record = session.scalars(select(JobRun)).one()
    assert record.name == "retrain"
    assert record.finished_at is not None
    assert record.error.startswith("JobUnavailableError: retrain needs moderation.learning")

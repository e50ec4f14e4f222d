"""The decision hot path (moderation.review.decide) on real SQLite and PostgreSQL, with the
connection the worker uses: on PostgreSQL an autocommit engine, where the decision is one
statement."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select, update

from moderation.db import make_engine, utcnow
from moderation.models import Article, Comment, CommentStatus, Decision, DecisionSource
from moderation.review.decide import decide, load_pending, record_verdict
from moderation.review.pipeline import get_pipeline
from moderation.review.policy import Decision as Outcome
from moderation.review.policy import Priority, Verdict
from tests.conftest import Backend


@pytest.fixture
def engine(backend: Backend) -> Iterator[sa.Engine]:
    """The engine the worker would use (workers/engine.py), on the test database."""
    if backend.name == "postgres":
        e = make_engine(backend.url, isolation_level="AUTOCOMMIT", pool_pre_ping=False, pool_size=2)
        yield e
        e.dispose()
    else:
        yield backend.engine


def pending(backend: Backend, body: str = "A calm, ordinary comment about the article.") -> uuid.UUID:
    now = utcnow()
    comment_id = uuid.uuid4()
    with backend.session() as session, session.begin():
        article_id = session.scalar(select(Article.id))
        session.add(
            Comment(
                id=comment_id,
                article_id=article_id,
                author_name="Sam",
                body=body,
                status=CommentStatus.PENDING,
                priority=Priority.NORMAL,
                created_at=now,
                updated_at=now,
            )
        )
    return comment_id


def stored(backend: Backend, comment_id: uuid.UUID) -> tuple[Comment, list[Decision]]:
    with backend.session() as session:
        comment = session.get_one(Comment, comment_id)
        decisions = list(session.scalars(select(Decision).where(Decision.comment_id == comment_id)))
    return comment, decisions


def test_decides_a_pending_comment_once(backend: Backend, engine: sa.Engine) -> None:
    comment_id = pending(backend, "buy cheap pills at http://a.example http://b.example now!!!")
    with engine.begin() as conn:
        decided = decide(conn, comment_id, get_pipeline())
    assert decided is not None
    comment, decisions = stored(backend, comment_id)
    assert [d.id for d in decisions] == [decided.decision_id]
    decision = decisions[0]
    assert comment.status is decided.status is decision.decision
    assert comment.status is not CommentStatus.PENDING
    assert comment.priority is decided.priority is decision.priority
    assert comment.version == 2
    assert comment.decided_at == comment.updated_at == decision.created_at == decided.decided_at
    assert decision.source is DecisionSource.PIPELINE
    assert decision.categories == decided.categories
    assert "spam" in decision.categories
    assert decision.reasons == decided.reasons
    assert decision.reasons[0]["code"]
    assert decision.versions["policy"] == "default"
    assert decision.scores
    assert decided.comment.article_slug == "ketamine-infusion-therapy"
    # A duplicate or late delivery finds nothing pending and writes nothing.
    with engine.begin() as conn:
        assert decide(conn, comment_id, get_pipeline()) is None
    assert len(stored(backend, comment_id)[1]) == 1


def test_a_moderator_decision_is_never_overwritten(backend: Backend, engine: sa.Engine) -> None:
    comment_id = pending(backend)
    verdict = Verdict(Outcome.REJECTED, Priority.LOW, (), (), {}, {"test": "1"})
    with engine.begin() as conn:
        loaded = load_pending(conn, comment_id)
    assert loaded is not None  # loaded while pending ...
    with backend.session() as session, session.begin():  # ... then a moderator approves it
        session.execute(
            update(Comment)
            .where(Comment.id == comment_id)
            .values(status=CommentStatus.APPROVED, version=Comment.version + 1)
        )
    with engine.begin() as conn:
        assert record_verdict(conn, comment_id, verdict, now=utcnow()) is None
    comment, decisions = stored(backend, comment_id)
    assert comment.status is CommentStatus.APPROVED
    assert decisions == []


def test_a_failed_decision_insert_leaves_the_comment_pending(backend: Backend, engine: sa.Engine) -> None:
    """The status change and the decision row are one unit: if the insert fails, the
    comment is still pending (PostgreSQL: one statement; SQLite: one transaction)."""
    comment_id = pending(backend)
    if backend.name == "postgres":
        ddl = [
            "CREATE FUNCTION refuse_decision() RETURNS trigger AS "
            "$$ BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse BEFORE INSERT ON decisions "
            "FOR EACH ROW EXECUTE FUNCTION refuse_decision()",
        ]
        undo = ["DROP TRIGGER IF EXISTS refuse ON decisions", "DROP FUNCTION IF EXISTS refuse_decision()"]
    else:
        ddl = ["CREATE TRIGGER refuse BEFORE INSERT ON decisions BEGIN SELECT RAISE(ABORT, 'refused'); END"]
        undo = ["DROP TRIGGER IF EXISTS refuse"]
    with backend.engine.begin() as conn:
        for statement in ddl:
            conn.exec_driver_sql(statement)
    try:
        with pytest.raises(sa.exc.DatabaseError, match="refused"), engine.begin() as conn:
            decide(conn, comment_id, get_pipeline())
    finally:
        with backend.engine.begin() as conn:
            for statement in undo:
                conn.exec_driver_sql(statement)
    comment, decisions = stored(backend, comment_id)
    assert comment.status is CommentStatus.PENDING
    assert comment.version == 1
    assert decisions == []
    with engine.begin() as conn:  # and the next delivery decides it
        assert decide(conn, comment_id, get_pipeline()) is not None


def test_racing_deliveries_store_one_decision(backend: Backend, engine: sa.Engine) -> None:
    """Both deliveries loaded the comment while it was pending; only one write wins."""
    ids = [pending(backend, f"comment number {i}") for i in range(20)]
    verdict = Verdict(Outcome.APPROVED, Priority.NORMAL, (), (), {}, {"test": "1"})
    with engine.begin() as conn:
        won = [record_verdict(conn, i, verdict, now=utcnow()) for i in ids]
    with engine.begin() as conn:
        again = [record_verdict(conn, i, verdict, now=utcnow()) for i in ids]
    assert all(won)
    assert again == [None] * len(ids)
    with backend.session() as session:
        counts = session.execute(
            select(Decision.comment_id, func.count()).group_by(Decision.comment_id)
        ).all()
    assert dict(counts) == dict.fromkeys(ids, 1)

"""Helpers for the job tests: rows written straight into the real databases, a fixed clock."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from moderation.db import utcnow
from moderation.migrate import DEFAULT_ARTICLE_SLUG
from moderation.models import Article, Comment, CommentStatus, Decision, DecisionSource
from moderation.review.policy import Priority

# The job's clock: far enough ahead that every row written "now" is old by any threshold.
LATER = timedelta(days=400)


@pytest.fixture
def sessions(backend) -> sessionmaker[Session]:
    return sessionmaker(bind=backend.engine, expire_on_commit=False)


@pytest.fixture
def t0() -> datetime:
    return utcnow()


def article_id(backend) -> int:
    with backend.session() as session:
        return int(session.scalars(select(Article.id).where(Article.slug == DEFAULT_ARTICLE_SLUG)).one())


def add_comments(
    backend,
    n: int,
    *,
    status: CommentStatus = CommentStatus.PENDING,
    priority: Priority = Priority.NORMAL,
    when: datetime | None = None,
    categories: list[str] | None = None,
    **fields: Any,
) -> list[uuid.UUID]:
    """``n`` comments written at ``when``; decided ones get a pipeline decision row."""
    when = when or utcnow()
    aid = article_id(backend)
    ids = []
    with backend.session() as session, session.begin():
        for i in range(n):
            values: dict[str, Any] = {
                "author_name": f"reader {i}",
                "body": f"comment number {i} about ketamine",
                "created_at": when,
                "updated_at": when,
                "decided_at": None if status is CommentStatus.PENDING else when,
                "attempts": 1,
                "last_enqueued_at": when,
            }
            values |= fields
            comment = Comment(id=uuid.uuid4(), article_id=aid, status=status, priority=priority, **values)
            session.add(comment)
            session.flush()
            if status is not CommentStatus.PENDING:
                session.add(
                    Decision(
                        comment_id=comment.id,
                        source=DecisionSource.PIPELINE,
                        decision=status,
                        priority=priority,
                        categories=categories or [],
                        reasons=[{"code": "spam.links", "span": [0, 4], "detail": "secret words"}],
                        created_at=when,
                    )
                )
            ids.append(comment.id)
    return ids


def snapshot(backend) -> list[tuple[Any, ...]]:
    """Every comment's mutable state, for "same end state" comparisons."""
    with backend.session() as session:
        rows = session.execute(
            select(
                Comment.id,
                Comment.status,
                Comment.priority,
                Comment.attempts,
                Comment.version,
                Comment.author_email,
                Comment.client_ip,
                Comment.user_agent,
            ).order_by(Comment.id)
        ).all()
    return [tuple(r) for r in rows]


def decision_counts(backend) -> dict[uuid.UUID, int]:
    with backend.session() as session:
        rows = session.execute(select(Decision.comment_id, func.count()).group_by(Decision.comment_id)).all()
    return dict(rows)

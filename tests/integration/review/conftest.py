"""Fixtures for the moderator review tests: moderators with tokens, seeded queue items."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from moderation.accounts import service as accounts
from moderation.accounts.models import Role
from moderation.db import utcnow
from moderation.migrate import DEFAULT_ARTICLE_SLUG
from moderation.models import Article, Comment, CommentStatus, Decision, DecisionSource
from moderation.review.policy import Priority
from tests.conftest import Backend

PASSWORD = "correct horse battery"


@dataclass
class Team:
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}


@pytest.fixture
def team(backend: Backend) -> Team:
    """alice and bob (moderators), root (admin), each with an API token and PASSWORD."""
    out = Team()
    with backend.session() as session, session.begin():
        for name, role in (("alice", Role.MODERATOR), ("bob", Role.MODERATOR), ("root", Role.ADMIN)):
            moderator = accounts.create_moderator(session=session, name=name, role=role, password=PASSWORD)
            out.tokens[name] = accounts.issue_token(session=session, moderator=moderator)
    return out


def crisis_reason(body: str, phrase: str) -> dict[str, Any]:
    start = body.index(phrase)
    return {
        "code": "crisis.ideation",
        "category": "crisis",
        "rule_id": "crisis.test",
        "span": [start, start + len(phrase)],
        "detail": "crisis language",
        "score": 1.0,
    }


def reason(body: str, phrase: str, code: str, category: str) -> dict[str, Any]:
    start = body.index(phrase)
    return {
        "code": code,
        "category": category,
        "rule_id": f"{category}.test",
        "span": [start, start + len(phrase)],
        "detail": f"{category} finding",
        "score": 0.9,
    }


def seed_comment(
    backend: Backend,
    body: str,
    *,
    status: CommentStatus = CommentStatus.FLAGGED,
    priority: Priority = Priority.NORMAL,
    categories: tuple[str, ...] = (),
    reasons: list[dict[str, Any]] | None = None,
    author: str = "Reader",
    email: str | None = None,
    created_at: datetime | None = None,
    article_slug: str = DEFAULT_ARTICLE_SLUG,
) -> uuid.UUID:
    """A comment as the pipeline would have left it: row plus one pipeline decision."""
    now = created_at or utcnow()
    with backend.session() as session, session.begin():
        article_id = session.scalar(select(Article.id).where(Article.slug == article_slug))
        assert article_id is not None
        comment = Comment(
            id=uuid.uuid4(),
            article_id=article_id,
            author_name=author,
            author_email=email,
            client_ip="203.0.113.7",
            body=body,
            status=status,
            priority=priority,
            created_at=now,
            updated_at=now,
            decided_at=None if status is CommentStatus.PENDING else now,
            version=2 if status is not CommentStatus.PENDING else 1,
        )
        session.add(comment)
        session.flush()
        if status is not CommentStatus.PENDING:
            session.add(
                Decision(
                    comment_id=comment.id,
                    source=DecisionSource.PIPELINE,
                    decision=status,
                    priority=priority,
                    categories=list(categories),
                    scores={},
                    reasons=reasons or [],
                    versions={"policy": "default"},
                    created_at=now,
                )
            )
        return comment.id


def ago(minutes: float) -> datetime:
    return utcnow() - timedelta(minutes=minutes)


def page_login(client: TestClient, name: str, password: str = PASSWORD) -> Any:
    """Sign in through the login form as a browser would; returns the response."""
    form = client.get("/moderate/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None, form.text
    return client.post(
        "/moderate/login",
        data={"name": name, "password": password, "csrf_token": token.group(1)},
        follow_redirects=False,
    )


def page_csrf(client: TestClient) -> str:
    page = client.get("/moderate")
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert match is not None, page.text[:2000]
    return match.group(1)

"""Service functions for comments: create, moderate, read. They take ``*, session`` and
only flush; the caller (request dependency, task wrapper) owns the transaction."""

from __future__ import annotations

import base64
import binascii
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, cast

from sqlalchemy import Connection, Table, and_, bindparam, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from moderation.clients.behaviour import BehaviourStore, Sighting
from moderation.db import enqueue_after_commit, utcnow
from moderation.filters.types import AuthorFacts, Category
from moderation.models import Article, Comment, CommentStatus, Decision
from moderation.review.decide import CommentFields, FactsProvider, policy_from
from moderation.review.decide import comment_input as comment_input  # re-exported
from moderation.review.decide import reason_dict as reason_dict  # re-exported (jobs/requeue.py)
from moderation.review.policy import PolicyConfig, Priority

log = logging.getLogger(__name__)
Publish = Callable[[uuid.UUID], None]


class NotFoundError(LookupError):
    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"{what} {key!s} not found")
        self.what = what


@dataclass(frozen=True, slots=True)
class NewComment:
    body: str
    author_name: str
    author_email: str | None = None
    author_url: str | None = None
    parent_id: uuid.UUID | None = None
    client_ip: str | None = None
    user_agent: str | None = None
    idempotency_key: str | None = None


def get_article(*, session: Session, slug: str) -> Article:
    article = session.scalar(select(Article).where(Article.slug == slug))
    if article is None:
        raise NotFoundError("article", slug)
    return article


def policy_for(article: Article, base: PolicyConfig) -> PolicyConfig:
    """The article's policy: the defaults with its overrides applied, versioned."""
    return policy_from(article.slug, article.policy, article.policy_version, base)


class _HasId(Protocol):
    @property
    def id(self) -> int: ...


@dataclass(frozen=True, slots=True)
class StoredComment:
    """What the submission answers with: the stored (or, on a replayed key, existing) comment."""

    id: uuid.UUID
    status: CommentStatus
    priority: Priority
    created_at: datetime


# Pre-built Core statements: the submission path stores one row and needs no ORM unit of work.
_COMMENTS = cast(Table, Comment.__table__)
_INSERT = insert(_COMMENTS)
_PARENT_ARTICLE = select(Comment.article_id).where(Comment.id == bindparam("parent_id"))
_BY_KEY = select(Comment.id, Comment.status, Comment.priority, Comment.created_at).where(
    Comment.article_id == bindparam("article_id"), Comment.idempotency_key == bindparam("key")
)


def create_comment(
    *,
    session: Session,
    article: _HasId,
    new: NewComment,
    publish: Publish,
    urgent: bool = False,
) -> tuple[StoredComment, bool]:
    """Store a pending comment and publish its moderation task after commit.

    ``article`` is an :class:`~moderation.models.Article` or anything with its ``id`` (the
    API passes a cached :class:`~moderation.articles.cache.ArticleRef`). Returns
    ``(comment, created)``; with an idempotency key already used on this article the
    existing comment is returned and nothing is stored or published again.
    """
    conn = session.connection()
    if new.idempotency_key:
        existing = _by_idempotency_key(conn, article.id, new.idempotency_key)
        if existing is not None:
            return existing, False
    if new.parent_id is not None:
        parent_article = conn.scalar(_PARENT_ARTICLE, {"parent_id": new.parent_id})
        if parent_article is None or parent_article != article.id:
            raise NotFoundError("parent comment", new.parent_id)
    now = utcnow()
    comment = StoredComment(
        id=uuid.uuid4(),
        status=CommentStatus.PENDING,
        # Crisis language seen at submission goes to the head of the queue at once.
        priority=Priority.URGENT if urgent else Priority.NORMAL,
        created_at=now,
    )
    row = {
        "id": comment.id,
        "article_id": article.id,
        "parent_id": new.parent_id,
        "author_name": new.author_name,
        "author_email": new.author_email,
        "author_url": new.author_url,
        "client_ip": new.client_ip,
        "user_agent": new.user_agent,
        "body": new.body,
        "censored_body": None,
        "status": comment.status,
        "priority": comment.priority,
        "idempotency_key": new.idempotency_key,
        "created_at": now,
        "updated_at": now,
        "decided_at": None,
        "attempts": 1,
        "last_enqueued_at": now,
    }
    if new.idempotency_key:
        # A concurrent request with the same key may win the race: the unique constraint decides.
        try:
            with conn.begin_nested():
                conn.execute(_INSERT, row)
        except IntegrityError:
            existing = _by_idempotency_key(conn, article.id, new.idempotency_key)
            if existing is None:
                raise
            return existing, False
    else:
        conn.execute(_INSERT, row)
    comment_id = comment.id
    enqueue_after_commit(session, lambda: publish(comment_id))
    return comment, True


def _by_idempotency_key(conn: Connection, article_id: int, key: str) -> StoredComment | None:
    row = conn.execute(_BY_KEY, {"article_id": article_id, "key": key}).first()
    return None if row is None else StoredComment(row.id, row.status, row.priority, row.created_at)


def behaviour_facts(store: BehaviourStore) -> FactsProvider:
    """Facts from the behaviour store (duplicates, floods, first comment) for one comment.

    If the store is unreachable the comment is still decided, on its text alone.
    """

    def facts(comment: CommentFields) -> AuthorFacts:
        sighting = Sighting(
            text=comment.body,
            author=comment.author_name,
            email=comment.author_email,
            ip=comment.client_ip,
            comment_id=str(comment.id),
        )
        try:
            return store.observe(sighting)
        except Exception:
            log.warning("behaviour store unavailable; deciding on the text alone", exc_info=True)
            return AuthorFacts()

    return facts


def latest_decision(*, session: Session, comment_id: uuid.UUID) -> Decision | None:
    return session.scalar(
        select(Decision).where(Decision.comment_id == comment_id).order_by(Decision.id.desc()).limit(1)
    )


def is_crisis(decision: Decision | None) -> bool:
    return decision is not None and Category.CRISIS.value in decision.categories


# --- public listing -------------------------------------------------------------------------


def encode_cursor(created_at: datetime, comment_id: uuid.UUID) -> str:
    raw = f"{created_at.isoformat()}|{comment_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _, ident = raw.partition("|")
        return datetime.fromisoformat(when), uuid.UUID(ident)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError("invalid cursor") from exc


def published_thread(
    *, session: Session, article: Article, limit: int, cursor: str | None
) -> tuple[Sequence[Comment], dict[uuid.UUID, list[Comment]], str | None]:
    """A page of approved top-level comments (oldest first) and their approved replies."""
    query = select(Comment).where(
        Comment.article_id == article.id,
        Comment.status == CommentStatus.APPROVED,
        Comment.parent_id.is_(None),
    )
    if cursor:
        when, ident = decode_cursor(cursor)
        query = query.where(
            or_(Comment.created_at > when, and_(Comment.created_at == when, Comment.id > ident))
        )
    roots = session.scalars(query.order_by(Comment.created_at, Comment.id).limit(limit + 1)).all()
    next_cursor = None
    if len(roots) > limit:
        roots = roots[:limit]
        next_cursor = encode_cursor(roots[-1].created_at, roots[-1].id)
    children: dict[uuid.UUID, list[Comment]] = {}
    frontier = [c.id for c in roots]
    while frontier:
        replies = session.scalars(
            select(Comment)
            .where(Comment.parent_id.in_(frontier), Comment.status == CommentStatus.APPROVED)
            .order_by(Comment.created_at, Comment.id)
        ).all()
        for reply in replies:
            if reply.parent_id is not None:  # always, by the query; narrows the type
                children.setdefault(reply.parent_id, []).append(reply)
        frontier = [r.id for r in replies]
    return roots, children, next_cursor


def get_article_by_id(*, session: Session, article_id: int) -> Article:
    return session.get_one(Article, article_id)

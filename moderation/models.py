"""Core tables: articles, comments, decision records and labeled examples.

Other domains keep their tables beside their code (``moderation/accounts/models.py``...)
on the same :class:`~moderation.db.Base`; ``moderation.all_models`` imports them all for
Alembic.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from moderation.db import Base, utcnow
from moderation.review.policy import Priority


class CommentStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    FLAGGED = "flagged"
    REJECTED = "rejected"


class DecisionSource(StrEnum):
    PIPELINE = "pipeline"
    MODERATOR = "moderator"
    SYSTEM = "system"


def _enum(cls: type[StrEnum], name: str) -> Enum:
    # Stored by value, as plain strings (no native enum type to migrate on PostgreSQL).
    return Enum(cls, name=name, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Per-article overrides of the policy defaults (see moderation.articles); None = defaults.
    policy: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    policy_version: Mapped[int] = mapped_column(default=1)


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        UniqueConstraint("article_id", "idempotency_key", name="uq_comments_idempotency"),
        Index("ix_comments_article_status_created", "article_id", "status", "created_at"),
        Index("ix_comments_status_created", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(80))
    author_email: Mapped[str | None] = mapped_column(String(320))
    author_url: Mapped[str | None] = mapped_column(String(2048))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    body: Mapped[str] = mapped_column(Text)
    # Published text when mild profanity is masked; the original body stays for moderators.
    censored_body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[CommentStatus] = mapped_column(_enum(CommentStatus, "comment_status"))
    priority: Mapped[Priority] = mapped_column(_enum(Priority, "comment_priority"))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    decided_at: Mapped[datetime | None]
    # Times the moderation task was published; requeue-stuck gives up after a limit.
    attempts: Mapped[int] = mapped_column(default=0)
    last_enqueued_at: Mapped[datetime | None]
    # Bumped on every state change; moderators' decisions carry it (optimistic concurrency).
    version: Mapped[int] = mapped_column(default=1)

    article: Mapped[Article] = relationship(lazy="raise")
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="comment", order_by="Decision.id", lazy="raise", passive_deletes=True
    )


class Decision(Base):
    """One decision record per comment per run (pipeline) or per moderator action."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    source: Mapped[DecisionSource] = mapped_column(_enum(DecisionSource, "decision_source"))
    decision: Mapped[CommentStatus] = mapped_column(_enum(CommentStatus, "decision_value"))
    priority: Mapped[Priority] = mapped_column(_enum(Priority, "decision_priority"))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    scores: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    # [{"code", "category", "rule_id", "span": [start, end] | None, "detail", "score"}]
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # {"check name": "version", ..., "policy": "..."}
    versions: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    actor: Mapped[str | None] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    comment: Mapped[Comment] = relationship(back_populates="decisions", lazy="raise")


class LabeledExample(Base):
    """A text labeled by a moderator (or a reporter), fed to ``moderation train``."""

    __tablename__ = "labeled_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(16))  # spam | ham | abuse | ok
    source: Mapped[str] = mapped_column(String(32), default="moderator")
    comment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

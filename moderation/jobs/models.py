"""Tables of the scheduled jobs: run records, job locks, purge tombstones, crisis notices."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from moderation.db import Base


class JobRun(Base):
    """One run of one job (by beat, a worker or ``moderation jobs run``): what it did, how long."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_name_started", "name", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    # {"requeued": 12, "flagged": 1, ...}; {"skipped_locked": 1} when another run held the lock.
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    dry_run: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(Text)


class JobLock(Base):
    """Database-row lock per job, used when no Redis URL is configured."""

    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]


class PurgedComment(Base):
    """What survives a purged comment: its decisions, without text or author.

    Decision rows cascade with their comment, so ``purge`` writes this tombstone first. It
    keeps the audit trail (who or what decided, when, why by reason code) and nothing a
    reader wrote or that identifies them.
    """

    __tablename__ = "purged_comments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # the comment's id
    article_id: Mapped[int] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    # [{"source", "decision", "priority", "categories", "codes", "actor", "created_at"}]
    decisions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    purged_at: Mapped[datetime]


class CrisisNotice(Base):
    """A crisis notification sent for a comment: at most one per comment (the primary key)."""

    __tablename__ = "crisis_notices"

    comment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    notified_at: Mapped[datetime]
    webhook: Mapped[bool] = mapped_column(default=False)

"""What every job shares: its context, its result, and batched row selection.

A job is a service function ``(ctx) -> JobResult``. It commits once per batch through
``ctx.sessions`` (each batch is its own transaction, so a crash loses at most one batch and
locks are short) and handles at most ``jobs_max_batches`` batches per run. Rows are taken
with ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two runs at once split the
work; on SQLite (one writer at a time) every write is a conditional update that re-checks
the selection criteria, so a row another run already handled is left alone.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVarTuple

from sqlalchemy import Select
from sqlalchemy.orm import Session, sessionmaker

from moderation.settings import Settings

log = logging.getLogger("moderation.jobs")

Publish = Callable[[uuid.UUID], None]
Notify = Callable[[dict[str, Any]], None]
MAX_CHANGE_LINES = 50
Ts = TypeVarTuple("Ts")


class JobUnavailableError(RuntimeError):
    """The job depends on code that is not installed or not written yet."""


@dataclass(slots=True)
class JobContext:
    sessions: sessionmaker[Session]
    settings: Settings
    now: datetime  # the job's clock: every age is measured from it (tests inject one)
    dry_run: bool = False
    publish: Publish | None = None  # moderation task publisher (requeue-stuck)
    notify: Notify | None = None  # crisis webhook sender (escalate)

    @property
    def batch_size(self) -> int:
        return self.settings.jobs_batch_size

    @property
    def max_batches(self) -> int:
        return self.settings.jobs_max_batches


@dataclass(slots=True)
class JobResult:
    """Counts of what a run did (or, dry, would do) and a sample of the changes in words."""

    counts: dict[str, int] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)

    def add(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def note(self, line: str) -> None:
        if len(self.changes) < MAX_CHANGE_LINES:
            self.changes.append(line)


def lock_rows(session: Session, query: Select[*Ts]) -> Select[*Ts]:
    """``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite relies on conditional writes."""
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def progress(job: str, batch: int, result: JobResult, *, dry_run: bool) -> None:
    log.info(
        "job batch done",
        extra={"job": job, "batch": batch, "counts": dict(result.counts), "dry_run": dry_run},
    )

"""The audit trail: one row per moderator or system action on a comment (or an account).

Rows are append-only; ``comment_id`` is not a foreign key, so the trail of a purged comment
keeps who decided what and when (the purge job clears ``note`` if it quotes the text).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.db import utcnow
from moderation.review.queue_models import AuditEntry

SYSTEM_ACTOR = "system"


def record_audit(
    *,
    session: Session,
    actor: str,
    action: str,
    comment_id: uuid.UUID | None = None,
    moderator_id: int | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    reason: str | None = None,
    note: str | None = None,
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEntry:
    """Append one audit row (flushed, not committed). ``actor`` is a moderator's name or
    ``"system"`` for jobs and reader-report thresholds."""
    entry = AuditEntry(
        created_at=now or utcnow(),
        actor=actor[:120],
        moderator_id=moderator_id,
        action=action[:32],
        comment_id=comment_id,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        note=note,
        details=details or {},
    )
    session.add(entry)
    session.flush()
    return entry


def audit_for_comment(*, session: Session, comment_id: uuid.UUID) -> Sequence[AuditEntry]:
    return session.scalars(
        select(AuditEntry).where(AuditEntry.comment_id == comment_id).order_by(AuditEntry.id)
    ).all()


def _encode(entry_id: int) -> str:
    return base64.urlsafe_b64encode(f"a{entry_id}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("a"):
            raise ValueError(cursor)
        return int(raw[1:])
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError("invalid cursor") from exc


def list_audit(
    *,
    session: Session,
    limit: int,
    cursor: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    comment_id: uuid.UUID | None = None,
) -> tuple[Sequence[AuditEntry], str | None]:
    """Newest first. Raises ``ValueError`` for a cursor this function did not make."""
    query = select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    if comment_id:
        query = query.where(AuditEntry.comment_id == comment_id)
    if cursor:
        query = query.where(AuditEntry.id < _decode(cursor))
    rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit + 1)).all()
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, _encode(rows[-1].id)
    return rows, None

"""Moderator labels: the examples ``moderation train`` learns from besides the shared corpora."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING
from uuid import UUID

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

LABELS = frozenset({"spam", "ham", "abuse", "ok"})


def record_label(*, session: Session, text: str, label: str, comment_id: UUID | None = None) -> None:
    """Store one moderator decision as a labelled example.

    Called by the moderator review endpoints when a comment is approved (``ham``/``ok``) or
    rejected as spam or abuse. Flushes, never commits: the request owns the transaction.
    """
    from moderation.models import LabeledExample

    if label not in LABELS:
        raise ValueError(f"unknown label {label!r}; expected one of {sorted(LABELS)}")
    session.add(LabeledExample(text=text, label=label, source="moderator", comment_id=comment_id))
    session.flush()


def iter_labels(*, session: Session) -> Iterator[tuple[str, str]]:
    """Every stored ``(text, label)`` in insertion order, for :func:`~moderation.learning.train.train`."""
    from sqlalchemy import select

    from moderation.models import LabeledExample

    stmt = select(LabeledExample.text, LabeledExample.label).order_by(LabeledExample.id)
    for text, label in session.execute(stmt):
        yield str(text), str(label)

"""Fingerprints of texts reported through submit-spam / submit-ham."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from moderation.db import Base, utcnow


class TextFingerprint(Base):
    """A normalised-text hash with the label last reported for it (``spam`` or ``ham``).

    comment-check consults it before the classifiers, so a reported text is judged as
    reported on the very next check, without waiting for ``moderation train``.
    """

    __tablename__ = "text_fingerprints"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(8))
    reports: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

"""Akismet-compatible checks: the shared pipeline plus a memory of reported texts.

``comment-check`` runs the same :class:`~moderation.review.pipeline.Pipeline` as the worker
(synchronously, as the protocol requires) and reads the spam memory first: a text reported
with ``submit-spam`` is spam on the very next check, and one reported with ``submit-ham`` is
not, without retraining. Reports are also stored as labeled examples for ``moderation train``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.akismet.models import TextFingerprint
from moderation.db import utcnow
from moderation.filters.normalize import normalize
from moderation.filters.types import Category, CommentInput
from moderation.models import Article, LabeledExample
from moderation.review.pipeline import Pipeline
from moderation.review.policy import PolicyConfig
from moderation.review.service import policy_for

_NOT_WORD = re.compile(r"[\W_]+")
# Below this many word characters a text is too short to remember ("ok", "thanks").
MIN_FINGERPRINT_CHARS = 12


def fingerprint(text: str) -> str | None:
    """A hash of the text's normalised form without spacing, punctuation or case: near-duplicates
    that differ only in those (or in confusable characters, mapped by ``normalize``) match.
    The ``text`` view, not ``folded``: leet folding would turn "!!" into letters."""
    squashed = _NOT_WORD.sub("", normalize(text).text.text)
    if len(squashed) < MIN_FINGERPRINT_CHARS:
        return None
    return hashlib.sha256(squashed.encode()).hexdigest()


def remembered(*, session: Session, text: str) -> str | None:
    key = fingerprint(text)
    if key is None:
        return None
    return session.scalar(select(TextFingerprint.label).where(TextFingerprint.fingerprint == key))


def report(*, session: Session, text: str, label: str) -> None:
    """Record a ``spam``/``ham`` report: a labeled example and the fingerprint memory."""
    _record_label(session, text, label)
    key = fingerprint(text)
    if key is None:
        return
    row = session.get(TextFingerprint, key)
    now = utcnow()
    if row is None:
        session.add(TextFingerprint(fingerprint=key, label=label, reports=1, created_at=now, updated_at=now))
    else:
        row.label = label
        row.reports += 1
        row.updated_at = now
    session.flush()


def _record_label(session: Session, text: str, label: str) -> None:
    try:
        from moderation.learning.store import record_label
    except ImportError:  # the label store is optional; the table is not
        session.add(LabeledExample(text=text, label=label, source="akismet", created_at=utcnow()))
        return
    record_label(session=session, text=text, label=label)


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    spam: bool
    discard: bool
    reason: str


def check(
    *, session: Session, pipeline: Pipeline, comment: CommentInput, article: Article | None
) -> CheckOutcome:
    memory = remembered(session=session, text=comment.text)
    if memory == "spam":
        return CheckOutcome(spam=True, discard=True, reason="reported-spam")
    if memory == "ham":
        return CheckOutcome(spam=False, discard=False, reason="reported-ham")
    config: PolicyConfig = policy_for(article, pipeline.config) if article else pipeline.config
    verdict = pipeline.run(comment, config)
    score = verdict.scores.get("spam_combined", 0.0)
    if Category.SPAM in verdict.categories:
        return CheckOutcome(spam=True, discard=score >= config.spam_reject_threshold, reason="classifier")
    return CheckOutcome(spam=False, discard=False, reason="classifier")

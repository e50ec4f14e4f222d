"""Verdict policy: turns check results into a decision and a priority. Pure.

The order of precedence is the product's promise to readers:

1. crisis language is never rejected and never auto-published: flagged, ``urgent``;
2. unsafe medical claims and attacks on people are flagged for a human, ``high``;
3. spam is scored; very likely spam is rejected (or only flagged, per policy), likely
   spam is flagged;
4. mild profanity is flagged or, per policy, published with the word masked;
5. everything else is approved (unless the article is pre-moderated).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from moderation.filters.types import Category, CheckResult, Reason, ReasonCode


class Decision(StrEnum):
    APPROVED = "approved"
    FLAGGED = "flagged"
    REJECTED = "rejected"


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    """Per-deployment defaults, overridable per article."""

    spam_flag_threshold: float = 0.5
    spam_reject_threshold: float = 0.9
    abuse_flag_threshold: float = 0.5
    auto_reject_spam: bool = True
    mild_profanity: Literal["flag", "censor"] = "flag"
    premoderate: bool = False
    disabled_checks: frozenset[str] = field(default_factory=frozenset)
    version: str = "default"


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    priority: Priority
    categories: tuple[Category, ...]
    reasons: tuple[Reason, ...]
    scores: dict[str, float]
    versions: dict[str, str]
    # Set when mild profanity is published masked; the original stays for moderators.
    censored_text: str | None = None


def combine(scores: Iterable[float]) -> float:
    """Noisy-OR: independent weak signals add up, one strong signal dominates."""
    remaining = 1.0
    for s in scores:
        remaining *= 1.0 - min(max(s, 0.0), 1.0)
    return 1.0 - remaining


def censor(text: str, spans: Sequence[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        for i in range(start, end):
            if not chars[i].isspace():
                chars[i] = "*"
    return "".join(chars)


def decide(text: str, results: Sequence[CheckResult], config: PolicyConfig) -> Verdict:
    # Keyed by the category's string value: a StrEnum member hashes through a Python-level
    # __hash__, its value (equal to it, same hash) in C. Most comments have no reason at all.
    by_category: dict[str, list[Reason]] = {}
    scores: dict[str, float] = {}
    versions: dict[str, str] = {"policy": config.version}
    for result in results:
        versions[result.check] = result.version
        scores.update(result.scores)
        for reason in result.reasons:
            key = reason.category._value_
            found = by_category.get(key)
            if found is None:
                by_category[key] = [reason]
            else:
                found.append(reason)

    spam = by_category.get(_SPAM)
    abuse = by_category.get(_ABUSE)
    spam_score = combine([r.score for r in spam]) if spam else 0.0
    abuse_score = combine([r.score for r in abuse]) if abuse else 0.0
    scores["spam_combined"] = round(spam_score, 4)
    scores["abuse_combined"] = round(abuse_score, 4)
    if (
        not by_category
        and not config.premoderate
        and config.abuse_flag_threshold > 0.0
        and config.spam_flag_threshold > 0.0
    ):
        # No reason, so no category and nothing to combine: approved (unless a threshold
        # of 0 makes an empty category decisive, which the full path below handles).
        return Verdict(
            decision=Decision.APPROVED,
            priority=Priority.NORMAL,
            categories=(),
            reasons=(),
            scores=scores,
            versions=versions,
        )

    decisive: list[Category] = []
    decision, priority = Decision.APPROVED, Priority.NORMAL
    censored: str | None = None

    if _CRISIS in by_category:
        decisive.append(Category.CRISIS)
        decision, priority = Decision.FLAGGED, Priority.URGENT
    if _MEDICAL in by_category:
        decisive.append(Category.MEDICAL)
        decision, priority = Decision.FLAGGED, _max_priority(priority, Priority.HIGH)
    if abuse_score >= config.abuse_flag_threshold:
        decisive.append(Category.ABUSE)
        threat = any(r.code is ReasonCode.ABUSE_THREAT for r in by_category[_ABUSE])
        decision = Decision.FLAGGED
        priority = _max_priority(priority, Priority.HIGH if threat else Priority.NORMAL)
    if spam_score >= config.spam_flag_threshold:
        decisive.append(Category.SPAM)
        if decision is Decision.APPROVED:
            reject = config.auto_reject_spam and spam_score >= config.spam_reject_threshold
            decision = Decision.REJECTED if reject else Decision.FLAGGED
            priority = Priority.LOW
    if _PROFANITY in by_category:
        decisive.append(Category.PROFANITY)
        if decision is Decision.APPROVED:
            if config.mild_profanity == "censor":
                spans = [r.span for r in by_category[_PROFANITY] if r.span is not None]
                censored = censor(text, spans)
            else:
                decision = Decision.FLAGGED
    if decision is Decision.APPROVED and config.premoderate:
        decision, priority = Decision.FLAGGED, Priority.LOW
        by_category.setdefault(_SYSTEM, []).append(
            Reason(ReasonCode.PREMODERATE, Category.SYSTEM, None, "article is pre-moderated")
        )
        decisive.append(Category.SYSTEM)
    if decision is Decision.APPROVED:
        priority = Priority.NORMAL

    reasons = tuple(r for cat in decisive for r in by_category.get(cat._value_, ()))
    return Verdict(
        decision=decision,
        priority=priority,
        categories=tuple(decisive),
        reasons=reasons,
        scores=scores,
        versions=versions,
        censored_text=censored,
    )


_SPAM, _ABUSE, _CRISIS, _MEDICAL, _PROFANITY, _SYSTEM = (
    c.value
    for c in (
        Category.SPAM,
        Category.ABUSE,
        Category.CRISIS,
        Category.MEDICAL,
        Category.PROFANITY,
        Category.SYSTEM,
    )
)


def _max_priority(a: Priority, b: Priority) -> Priority:
    return a if PRIORITY_RANK[a] <= PRIORITY_RANK[b] else b

"""Types shared by every pure check.

Checks take a :class:`CommentInput` (plus the :class:`~moderation.filters.normalize.Normalized`
text computed once per comment) and return a :class:`CheckResult`. Nothing in
``moderation.filters`` may import from the database, the API or the workers: word lists,
models and behaviour facts (duplicates, floods) are passed in, never fetched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from moderation.filters.normalize import Normalized


class Category(StrEnum):
    SPAM = "spam"
    PROFANITY = "profanity"
    ABUSE = "abuse"
    MEDICAL = "unsafe_medical"
    CRISIS = "crisis"
    SYSTEM = "system"


class ReasonCode(StrEnum):
    """Every reason a check can give. Stored by value; never renumber, only add."""

    # spam heuristics
    SPAM_LINKS = "spam.links"
    SPAM_SHORTENER = "spam.shortener"
    SPAM_CONTACT = "spam.contact_handle"
    SPAM_REPEATED_CHARS = "spam.repeated_chars"
    SPAM_SHOUTING = "spam.shouting"
    SPAM_PROMOTION = "spam.promotion"
    SPAM_MONEY = "spam.money"
    SPAM_CLASSIFIER = "spam.classifier"
    SPAM_DUPLICATE = "spam.duplicate"
    SPAM_FLOOD = "spam.flood"
    SPAM_FIRST_POST_LINKS = "spam.first_post_links"
    # profanity and abuse
    PROFANITY = "profanity.word"
    ABUSE_INSULT = "abuse.insult"
    ABUSE_THREAT = "abuse.threat"
    ABUSE_CLASSIFIER = "abuse.classifier"
    # unsafe medical claims
    MEDICAL_DOSING = "medical.dosing"
    MEDICAL_SOURCING = "medical.sourcing"
    MEDICAL_STOP_TREATMENT = "medical.stop_treatment"
    MEDICAL_COMBINATION = "medical.combination"
    MEDICAL_FALSE_SAFETY = "medical.false_safety"
    MEDICAL_CURE_CLAIM = "medical.cure_claim"
    MEDICAL_ANTI_CARE = "medical.anti_care"
    # crisis language
    CRISIS_IDEATION = "crisis.ideation"
    CRISIS_PLAN = "crisis.plan"
    CRISIS_SELF_HARM = "crisis.self_harm"
    CRISIS_GOODBYE = "crisis.goodbye"
    CRISIS_LETHAL_DOSE = "crisis.lethal_dose"
    # system and policy
    PROCESSING_FAILED = "system.processing_failed"
    PREMODERATE = "policy.premoderate"
    READER_REPORTS = "policy.reader_reports"


@dataclass(frozen=True, slots=True)
class Reason:
    """One finding. ``span`` indexes the *original* comment text, end exclusive."""

    code: ReasonCode
    category: Category
    span: tuple[int, int] | None = None
    detail: str = ""
    rule_id: str = ""
    # 0..1: how sure the check is that this reason alone makes the comment harmful.
    score: float = 1.0


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: str
    version: str
    reasons: tuple[Reason, ...] = ()
    # Named scores in 0..1 (e.g. {"spam": 0.93}); recorded, never shown publicly.
    scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuthorFacts:
    """Behaviour facts gathered by the service layer before the pure checks run."""

    is_first_comment: bool = False
    recent_from_author: int = 0
    recent_from_ip: int = 0
    recent_same_text: int = 0


@dataclass(frozen=True, slots=True)
class CommentInput:
    text: str
    author_name: str = ""
    author_email: str | None = None
    author_url: str | None = None
    facts: AuthorFacts = field(default_factory=AuthorFacts)


class Check(Protocol):
    """A pure check. Implementations are cheap to call and safe to share across threads."""

    name: str
    version: str

    def __call__(self, comment: CommentInput, norm: Normalized) -> CheckResult: ...

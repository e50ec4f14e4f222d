"""The verdict policy, as one table: reasons in, decision and priority out."""

from __future__ import annotations

import pytest

from moderation.filters.types import Category, CheckResult, Reason, ReasonCode
from moderation.review.policy import Decision, PolicyConfig, Priority, censor, combine, decide

C = ReasonCode


def r(code: ReasonCode, category: Category, score: float = 1.0, span=(0, 4)) -> Reason:
    return Reason(code, category, span, "detail", "rule", score)


CRISIS = r(C.CRISIS_IDEATION, Category.CRISIS)
MEDICAL = r(C.MEDICAL_DOSING, Category.MEDICAL)
SPAM_STRONG = r(C.SPAM_CLASSIFIER, Category.SPAM, 0.97)
SPAM_MEDIUM = r(C.SPAM_LINKS, Category.SPAM, 0.6)
SPAM_WEAK = r(C.SPAM_LINKS, Category.SPAM, 0.2)
INSULT = r(C.ABUSE_INSULT, Category.ABUSE, 0.8)
THREAT = r(C.ABUSE_THREAT, Category.ABUSE, 0.9)
SWEAR = r(C.PROFANITY, Category.PROFANITY)


@pytest.mark.parametrize(
    ("reasons", "config", "decision", "priority"),
    [
        ((), PolicyConfig(), Decision.APPROVED, Priority.NORMAL),
        ((SPAM_WEAK,), PolicyConfig(), Decision.APPROVED, Priority.NORMAL),
        ((SPAM_MEDIUM,), PolicyConfig(), Decision.FLAGGED, Priority.LOW),
        ((SPAM_STRONG,), PolicyConfig(), Decision.REJECTED, Priority.LOW),
        ((SPAM_STRONG,), PolicyConfig(auto_reject_spam=False), Decision.FLAGGED, Priority.LOW),
        # Crisis is never rejected and never auto-published, whatever else fired.
        ((CRISIS,), PolicyConfig(), Decision.FLAGGED, Priority.URGENT),
        ((CRISIS, SPAM_STRONG), PolicyConfig(), Decision.FLAGGED, Priority.URGENT),
        ((CRISIS, MEDICAL, SWEAR), PolicyConfig(mild_profanity="censor"), Decision.FLAGGED, Priority.URGENT),
        ((MEDICAL,), PolicyConfig(), Decision.FLAGGED, Priority.HIGH),
        ((MEDICAL, SPAM_STRONG), PolicyConfig(), Decision.FLAGGED, Priority.HIGH),
        ((INSULT,), PolicyConfig(), Decision.FLAGGED, Priority.NORMAL),
        ((THREAT,), PolicyConfig(), Decision.FLAGGED, Priority.HIGH),
        ((SWEAR,), PolicyConfig(), Decision.FLAGGED, Priority.NORMAL),
        ((SWEAR,), PolicyConfig(mild_profanity="censor"), Decision.APPROVED, Priority.NORMAL),
        ((), PolicyConfig(premoderate=True), Decision.FLAGGED, Priority.LOW),
        ((SPAM_STRONG,), PolicyConfig(premoderate=True), Decision.REJECTED, Priority.LOW),
    ],
)
def test_decide(reasons, config, decision, priority):
    verdict = decide("text that is long enough", [CheckResult("c", "1", tuple(reasons))], config)
    assert (verdict.decision, verdict.priority) == (decision, priority)
    if decision is not Decision.APPROVED:
        assert verdict.categories
        assert verdict.reasons


def test_censor_masks_profanity_and_keeps_the_rest():
    verdict = decide(
        "shit, it worked", [CheckResult("p", "1", (SWEAR,))], PolicyConfig(mild_profanity="censor")
    )
    assert verdict.censored_text == "****, it worked"
    assert censor("a b c", [(0, 5)]) == "* * *"


def test_versions_and_scores_are_recorded():
    verdict = decide(
        "x", [CheckResult("spam", "7", (SPAM_MEDIUM,), {"spam_model": 0.6})], PolicyConfig(version="v9")
    )
    assert verdict.versions == {"policy": "v9", "spam": "7"}
    assert verdict.scores["spam_model"] == 0.6
    assert verdict.scores["spam_combined"] == pytest.approx(0.6)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [((), 0.0), ((0.5,), 0.5), ((0.5, 0.5), 0.75), ((1.0, 0.1), 1.0), ((1.5,), 1.0), ((-1.0,), 0.0)],
)
def test_combine_is_a_noisy_or(scores, expected):
    assert combine(scores) == pytest.approx(expected)

"""The crisis rule pack: one table row per rule, a positive and a hard negative.

Positives must fire the named rule; hard negatives (recovery stories, other people,
advice, figures of speech, research talk) must produce no crisis reason at all.
"""

from __future__ import annotations

import pytest

from moderation.filters.normalize import normalize
from moderation.filters.types import Category, CheckResult, CommentInput
from moderation.review.pipeline import Pipeline
from moderation.review.policy import Decision, Priority
from moderation.rules import load_crisis_check, load_pack

CHECK = load_crisis_check()

POSITIVES = [
    ("crisis.ideation.kill_self", "Honestly I'm thinking about killing myself this week."),
    ("crisis.ideation.want_die", "I just want to die, nothing is working."),
    ("crisis.ideation.hopeless", "There's no reason to keep living like this."),
    ("crisis.ideation.suicidal", "I've been feeling really suicidal since the last infusion wore off."),
    ("crisis.plan.means", "I've been saving up my pills for a month now."),
    ("crisis.self_harm.act", "I started cutting myself again last night."),
    ("crisis.self_harm.mention", "The self harm urges are back and I can't stop them."),
    ("crisis.goodbye.farewell", "This is my last post. Goodbye everyone."),
    ("crisis.lethal_dose.question", "How much ketamine would it take to kill someone my size?"),
    ("crisis.ideation.death_wish", "Some nights I think being dead would be a relief."),
    ("crisis.ideation.end_it", "I wish I could just end it tonight."),
    ("crisis.ideation.broad", "Honestly my life would be simpler if I was not alive."),
    ("crisis.plan.broad", "Been researching methods all week, I know which one."),
]

HARD_NEGATIVES = [
    ("crisis.ideation.kill_self", "Ketamine helped me not end my life, and I'm doing well now."),
    ("crisis.ideation.want_die", "This made me want to die of embarrassment lol, I had the facts so wrong."),
    ("crisis.ideation.hopeless", "I can't go on a waitlist for six months, so I'm paying out of pocket."),
    ("crisis.ideation.suicidal", "I was suicidal before treatment, now I'm better."),
    ("crisis.plan.means", "I have a plan for my infusion days: rest, music and a friend to drive me."),
    ("crisis.self_harm.act", "I used to cut myself as a teenager; I haven't in over ten years now."),
    ("crisis.self_harm.mention", "Clinics should screen people with a history of self harm carefully."),
    ("crisis.goodbye.farewell", "Goodbye to the grey fog, hello to actually enjoying my mornings again!"),
    (
        "crisis.lethal_dose.question",
        "The article says the anesthetic dose is far higher than the depression one.",
    ),
    ("crisis.ideation.death_wish", "I'm dying to know what the long-term studies will show."),
    ("crisis.ideation.end_it", "The nurse had to end it early because my blood pressure went up."),
    ("crisis.ideation.broad", "My phone died halfway through the infusion so I just listened to the rain."),
    ("crisis.plan.broad", "I'm finally going to do it: booked my first infusion for Monday!"),
]

# Hard negatives the issue names explicitly.
ISSUE_NEGATIVES = [
    "this article is killing me",
    "I'd kill for a clinic nearby",
    "my brother killed himself in 2019, i wish he had this option back then",
    "If you are having thoughts of suicide, please call or text 988.",
    "Ketamine reduces suicidal ideation within hours, according to the study.",
]


def run(text: str) -> CheckResult:
    return CHECK(CommentInput(text=text), normalize(text))


@pytest.mark.parametrize(("rule_id", "text"), POSITIVES)
def test_positive_fires_rule(rule_id: str, text: str) -> None:
    fired = {r.rule_id: r for r in run(text).reasons}
    assert rule_id in fired, f"{rule_id} did not fire; got {sorted(fired)}"
    reason = fired[rule_id]
    assert reason.category is Category.CRISIS
    assert reason.code.value == ".".join(rule_id.split(".")[:2])
    start, end = reason.span or (0, 0)
    assert 0 <= start < end <= len(text)
    assert text[start:end].strip()


@pytest.mark.parametrize(("rule_id", "text"), HARD_NEGATIVES)
def test_hard_negative_stays_clean(rule_id: str, text: str) -> None:
    assert run(text).reasons == (), f"{rule_id} negative flagged"


@pytest.mark.parametrize("text", ISSUE_NEGATIVES)
def test_issue_examples_stay_clean(text: str) -> None:
    assert run(text).reasons == ()


def test_every_rule_has_a_positive_and_a_hard_negative() -> None:
    ids = {rule.id for rule in load_pack("crisis").rules}
    assert ids == {r for r, _ in POSITIVES}
    assert ids == {r for r, _ in HARD_NEGATIVES}


@pytest.mark.parametrize(
    "text",
    [
        "kms",
        "i wanna d1e",
        "I want to d.i.e",
        "I want to d\u200bie",
        "I want to dіe",  # Cyrillic i
        "I WANT TO DIE!!!",
    ],
)
def test_slang_and_evasion(text: str) -> None:
    assert run(text).reasons


def test_recovery_story_with_risk_back_is_flagged() -> None:
    # A past-tense story does not excuse a comment that says the risk is back.
    text = "I was suicidal in 2020 and got better, but the thoughts are back again this week."
    assert run(text).reasons


def test_crisis_comment_is_flagged_urgent_never_rejected() -> None:
    pipeline = Pipeline([CHECK])
    verdict = pipeline.run(CommentInput(text="I don't want to be here anymore. Goodbye everyone."))
    assert verdict.decision is Decision.FLAGGED
    assert verdict.priority is Priority.URGENT
    assert verdict.versions["crisis"] == load_pack("crisis").version


def test_pathological_comment_errs_to_flagging() -> None:
    # Past the attempt limit the crisis pack flags rather than gives up.
    text = " ".join(["I was suicidal years ago, now I'm better."] * 60)
    pack = load_pack("crisis")
    assert pack.flag_on_limit
    assert run(text).reasons

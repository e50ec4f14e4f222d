"""The medical-claims rule pack: one table row per rule, a positive and a hard negative.

Positives must fire the named rule (with an original-offset span); hard negatives, which
use the same words safely, must produce no medical reason at all.
"""

from __future__ import annotations

import pytest

from moderation.filters.normalize import normalize
from moderation.filters.types import Category, CheckResult, CommentInput
from moderation.rules import load_medical_check, load_pack

CHECK = load_medical_check()

POSITIVES = [
    ("medical.dosing.amount", "Honestly just snort 40mg at home, that's plenty to feel it."),
    ("medical.dosing.route", "You can inject it intramuscular at home, works faster than the drip."),
    ("medical.dosing.escalate", "If the first one does nothing, double your dose next time."),
    ("medical.dosing.diy", "Skip the clinic and use ketamine at home on your own, it's the same thing."),
    ("medical.sourcing.no_prescription", "You can order it without a prescription if you look around."),
    ("medical.sourcing.where", "I buy my ketamine on the dark web, way cheaper than any clinic."),
    (
        "medical.sourcing.insider",
        "My cousin who works at an animal hospital brings home leftover vials.",
    ),
    ("medical.stop_treatment.quit", "Stop taking your antidepressants once the infusions kick in."),
    ("medical.stop_treatment.replace", "Ketamine can replace your antidepressants completely, trust me."),
    ("medical.combination.mix", "Mix it with a few beers, it makes the trip so much nicer."),
    ("medical.combination.safe_with", "Ketamine is totally fine with xanax, I do it every week."),
    ("medical.false_safety.not_addictive", "Don't worry, ketamine is not addictive at all."),
    ("medical.false_safety.harmless", "Ketamine has zero side effects, it's completely harmless."),
    ("medical.false_safety.groups", "It's perfectly safe during pregnancy, go ahead."),
    ("medical.false_safety.drive", "You can drive home right after your infusion, no problem."),
    ("medical.cure_claim.cure", "Ketamine cures depression, end of story."),
    ("medical.cure_claim.certainty", "One infusion and your depression is gone for good, guaranteed."),
    ("medical.cure_claim.other_disease", "It cures cancer too, they just hide it from us."),
    ("medical.anti_care.distrust", "Don't trust your psychiatrist, they just want to keep you on pills."),
    ("medical.anti_care.rhetorical", "Who needs a psychiatrist when ketamine exists?"),
]

HARD_NEGATIVES = [
    ("medical.dosing.amount", "The article says the usual dose is 0.5 mg/kg over 40 minutes at the clinic."),
    ("medical.dosing.route", "Please never snort it, recreational use wrecks your bladder."),
    ("medical.dosing.escalate", "My psychiatrist doubled my session frequency after reviewing my scores."),
    ("medical.dosing.diy", "I rested at home after the infusion and slept for four hours."),
    ("medical.sourcing.no_prescription", "You can't get it without a prescription, and that's a good thing."),
    ("medical.sourcing.where", "I would never buy ketamine online, it's often cut with who knows what."),
    ("medical.sourcing.insider", "My sister works at a hospital and says the protocol there is very strict."),
    ("medical.stop_treatment.quit", "Don't stop your meds without your psychiatrist."),
    (
        "medical.stop_treatment.replace",
        "My psychiatrist says it works alongside my antidepressant, not instead of it.",
    ),
    ("medical.combination.mix", "Mixing ketamine with alcohol is a terrible idea, please don't."),
    ("medical.combination.safe_with", "Ketamine isn't safe with alcohol, my clinic was very clear about it."),
    ("medical.false_safety.not_addictive", "Is ketamine addictive? I have a history with alcohol."),
    ("medical.false_safety.harmless", "I had no side effects except some nausea the first time."),
    ("medical.false_safety.groups", "Is it safe during pregnancy? My OB said to wait."),
    ("medical.false_safety.drive", "Don't drive after your session, have someone pick you up."),
    ("medical.cure_claim.cure", "It is not a cure, but it gave me room to work on things in therapy."),
    ("medical.cure_claim.certainty", "The effect isn't permanent, I need a booster every few weeks."),
    (
        "medical.cure_claim.other_disease",
        "Researchers are studying whether it could treat chronic pain too.",
    ),
    ("medical.anti_care.distrust", "Don't trust clinics that promise permanent results, ask your doctor."),
    (
        "medical.anti_care.rhetorical",
        "Why would anyone skip screening? My psychiatrist caught my blood pressure.",
    ),
]


def run(text: str) -> CheckResult:
    return CHECK(CommentInput(text=text), normalize(text))


@pytest.mark.parametrize(("rule_id", "text"), POSITIVES)
def test_positive_fires_rule(rule_id: str, text: str) -> None:
    result = run(text)
    fired = {r.rule_id: r for r in result.reasons}
    assert rule_id in fired, f"{rule_id} did not fire; got {sorted(fired)}"
    reason = fired[rule_id]
    assert reason.category is Category.MEDICAL
    assert reason.code.value == rule_id.rsplit(".", 1)[0]
    assert reason.span is not None
    start, end = reason.span
    assert 0 <= start < end <= len(text)
    assert text[start:end].strip()
    assert reason.detail


@pytest.mark.parametrize(("rule_id", "text"), HARD_NEGATIVES)
def test_hard_negative_stays_clean(rule_id: str, text: str) -> None:
    result = run(text)
    assert result.reasons == (), f"{rule_id} negative flagged: {[r.rule_id for r in result.reasons]}"


def test_every_rule_has_a_positive_and_a_hard_negative() -> None:
    ids = {rule.id for rule in load_pack("medical").rules}
    assert ids == {r for r, _ in POSITIVES}
    assert ids == {r for r, _ in HARD_NEGATIVES}


def test_result_carries_pack_version_and_score() -> None:
    result = run("Throw away your antidepressants, ketamine is all you need.")
    assert result.check == "medical"
    assert result.version == load_pack("medical").version
    assert result.scores["medical"] == 1.0
    assert run("Thank you for this careful article.").scores["medical"] == 0.0


@pytest.mark.parametrize(
    "text",
    [
        "Throw away your anti\u200bdepressants, ketamine is all you need.",  # zero-width
        "Throw away your аntidеprеssаnts, ketamine is all you need.",  # Cyrillic look-alikes
        "Thr0w away your antidepressants, k3tamine is all you need.",  # leetspeak
        "Throw away your a-n-t-i-d-e-p-r-e-s-s-a-n-t-s, ketamine is all you need.",  # spacing
    ],
)
def test_obfuscated_claim_still_fires_with_original_span(text: str) -> None:
    result = run(text)
    reasons = [r for r in result.reasons if r.rule_id == "medical.stop_treatment.quit"]
    assert reasons
    start, end = reasons[0].span or (0, 0)
    assert text[start:end].lower().startswith("thr")
    assert text[start:end].lower().endswith("s")


def test_exclamation_mark_is_not_read_as_a_letter() -> None:
    # "stop!" folds to "stopi" in the shared leetspeak view; the engine puts the "!" back.
    assert run("Stop your lithium! Ketamine is enough!").reasons
    assert run("Please don't stop your lithium! Ask your psychiatrist first!").reasons == ()

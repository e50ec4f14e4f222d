from __future__ import annotations

import time

import pytest

from moderation.filters.normalize import normalize
from moderation.filters.profanity import (
    HEALTH_CONTEXT_ALLOWLIST,
    ProfanityCheck,
    ProfanityMatcher,
    better_profanity_matcher,
    contains_profanity_raw,
)
from moderation.filters.types import Category, CheckResult, CommentInput, Reason, ReasonCode

CHECK = ProfanityCheck.default()


def covered_by(text: str, reason: Reason) -> str:
    assert reason.span is not None
    start, end = reason.span
    assert 0 <= start < end <= len(text)
    return text[start:end]


def run(text: str) -> CheckResult:
    return CHECK(CommentInput(text), normalize(text))


# (text, word reported, the original text its span covers)
POSITIVES = [
    ("what the fuck", "fuck", "fuck"),
    ("Shit.", "shit", "Shit"),
    ("FUCK this", "fuck", "FUCK"),
    ("F U C K this", "fuck", "F U C K"),  # spaced letters
    ("f.u.c.k", "fuck", "f.u.c.k"),
    ("s h i t", "shit", "s h i t"),  # the last letter at the end (better-profanity misses it)
    ("fu ck off", "fuckoff", "fu ck off"),  # tokens joined as better-profanity does
    ("f\u200buck you", "fuck", "f\u200buck"),  # zero-width space inside
    ("\uff46\uff55\uff43\uff4b", "fuck", "\uff46\uff55\uff43\uff4b"),  # fullwidth
    ("fu\u0441k", "fuck", "fu\u0441k"),  # Cyrillic es
    ("f\u00fcck", "fuck", "f\u00fcck"),  # accent
    ("sh1t happens", "shit", "sh1t"),
    ("$h1t", "shit", "$h1t"),
    ("a$$hole", "asshole", "a$$hole"),
    ("b00bs", "boobs", "b00bs"),
    ("sh!t", "shit", "sh!t"),
    ("what the f*ck", "fuck", "f*ck"),  # the common stem among fack/feck/fuck/fvck
    ("sh*t", "shit", "sh*t"),
    ("fuuuuck you", "fuck", "fuuuuck"),  # runs squeezed
    ("biiiitch", "bitch", "biiiitch"),
    ("boooobs", "boobs", "boooobs"),
    ("a blow job", "blowjob", "blow job"),
    ("son-of-a-bitch", "son-of-a-bitch", "son-of-a-bitch"),
    ("What a dumbass", "dumbass", "dumbass"),
    ("damn it", "damn", "damn"),
    ("I\u2019m done, wtf", "wtf", "wtf"),
]


@pytest.mark.parametrize(("text", "word", "covered"), POSITIVES)
def test_positive(text, word, covered):
    result = run(text)
    found = {(r.detail, covered_by(text, r)) for r in result.reasons}
    assert (word, covered) in found
    assert result.scores["profanity_hits"] == len(result.reasons)
    for reason in result.reasons:
        assert reason.code is ReasonCode.PROFANITY
        assert reason.category is Category.PROFANITY
        assert reason.rule_id == "better_profanity"


# Normal words containing listed ones (the Scunthorpe problem), and listed words that are
# ordinary vocabulary on a health article.
NEGATIVES = [
    "class",
    "assess the assignment",
    "a cocktail in Scunthorpe",
    "my therapist did an analysis",
    "grape juice",
    "hello",
    "shitake mushrooms",
    "passion, bass, classic",
    "Essex and Middlesex",
    "cumulative dose",
    "Titan",
    "document the circumstances",
    "it's hit or miss",
    "look at all the good books",
    "I had HIV tests after the stroke",
    "oh my god, sex therapy helped",
    "I felt so stupid for waiting",
    "the ketamine made me feel like hell at first",
    "thanks, love you xx",
    "I wanted to kill myself",  # the crisis check's job, not profanity's
    "the dose was 200mg",
    "",
    "   ",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_negative(text):
    result = run(text)
    assert result.reasons == ()
    assert result.scores == {"profanity_hits": 0.0}


def test_allowlisted_words_are_still_profanity_for_better_profanity():
    # the allowlist is the check's choice; the raw layer keeps better-profanity's verdict
    assert contains_profanity_raw("HIV")
    assert contains_profanity_raw("oh my god")
    assert "hiv" in HEALTH_CONTEXT_ALLOWLIST


@pytest.mark.parametrize(
    "text",
    [
        "s h i t",
        "sh!t",
        "f\u00fcck",
        "\uff46\uff55\uff43\uff4b",
        "fu\u0441k",
        "biiiitch",
        "f\u200bu\u200bc\u200bk",
    ],
)
def test_normalisation_catches_what_better_profanity_misses(text):
    assert not contains_profanity_raw(text)
    assert run(text).reasons


def test_nested_hits_are_reported_once():
    # "fuck" inside "f u c k i n g" adds nothing to "fucking"
    text = "f u c k i n g hell"
    spans = [r.span for r in run(text).reasons]
    assert spans == [(0, 13)]


def test_spans_of_several_hits_are_in_order():
    text = "shit, that is some bullshit, damn"
    result = run(text)
    assert [covered_by(text, r) for r in result.reasons] == ["shit", "bullshit", "damn"]


def test_matcher_from_a_custom_list():
    mapping = {"a": ("a", "@", "4"), "s": ("s", "$")}
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789@$*")
    matcher = ProfanityMatcher.build(["bad", "very bad", "sass"], mapping, allowed, exclude=["sass"])
    assert matcher.contains("so b4d")
    assert matcher.contains("b@d!")
    assert matcher.contains("very bad")
    assert matcher.contains("ba d.")  # joined tokens
    assert not matcher.contains("badge")
    assert not matcher.contains("s@$s")  # excluded
    hits = matcher.find("it is very bad indeed")
    assert {(h.start, h.end, h.word) for h in hits} == {(6, 14, "very bad"), (11, 14, "bad")}


def test_matcher_rejects_non_ascii_words():
    with pytest.raises(ValueError, match="ASCII"):
        ProfanityMatcher.build(["m\u00e9chant"], {}, set("abcdefghijklmnopqrstuvwxyz\u00e9"))


def test_the_matcher_is_built_once():
    assert better_profanity_matcher() is better_profanity_matcher()
    assert ProfanityCheck.default().matcher is CHECK.matcher


ADVERSARIAL = {
    "one long token": "a" * 5000,
    "single letters": "f u c k " * 625,
    "dotted letters": "a." * 2500,
    "leet soup": "@$!|013457" * 500,
    "many hits": "shit " * 1000,
    "non-ascii": "\u00e9\u2019\U0001f600a1$!" * 700,
    "zero width": "f\u200b" * 2500,
}


@pytest.mark.parametrize("text", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_adversarial_input_is_fast(text):
    norm = normalize(text)
    comment = CommentInput(text)
    timings = []
    for _ in range(3):  # the best of three: a garbage collection pass is not the code's cost
        started = time.process_time()
        CHECK(comment, norm)
        contains_profanity_raw(text)
        timings.append(time.process_time() - started)
    assert min(timings) < 0.05


def test_each_matcher_variant_is_built_once_however_it_is_asked_for():
    full, health = better_profanity_matcher(), better_profanity_matcher(health_context=True)
    assert better_profanity_matcher(health_context=False) is full
    assert better_profanity_matcher() is full  # not evicted by the other two spellings
    assert better_profanity_matcher(health_context=True) is health is not full

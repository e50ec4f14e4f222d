"""Fast paths in the profanity, abuse and spam checks agree with the set-based references.

Each fast path keeps the slower code it replaced reachable (``Screen.may_match_sets``, a
monkeypatchable module function); these tests compare the two on the test and bench
corpora and on generated texts that split, join and disguise the listed words.
"""

from __future__ import annotations

import random
from dataclasses import asdict, replace
from typing import Any

import pytest

from moderation.filters import abuse as abuse_check
from moderation.filters.normalize import normalize
from moderation.filters.profanity import ProfanityMatcher, better_profanity_matcher
from moderation.filters.types import CommentInput
from moderation.review import pipeline as pipeline_module
from tests.unit.filters.test_speedups_differential import texts


def _matcher(health_context: bool) -> ProfanityMatcher:
    # better_profanity_matcher() as the check and the other tests call it: its cache holds two
    if health_context:
        return better_profanity_matcher(health_context=True)
    return better_profanity_matcher()


def _screen_texts() -> list[str]:
    from better_profanity.utils import get_complete_path_of_file, read_wordlist

    words = sorted(read_wordlist(get_complete_path_of_file("profanity_wordlist.txt")))
    rng = random.Random(5)
    out = list(texts())
    fillers = ["a", "the", "i", "you", "so", "ok", "to", "is", "it", "\u00df", "\u00e9t\u00e9", "*", "@"]
    seps = [" ", "  ", ".", "-", " - ", "_", "\t", "\u2019", ", "]
    for _ in range(6000):
        pieces: list[str] = []
        for _ in range(rng.randint(1, 5)):
            if rng.random() < 0.5:
                word = rng.choice(words)
                if len(word) > 1 and rng.random() < 0.6:
                    cut = rng.randint(1, len(word) - 1)
                    word = word[:cut] + rng.choice(seps) + word[cut:]
                if rng.random() < 0.3:
                    word = word.translate(str.maketrans("aeios", "@3!0$"))
                if rng.random() < 0.2:
                    word = word[: rng.randint(1, len(word))]
                pieces.append(word)
            else:
                pieces.append(rng.choice(fillers))
        out.append(
            rng.choice(seps).join(pieces).upper() if rng.random() < 0.1 else rng.choice(seps).join(pieces)
        )
    return out


@pytest.mark.parametrize("health_context", [True, False])
def test_screen_automaton_is_the_set_test(health_context: bool) -> None:
    matcher = _matcher(health_context)
    assert matcher.fine.joined is not None
    assert matcher.coarse.joined is not None
    seen = {True: 0, False: 0}
    for text in _screen_texts():
        for view in (text, text + " ", normalize(text).folded.text + " ", normalize(text).text.text):
            keyed = matcher._keyed(view)
            for screen in (matcher.fine, matcher.coarse):
                fast = screen.may_match(keyed)
                assert fast == screen.may_match_sets(keyed), (view, screen is matcher.fine)
                seen[fast] += 1
    assert min(seen.values()) > 1000


def _checks() -> dict[str, Any]:
    return {check.name: check for check in pipeline_module.default_checks()}


def test_abuse_word_lookups_and_mild_blanking_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    abuse = _checks()["abuse"]
    assert abuse._mild_single
    rng = random.Random(11)
    mild = sorted(abuse._mild_anchors)
    corpus = list(texts())
    for text in texts()[::3]:
        words = text.split()
        for _ in range(2):
            words.insert(
                rng.randint(0, len(words)), rng.choice(mild) + rng.choice(["", ",", "!", "_x", "1", "'s"])
            )
        corpus.append(" ".join(words))
        corpus.append(rng.choice(mild).upper() + "ing " + text)
    scored: list[str] = []

    class Recorder:
        version = abuse.model.version
        threshold = abuse.model.threshold

        def probability(self, text: str) -> float:
            scored.append(text)
            return float(abuse.model.probability(text))

    fast_check = abuse_check.AbuseClassifierCheck(Recorder(), abuse.lexicon)
    fast, firsts = [], []  # each comment's result, and the first text its model scored
    for t in corpus:
        start = len(scored)
        fast.append(asdict(fast_check(CommentInput(text=t), normalize(t))))
        firsts.append(scored[start])
    fast_scored, scored[:] = list(scored), []
    monkeypatch.setattr(abuse_check, "_words_in", lambda text, _vocabulary: abuse_check._word_set(text))
    plain_check = abuse_check.AbuseClassifierCheck(Recorder(), abuse.lexicon)
    plain_check._mild_single = False
    plain = [asdict(plain_check(CommentInput(text=t), normalize(t))) for t in corpus]
    assert fast_scored == scored
    assert fast == plain
    assert sum(bool(r["reasons"]) for r in fast) > 50
    blanked = sum(s != normalize(t).text.text for s, t in zip(firsts, corpus, strict=True))
    assert blanked > 100


@pytest.mark.parametrize("health_context", [True, False])
def test_find_fast_paths_are_the_plain_splits_and_pairs(health_context: bool) -> None:
    matcher = _matcher(health_context)
    assert matcher.aligned
    assert matcher.sep_firsts
    assert matcher.key_bytes is not None
    split = replace(matcher, aligned=False, sep_firsts=None, key_bytes=None)
    found = 0
    for text in _screen_texts()[::2]:
        norm = normalize(text)
        for view in (text, norm.folded.text + " ", norm.text.text):
            fast = matcher.find(view, limit=50, strict_end=False)
            assert fast == split.find(view, limit=50, strict_end=False), view
            assert matcher.find(view) == split.find(view), view
            found += bool(fast)
    assert found > 3000

"""Fast paths in the profanity, abuse and spam checks agree with the set-based references.

Each fast path keeps the slower code it replaced reachable (``Screen.may_match_sets``, a
monkeypatchable module function); these tests compare the two on the test and bench
corpora and on generated texts that split, join and disguise the listed words.
"""

from __future__ import annotations

import random

import pytest

from moderation.filters.normalize import normalize
from moderation.filters.profanity import better_profanity_matcher
from tests.unit.filters.test_speedups_differential import texts


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
    matcher = better_profanity_matcher(health_context=health_context)
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

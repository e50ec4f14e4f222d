"""Differential test: our raw matcher agrees with better-profanity on every text.

better-profanity's own matcher is the oracle (about 20 ms per 200 characters), so the corpus
is kept to about 3,000 texts: real comments, tweets and SMS from ../shared/data when present,
and generated adversarial strings built from the word list itself (always run).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
from better_profanity import profanity

from moderation.filters.profanity import better_profanity_matcher, contains_profanity_raw

SHARED_DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"

WORDS = sorted(str(w) for w in profanity.CENSOR_WORDSET)
# Separators better-profanity treats specially (those inside its multi-word entries) and
# ones it does not, including non-ASCII and invisible characters.
SEPARATORS = [" ", "  ", "-", ".", "_", "!", "+", ",", "\u2019", " - ", "\t", "\u200b", "/", "...", "?"]
# Neighbours: ordinary words, single letters (for the one-letter-at-the-end rule), the censor
# string itself, non-ASCII letters that better-profanity counts as letters, and characters
# whose lower case is special (dotted capital I, Kelvin sign, final sigma).
FILLERS = [
    "the",
    "a",
    "I",
    "is",
    "class",
    "hello",
    "\u00e9",
    "ok",
    "x",
    "l",
    "u",
    "****",
    "\u03a3",
    "\u0130",
    "\u212a",
    "2",
]


def _variant(rng: random.Random, word: str) -> str:
    mapping = profanity.CHARS_MAPPING
    return "".join(rng.choice(mapping[c]) if c in mapping and rng.random() < 0.4 else c for c in word)


def _spaced(rng: random.Random, word: str) -> str:
    out = []
    for i, c in enumerate(word):
        out.append(c)
        if i < len(word) - 1 and rng.random() < 0.25:
            out.append(rng.choice(SEPARATORS))
    return "".join(out)


def _generated(n: int, seed: int = 20260611) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 4)):
            if rng.random() < 0.55:
                w = rng.choice(WORDS)
                if rng.random() < 0.6:
                    w = _variant(rng, w)
                if rng.random() < 0.4:
                    w = _spaced(rng, w)
                if rng.random() < 0.2:
                    w = rng.choice(FILLERS) + w  # Scunthorpe: a word inside a longer token
                if rng.random() < 0.2:
                    w += rng.choice(FILLERS)
                parts.append("".join(c.upper() if rng.random() < 0.2 else c for c in w))
            else:
                parts.append(rng.choice(FILLERS))
            parts.append(rng.choice(SEPARATORS))
        text = "".join(parts)
        if rng.random() < 0.5:
            text = text.rstrip()
        if rng.random() < 0.3:
            text += rng.choice(["k", "t", " x", "s", "a", " s"])  # one letter at the very end
        if rng.random() < 0.2:
            text = rng.choice(SEPARATORS) + text
        texts.append(text)
    return texts


def _compare(texts: list[str]) -> tuple[float, list[tuple[str, bool, bool]]]:
    """Share of texts better-profanity flags, and every text where we disagree."""
    flagged = 0
    disagreements = []
    for text in texts:
        expected = profanity.contains_profanity(text)
        flagged += expected
        got = contains_profanity_raw(text)
        if expected != got:
            disagreements.append((text, expected, got))
    return flagged / len(texts), disagreements


def test_compiled_rules_match_better_profanity():
    matcher = better_profanity_matcher()
    assert matcher.max_combinations == profanity.MAX_NUMBER_COMBINATIONS
    assert len(matcher.plain_words) + len(matcher.sep_words) > 700


def test_generated_adversarial_texts_agree():
    share, disagreements = _compare(_generated(1500))
    assert disagreements == []
    # the corpus must exercise both answers, or agreement proves little
    assert 0.25 < share < 0.75


@pytest.mark.parametrize(
    "text",
    [
        "",
        "x",
        "xx",
        "fuc k",  # a final one-letter token is not joined
        "fuc k ",
        "fu ck",  # two tokens joined without their separator
        "f u c k",
        "f u c k i n g",
        "s.h.i.t.",
        "sh!t",
        "sh!t!",
        "blow job",
        "blow  job",  # the separator must be exactly the word's
        "2 girls 1 cup",
        "son-of-a-bitch",
        "****",
        "**** you",
        "\u212aill",  # KELVIN SIGN lower-cases to k
        "\u0130",
        "assess the class analysis",
        "Scunthorpe cocktail therapist grape",
        "   fuck",
        "fuck\u2019n",
        "fuck'n",
    ],
)
def test_edge_cases_agree(text):
    assert contains_profanity_raw(text) == profanity.contains_profanity(text)


def _read_shared() -> list[str]:
    texts: list[str] = []
    for path in sorted((SHARED_DATA / "youtube-spam").glob("Youtube0*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            texts += [row["CONTENT"] for row in csv.DictReader(fh)]
    with (SHARED_DATA / "toxic" / "labeled_data.csv").open(newline="", encoding="utf-8") as fh:
        texts += [row["tweet"] for row in csv.DictReader(fh)]
    with (SHARED_DATA / "sms-spam" / "SMSSpamCollection").open(encoding="utf-8") as fh:
        texts += [line.split("\t", 1)[1].rstrip("\n") for line in fh]
    return texts


@pytest.mark.shared_data
def test_real_comments_agree():
    if not (SHARED_DATA / "toxic" / "labeled_data.csv").exists():
        pytest.skip(f"shared data not found at {SHARED_DATA.resolve()}")
    # moderate lengths keep the oracle's cost (linear in length) to about 15 s of CPU
    texts = random.Random(5).sample([t for t in _read_shared() if len(t) <= 200], 1200)
    share, disagreements = _compare(texts)
    assert disagreements == []
    assert 0.1 < share < 0.9

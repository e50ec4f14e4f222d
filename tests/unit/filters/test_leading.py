"""The literal-led rewrite of rule patterns (moderation.rules.leading) never changes a match."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moderation.filters.normalize import normalize
from moderation.rules.leading import literal_led

# Shapes where the order of alternatives, greedy and lazy options, word boundaries inside
# and outside the word, and backtracking into the leading group all decide the match.
TRICKY = (
    r"\b(?:a|ab)",
    r"\b(?:ab|a)b?",
    r"\b(?:a|ab)c",
    r"\b(?:a |b)?ab\b",
    r"\b(?:a )??ab",
    r"\b(?:[ab]c|a)",
    r"\B(?:ab|b)",
    r"\b(?:a|b)(?=c)",
    r"\b(?:a|b)(?!c)\w*",
    r"\b(?:-a|b-)",
    r"\ba-\b|\bb\B",
    r"\b(?:(?:ab|a) b|ba)\s?(?:a|b)*?c",
    r"\b(?:a(?:b|)c|ab)",
    r"(?:\ba|b)c",
)
ALPHABET = "ab c-'\n"


@pytest.mark.parametrize(
    ("pattern", "rewritten"),
    [
        (r"\b(?:die|dying|be dead)\b", r"(?:d(?<=\bd)(?:ie|ying)|b(?<=\bb)e\ dead)\b"),
        (r"\b(?:my )?life", r"(?:m(?<=\bm)y\ life|l(?<=\bl)ife)"),
        (r"\b(?:my )??life", r"(?:l(?<=\bl)ife|m(?<=\bm)y\ life)"),
        (r"\bdie", r"(?:d(?<=\bd)ie)"),
        (r"\b(?:a|\bb)", r"(?:a(?<=\ba)|b(?<=\b\bb))"),
    ],
)
def test_rewrites(pattern: str, rewritten: str) -> None:
    assert literal_led(pattern) == rewritten


@pytest.mark.parametrize(
    "pattern",
    [
        r"die",  # re already scans for a literal prefix
        r"\b\w+",  # a large class first
        r"\b(?:a|b)?",  # may match empty
        r"\b(?i:a|b)",  # inline flags
        r"(?i)\b(?:a|b)",  # global inline flags
        r"(?m)\b(?:a|b)$",
        r"\b(?:a+|b)",  # a repeated first item
        r"\b(?>a|b)",  # atomic group
    ],
)
def test_left_alone(pattern: str) -> None:
    assert literal_led(pattern) is None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=14))
def test_same_match_from_every_position(text: str) -> None:
    for pattern in TRICKY:
        original = re.compile(pattern, re.ASCII)
        rewritten = literal_led(pattern)
        assert rewritten is not None, pattern
        led = re.compile(rewritten, re.ASCII)
        for pos in range(len(text) + 1):
            a, b = original.search(text, pos), led.search(text, pos)
            assert (a and a.span()) == (b and b.span()), (pattern, text, pos)


def test_every_pack_pattern_from_every_position() -> None:
    """Each rule-pack pattern that has an ``re`` form and a rewrite finds the same match as
    that form from every position of every corpus text (the twins are compiled rewritten)."""
    from tests.unit.filters.test_rulepack_equivalence import _pattern_sources, inputs

    texts = [normalize(t).folded.text for t in inputs()[::25] if t.isascii()]
    rewritten = 0
    for source in _pattern_sources():
        try:
            original = re.compile(source, re.ASCII)
        except re.error:
            continue  # regex-only syntax (its relaxed twin is covered through the engine)
        led_source = literal_led(source)
        if led_source is None:
            continue
        rewritten += 1
        led = re.compile(led_source, re.ASCII)
        for text in texts:
            for pos in range(0, len(text) + 1, 3):
                a, b = original.search(text, pos), led.search(text, pos)
                assert (a and a.span()) == (b and b.span()), (source, text, pos)
    assert rewritten > 150


def test_spam_phrase_twins_find_what_their_patterns_find() -> None:
    """The spam heuristics' ASCII twins are compiled literal-led: same match on ASCII text."""
    from moderation.rules.spam_loader import load_spam_rules
    from tests.unit.filters.test_rulepack_equivalence import inputs

    texts = [normalize(t).text.text for t in inputs()[::5] if t.isascii()]
    rules = [r for r in load_spam_rules().phrases if r.ascii_pattern is not None]
    assert sum(literal_led(r.pattern.pattern) is not None for r in rules) > 10
    for rule in rules:
        assert rule.ascii_pattern is not None
        for text in texts:
            a, b = rule.pattern.search(text), rule.ascii_pattern.search(text)
            assert (a and a.group()) == (b and b.group()), (rule.rule_id, text)
            assert (a and a.span()) == (b and b.span()), (rule.rule_id, text)

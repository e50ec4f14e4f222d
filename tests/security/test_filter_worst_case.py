"""Every filter's worst case: 5,000-character adversarial comments (the longest accepted)
through the full production pipeline, each in a few milliseconds.

Backtracking regular expressions, quadratic normalisation or a tokenizer that explodes on
one pathological shape would show up here as seconds, and one such comment per request
would take a worker (or, for the crisis check run at submission, the API) down. The bound
asserted is generous (100 ms, median of 3); the figures are printed.
"""

from __future__ import annotations

import statistics
import time

import pytest

from moderation.filters.normalize import normalize
from moderation.filters.types import CommentInput
from moderation.review.pipeline import get_pipeline

LIMIT = 5000
BOUND_SECONDS = 0.100


def fit(text: str) -> str:
    return (text * (LIMIT // max(1, len(text)) + 1))[:LIMIT]


ZW = "\u200b"
CASES: dict[str, str] = {
    "one letter": "a" * LIMIT,
    "one capital": "A" * LIMIT,
    "ab repeated": fit("ab"),
    "abc space": fit("abc "),
    "word repeated": fit("ketamine "),
    "spaces between letters": " ".join(fit("killyourselfketaminecuresdepression"))[:LIMIT],
    "dots between letters": ".".join(fit("fuckyoubuypills"))[:LIMIT],
    "zero-width between letters": ZW.join(fit("suicidekillmyself"))[:LIMIT],
    "stacked combining marks": "a" + "\u0301" * (LIMIT - 1),
    "combining marks per letter": fit("e\u0301\u0302\u0303\u0308"),
    "zalgo words": fit("h\u0336\u0321e\u0334\u0322l\u0335\u0327p\u0337 "),
    "many urls": fit("http://a.example/x "),
    "one long url": "https://" + "a." * ((LIMIT - 12) // 2) + "com",
    "url-like dots": fit("www."),
    "emails": fit("x@y.example "),
    "at signs": "@" * LIMIT,
    "digits": "1" * LIMIT,
    "phone numbers": fit("555-123-4567 "),
    "digits and spaces": fit("1 2 3 4 "),
    "dosage-like": fit("take 500mg ketamine 3x daily "),
    "crisis phrase repeated": fit("i want to die tonight "),
    "leetspeak": fit("k1ll y0urs3lf "),
    "emoji": "\U0001f600" * LIMIT,
    "emoji zwj families": fit("\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"),
    "cyrillic lookalikes": fit("\u0430\u0435\u043e\u0440\u0441"),
    "right-to-left overrides": fit("\u202eabc\u202c"),
    "open parens": "(" * LIMIT,
    "nested brackets": fit("([{<"),
    "punctuation": fit("!?.,;:"),
    "newlines": "\n" * LIMIT,
    "tabs and spaces": fit("\t \t "),
    "html": fit("<a href='x'>"),
    "mixed alnum": fit("a1b2c3d4"),
    "repeated long word": fit("pneumonoultramicroscopicsilicovolcanoconiosis"),
    "surrogate-range emoji and text": fit("x\U0001f4a9y"),
}


def median_seconds(fn, runs: int = 3) -> float:
    fn()  # warm caches (lazy compiles) outside the measurement
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@pytest.fixture(scope="module")
def pipeline():
    return get_pipeline()


@pytest.mark.parametrize("name", list(CASES))
def test_adversarial_comment_is_decided_in_milliseconds(pipeline, name):
    text = CASES[name]
    assert len(text) <= LIMIT
    comment = CommentInput(text=text, author_name=text[:80])
    total = median_seconds(lambda: pipeline.run(comment, pipeline.config))
    norm = median_seconds(lambda: normalize(text))
    per_check = {
        check.name: median_seconds(lambda check=check: check(comment, normalize(text))) - norm
        for check in pipeline.checks
    }
    slowest = max(per_check, key=per_check.__getitem__)
    print(
        f"\n{name:<32} pipeline {total * 1e3:7.2f} ms  normalize {norm * 1e3:6.2f} ms  "
        f"slowest check {slowest} {per_check[slowest] * 1e3:6.2f} ms"
    )
    verdict = pipeline.run(comment, pipeline.config)
    assert verdict.decision is not None
    for reason in verdict.reasons:  # spans stay inside the original text, whatever the input
        if reason.span is not None:
            assert 0 <= reason.span[0] <= reason.span[1] <= len(text)
    assert total < BOUND_SECONDS, f"{name}: {total * 1e3:.1f} ms (slowest check {slowest})"

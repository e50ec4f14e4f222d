"""The pipeline's speed-ups change no verdict: old against new on the test and bench corpora.

Each speed-up of issue 9 keeps the plain implementation it replaced reachable (a module
constant, or a reference copy below). The test runs the production pipeline, then the same
checks with every speed-up undone, and compares every verdict field and every check result
on ``tests/data/comments.jsonl``, ``bench/corpus.py`` comments of each benchmark length and
disguised variants of them (curly apostrophes, homoglyphs, leetspeak, spaced letters, runs).
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import math
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from moderation.filters import abuse, behaviour, normalize, rulematch, spam
from moderation.filters.types import Category, CheckResult, CommentInput, Reason, ReasonCode
from moderation.learning import features, model
from moderation.review import pipeline as pipeline_module
from moderation.review import policy
from moderation.review.policy import Decision, PolicyConfig, Priority, Verdict

ROOT = Path(__file__).resolve().parents[3]


@cache
def texts() -> list[str]:
    spec = importlib.util.spec_from_file_location("bench_corpus", ROOT / "bench" / "corpus.py")
    assert spec is not None
    assert spec.loader is not None
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    with (ROOT / "tests" / "data" / "comments.jsonl").open(encoding="utf-8") as fh:
        out = [json.loads(line)["text"] for line in fh]
    for length, n in ((30, 300), (200, 300), (1000, 40), (5000, 6)):
        out += corpus.comments(n, length)
    rng = random.Random(9)
    for text in out[::4]:
        out.append(text.replace("'", "\u2019").replace("a", rng.choice(("\u0430", "4", "@", "a"))))
        out.append(" ".join(text[:40]) + text[40:].replace("o", "ooo").replace("!", "!!!"))
    out += [
        "",
        "a",
        "aaa",
        "I   am  SOOOO  done!!!",
        "THIS CLINIC IS THE BEST, CALL THEM NOW AND ASK FOR DR SMITH!!!",
        "This Is A Headline Written In Title Case By Someone Who Loves Capitals",
        "OK SO I tried it: ketamine WORKED for ME and I AM SO HAPPY NOW",
        "call 0044 20 7946 0958 or 555-0100",
        "\u0663\u0664\u0665\u0666",
    ]
    return out


# -- reference implementations (what the speed-ups replaced) ------------------------------


def reference_anchor_spans(text: str, anchors: frozenset[str]) -> list[tuple[int, int]]:
    return [m.span() for m in abuse._WORD_RE.finditer(text) if m.group() in anchors]


def reference_meta_signals(toks: Sequence[str], prepared: str) -> tuple[int, ...]:
    n = len(toks)
    length = 0 if n < 4 else 1 if n < 8 else 2 if n < 16 else 3 if n < 32 else 4
    words = set(toks)
    url = 0
    if "zurlz" in words:
        i = toks.index("zurlz")
        url = 2 if (toks[i + 1] if i + 1 < n else "") in features._LINK_HOSTS_OWN else 1
    excl = 1 if "!!" in prepared else 0
    digit = 1 if "znumz" in words or re.search(r"\d", prepared) else 0
    phrases = len(features.PROMO_PHRASES.intersection(itertools.pairwise(toks))) if n > 1 else 0
    return (
        length,
        url,
        excl,
        digit,
        min(len(words & features.PROMO_WORDS), 3),
        min(len(words & features.TOPIC_WORDS), 3),
        min(phrases, 2),
        min(len(words & features.SELF_WORDS), 2),
    )


def reference_shouting(self: spam.SpamHeuristics, original: str, reasons: list[Reason]) -> None:
    """``SpamHeuristics._shouting`` before the byte counts and the capitals-only early exit."""
    rules = self.rules
    if len(original) < rules.shout_min_letters:
        return
    upper = sum(map(str.isupper, original))
    letters = sum(map(str.isalpha, original))
    if letters < rules.shout_min_letters or upper < rules.shout_min_ratio * letters:
        return
    reasons.append(
        Reason(
            ReasonCode.SPAM_SHOUTING,
            Category.SPAM,
            (0, len(original)),
            f"{upper} of {letters} letters in capitals",
            "spam.shouting",
            rules.shout_score,
        )
    )


def reference_repaired(norm: normalize.Normalized) -> tuple[dict[str, Any], dict[str, bool]]:
    """``rulematch._repaired`` without the copy kept for the next pack."""
    folded = rulematch._repair(norm.folded, norm.original)
    text = rulematch._repair(norm.text, norm.original)
    safe = rulematch.twin_safe
    return {"text": text, "folded": folded}, {"text": safe(text.text), "folded": safe(folded.text)}


def reference_score(self: model.LinearTextModel, prepared: str, toks: Sequence[str]) -> float:
    """``LinearTextModel._score`` before unseen tokens were scored through ``__missing__``."""
    base = self.intercept
    if self.uses_meta:
        signals = reference_meta_signals(toks, prepared)
        base += sum([table[i] for table, i in zip(self._meta_table, signals, strict=True)])
    if not toks:
        return base
    scores = [self._token_cache.get(t) for t in toks]
    scores = [self._token_score(t) if s is None else s for t, s in zip(toks, scores, strict=True)]
    total: float = sum(scores)  # type: ignore[arg-type]  # no None left
    if len(toks) > 1:
        total += sum(self._bigrams.get(pair, 0.0) for pair in itertools.pairwise(toks))
    return total / math.sqrt(len(toks)) + base


def _combine(scores: Iterable[float]) -> float:
    remaining = 1.0
    for s in scores:
        remaining *= 1.0 - min(max(s, 0.0), 1.0)
    return 1.0 - remaining


def reference_decide(text: str, results: Sequence[CheckResult], config: PolicyConfig) -> Verdict:
    """``policy.decide`` as it was before the fast path for comments without reasons."""
    by_category: dict[Category, list[Reason]] = {}
    scores: dict[str, float] = {}
    versions: dict[str, str] = {"policy": config.version}
    for result in results:
        versions[result.check] = result.version
        scores.update(result.scores)
        for reason in result.reasons:
            by_category.setdefault(reason.category, []).append(reason)
    spam_score = _combine(r.score for r in by_category.get(Category.SPAM, ()))
    abuse_score = _combine(r.score for r in by_category.get(Category.ABUSE, ()))
    scores["spam_combined"] = round(spam_score, 4)
    scores["abuse_combined"] = round(abuse_score, 4)
    decisive: list[Category] = []
    decision, priority = Decision.APPROVED, Priority.NORMAL
    censored: str | None = None
    rank = policy.PRIORITY_RANK

    def top(a: Priority, b: Priority) -> Priority:
        return a if rank[a] <= rank[b] else b

    if Category.CRISIS in by_category:
        decisive.append(Category.CRISIS)
        decision, priority = Decision.FLAGGED, Priority.URGENT
    if Category.MEDICAL in by_category:
        decisive.append(Category.MEDICAL)
        decision, priority = Decision.FLAGGED, top(priority, Priority.HIGH)
    if abuse_score >= config.abuse_flag_threshold:
        decisive.append(Category.ABUSE)
        threat = any(r.code is ReasonCode.ABUSE_THREAT for r in by_category.get(Category.ABUSE, ()))
        decision = Decision.FLAGGED
        priority = top(priority, Priority.HIGH if threat else Priority.NORMAL)
    if spam_score >= config.spam_flag_threshold:
        decisive.append(Category.SPAM)
        if decision is Decision.APPROVED:
            reject = config.auto_reject_spam and spam_score >= config.spam_reject_threshold
            decision = Decision.REJECTED if reject else Decision.FLAGGED
            priority = Priority.LOW
    if Category.PROFANITY in by_category:
        decisive.append(Category.PROFANITY)
        if decision is Decision.APPROVED:
            if config.mild_profanity == "censor":
                spans = [r.span for r in by_category[Category.PROFANITY] if r.span is not None]
                censored = policy.censor(text, spans)
            else:
                decision = Decision.FLAGGED
    if decision is Decision.APPROVED and config.premoderate:
        decision, priority = Decision.FLAGGED, Priority.LOW
        by_category.setdefault(Category.SYSTEM, []).append(
            Reason(ReasonCode.PREMODERATE, Category.SYSTEM, None, "article is pre-moderated")
        )
        decisive.append(Category.SYSTEM)
    if decision is Decision.APPROVED:
        priority = Priority.NORMAL
    reasons = tuple(r for cat in decisive for r in by_category.get(cat, ()))
    return Verdict(decision, priority, tuple(decisive), reasons, scores, versions, censored)


CONFIGS = (
    PolicyConfig(),
    PolicyConfig(mild_profanity="censor"),
    PolicyConfig(premoderate=True, auto_reject_spam=False),
    PolicyConfig(spam_flag_threshold=0.0, spam_reject_threshold=0.3),
)


def _run_all(checks: Sequence[Any]) -> list[Any]:
    pipe = pipeline_module.Pipeline(checks)
    model._prepared_tokens.cache_clear()
    out = []
    for text in texts():
        comment = CommentInput(text=text)
        norm = normalize.normalize(text)
        out.append(
            (
                [asdict(check(comment, norm)) for check in checks],
                [asdict(pipe.run(comment, config)) for config in CONFIGS],
            )
        )
    return out


@pytest.fixture(scope="module")
def production_checks() -> list[Any]:
    return pipeline_module.default_checks()


def test_speed_ups_change_no_check_result_and_no_verdict(
    production_checks: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = _run_all(production_checks)

    # Undo every speed-up: the plain regexes, the per-word loops, one automaton per pass.
    monkeypatch.setattr(normalize, "_has_triple", lambda _s: True)
    monkeypatch.setattr(normalize, "_SPACED_PRE_ASCII_RE", normalize._SPACED_PRE_RE)
    monkeypatch.setattr(features, "_ASCII_TOKEN_RE", features._TOKEN_RE)
    monkeypatch.setattr(features, "_ASCII_NUM_RE", features._NUM_RE)
    monkeypatch.setattr(model, "meta_signals", reference_meta_signals)
    monkeypatch.setattr(abuse, "_anchor_spans", reference_anchor_spans)
    monkeypatch.setattr(abuse, "_may_match", lambda words, anchors, _: not words.isdisjoint(anchors))
    monkeypatch.setattr(spam, "_PHONE_HINT_ASCII_RE", spam._PHONE_HINT_RE)
    monkeypatch.setattr(spam, "may_have_run", lambda _s, _n: True)
    monkeypatch.setattr(pipeline_module, "decide", reference_decide)
    monkeypatch.setattr(normalize, "may_have_leet", lambda _s: True)
    monkeypatch.setattr(features, "_single_spaced", lambda _t: False)
    monkeypatch.setattr(features, "_has_digit", lambda _t: True)
    monkeypatch.setattr(normalize, "_ascii_lower", lambda s: s.translate(normalize._ASCII_CONTROL).lower())
    monkeypatch.setattr(spam, "_phone_hint", lambda t: spam._PHONE_HINT_RE.search(t) is not None)
    monkeypatch.setattr(spam, "twin_safe", lambda _t: False)
    monkeypatch.setattr(behaviour, "_NO_FACTS", None)  # no result known in advance
    monkeypatch.setattr(abuse, "_present_anchors", lambda words, _anchors: words)
    monkeypatch.setattr(model, "tokens", features._TOKEN_RE.findall)
    monkeypatch.setattr(model.LinearTextModel, "_score", reference_score)
    monkeypatch.setattr(spam.SpamHeuristics, "_shouting", reference_shouting)
    monkeypatch.setattr(rulematch, "_repaired", reference_repaired)
    plain_checks = []
    for check in production_checks:
        pack = getattr(check, "pack", None)
        if pack is not None:
            assert pack.scan is not None
            assert pack.scan_width > 0
            check = type(check)(replace(pack, scan=None))
        plain_checks.append(check)
    plain = _run_all(plain_checks)
    model._prepared_tokens.cache_clear()

    assert len(fast) == len(plain) > 1500
    for text, a, b in zip(texts(), fast, plain, strict=True):
        assert a == b, text
    decisions = {v["decision"] for _, verdicts in fast for v in verdicts}
    assert decisions == {"approved", "flagged", "rejected"}


def test_linked_packs_share_one_automaton() -> None:
    from moderation.rules import load_crisis_check, load_medical_check, load_pack

    medical, crisis = load_medical_check().pack, load_crisis_check().pack
    assert medical.scan is crisis.scan
    assert medical.scan_offset == 0
    assert crisis.scan_offset == medical.scan_width
    for name, linked in (("medical", medical), ("crisis", crisis)):
        own = load_pack(name)
        assert own.scan is None
        for text in texts()[::5]:
            folded = normalize.normalize(text).folded.text
            joint = rulematch._mask(linked.scan, folded) >> linked.scan_offset
            separate = rulematch._mask(own.keywords, folded)
            separate |= rulematch._mask(own.literals, folded) << own.scan_shift
            assert joint & ((1 << linked.scan_width) - 1) == separate


@pytest.mark.parametrize("length", [1, 2, 3, 4, 6])
def test_may_have_run_is_exact_on_ascii(length: int) -> None:
    rng = random.Random(length)
    run = re.compile(r"(.)\1{" + str(length - 1) + "}", re.DOTALL)
    for _ in range(20000):
        s = "".join(rng.choice("aab .") for _ in range(rng.randint(0, 12)))
        assert normalize.may_have_run(s, length) == bool(run.search(s)), s
    assert normalize.may_have_run("\u00e9x\u00e9", 3)  # non-ASCII: always worth the regex


def test_ascii_token_pattern_is_the_unicode_one_on_ascii() -> None:
    for i in range(128):
        for s in (chr(i), f"a{chr(i)}b", chr(i) * 3, f"!{chr(i)}!", f"{chr(i)} x"):
            assert features._ASCII_TOKEN_RE.findall(s) == features._TOKEN_RE.findall(s), repr(s)


def test_ascii_twins_stand_in_only_where_they_mean_the_same() -> None:
    # Unicode \s matches the information separators, ASCII mode's does not.
    assert re.fullmatch(r"\s", "\x1c")
    assert not re.fullmatch(r"\s", "\x1c", re.ASCII)
    assert rulematch.twin_safe("plain text, 200mg!")
    assert not rulematch.twin_safe("caf\u00e9")
    assert not rulematch.twin_safe("a\x1cb")
    # The normaliser turns control characters into spaces: on its views the twins run.
    norm = normalize.normalize("stop\x1cyour\x1fmeds\tnow")
    assert rulematch.twin_safe(norm.text.text)
    assert rulematch.twin_safe(norm.folded.text)


def test_ascii_tokens_are_the_pattern_tokens() -> None:
    for text in texts():
        prepared = features.prepare(normalize.normalize(text).text.text)
        assert features.tokens(prepared) == features._TOKEN_RE.findall(prepared), prepared
    for i in range(128):
        for s in (f"a{chr(i)}b", f"{chr(i)}x y{chr(i)}", f"ab_{chr(i)}!! 12"):
            assert features.tokens(s) == features._TOKEN_RE.findall(s), repr(s)

"""Differential test: the rule-pack engine gives exactly the frozen reasons on ~5,000 texts.

The medical and crisis checks are run over every text of ``tests/data/comments.jsonl``
plus a few thousand deterministic variants (obfuscated, re-punctuated, negated, spliced,
trigger-word soup, long run-on comments), and every reason's (code, rule_id, span) is
compared with ``tests/data/rulepack_expected.json``. That file was written by the engine
as it was before the speed work (commit 3d7f76f), so any optimisation of
``moderation/filters/rulematch.py`` or the loader must reproduce it exactly.

The frozen file also records digests of the inputs, the rule-pack YAML and the
normaliser's output. When a rule pack or ``normalize()`` changes on purpose, the reasons
may legitimately change: regenerate the file with

    python3 tests/unit/filters/test_rulepack_equivalence.py --write

and review the diff of ``tests/data/rulepack_expected.json`` (every changed line is a
changed decision) before committing it. ``--time`` prints the time per comment of
normalize, medical and crisis over the corpus.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
from dataclasses import replace
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import regex

from moderation.filters import rulematch
from moderation.filters.normalize import normalize
from moderation.filters.rulepack import Cue, Pattern, RulePack, plan_exceptions
from moderation.filters.types import CommentInput
from moderation.rules import load_crisis_check, load_medical_check
from moderation.rules.leading import literal_led
from moderation.rules.prefilter import necessary_factors, re_twin, relaxed_twin, start_chars

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT / "tests" / "data" / "comments.jsonl"
EXPECTED = ROOT / "tests" / "data" / "rulepack_expected.json"
PACKS = ("medical", "crisis")
FORMAT = 2

# Words and phrases both packs react to, plus the words their exceptions look for. Kept
# here rather than read from the YAML so that a rule change leaves the inputs unchanged
# and the regenerated diff shows only changed decisions.
TRIGGERS = (
    "ketamine", "ket", "k", "special k", "spravato", "esketamine", "infusion", "infusions", "session",
    "mg", "50mg", "100 mg", "0.5 mg/kg", "2 ml", "a gram", "snort", "snorting", "a bump", "lines of k",
    "inject it", "im shot", "at home", "alone", "by myself", "on my own", "without a doctor",
    "no prescription", "without a prescription", "over the counter", "buy", "bought", "order",
    "online", "dark web", "from a vet", "my dealer", "a friend who works at a hospital", "dm me",
    "hit me up", "stop taking", "quit", "your meds", "antidepressants", "lithium", "ssri", "cold turkey",
    "throw away your pills", "instead of", "replace", "mix", "mixing", "with alcohol", "with xanax",
    "benzos", "beers", "weed", "mdma", "is safe", "totally fine", "no side effects", "not addictive",
    "harmless", "pregnant", "pregnancy", "kids", "heart disease", "drive", "drove home", "right after",
    "cure", "cures", "cured", "permanently", "forever", "100%", "guaranteed", "miracle", "cancer",
    "doctors", "psychiatrist", "big pharma", "are useless", "don't trust", "who needs", "therapy",
    "kill myself", "kms", "end my life", "end it all", "suicide", "suicidal", "want to die",
    "wanna die", "better off dead", "not wake up", "no reason to live", "hopeless", "burden",
    "i'm done", "goodbye", "goodbye everyone", "my last post", "won't be around much longer",
    "sorry for everything", "pills", "saving up my pills", "a rope", "the bridge", "off the roof",
    "jump", "cut myself", "cutting", "self harm", "urges", "razor", "blade", "fresh cuts",
    "how much", "how many", "lethal dose", "would kill me", "enough to die", "overdose", "od",
    "dead", "die", "dying", "alive", "gone", "not exist", "methods", "do it", "everything ready",
)  # fmt: skip
FUNCTION_WORDS = (
    "i", "i'm", "im", "i've", "my", "me", "you", "your", "it", "the", "a", "and", "but", "so", "to",
    "not", "never", "don't", "dont", "no", "was", "is", "now", "better", "years ago", "used to",
    "if you", "my friend", "my brother", "they", "people", "the article", "study", "clinic",
    "my doctor", "prescribed", "monitored", "again", "tonight", "right now", "lol", "please",
    "dangerous", "careful", "someone said", "hope", "wonder", "is it", "can you", "?", ".", ",", "!",
)  # fmt: skip
SEPARATORS = (". ", ", ", " ", "! ", "? ", "\n", " - ", "... ", "; ", " but ", " and ", " (", ") ")
HOMOGLYPHS = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "c": "\u0441", "p": "\u0440", "i": "\u0456"}
LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}


def _corpus() -> list[str]:
    with CORPUS.open(encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh if line.strip()]


def _pick_word(rng: random.Random, words: list[str]) -> int | None:
    candidates = [i for i, w in enumerate(words) if sum(c.isalpha() for c in w) >= 3]
    return rng.choice(candidates) if candidates else None


def _obfuscate_word(rng: random.Random, word: str) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return rng.choice((" ", ".", "-", "*")).join(word)
    if kind == 1:
        return "".join(LEET.get(c, c) if rng.random() < 0.5 else c for c in word)
    if kind == 2:
        return "\u200b".join(word)
    if kind == 3:
        return "".join(HOMOGLYPHS.get(c, c) if rng.random() < 0.5 else c for c in word)
    if kind == 4:
        i = rng.randrange(len(word))
        return word[:i] + word[i] * rng.randint(3, 6) + word[i + 1 :]
    return word.upper()


def _perturb(rng: random.Random, text: str) -> str:
    """One to three random edits that keep the text plausible."""
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(12)
        words = text.split(" ")
        if kind == 0:
            text = text.upper() if rng.random() < 0.5 else text.lower()
        elif kind == 1:
            text = text.replace("'", "\u2019")
        elif kind == 2:
            text = "".join(c for c in text if c.isalnum() or c.isspace() or c == "'")
        elif kind == 3:
            text = text.replace(".", rng.choice(("!", "?", "\n", "!!", " -", ",", "...")))
        elif kind == 4:
            i = _pick_word(rng, words)
            if i is not None:
                words[i] = _obfuscate_word(rng, words[i])
                text = " ".join(words)
        elif kind == 5 and len(words) > 2:
            del words[rng.randrange(len(words))]
            text = " ".join(words)
        elif kind == 6:
            words.insert(rng.randrange(len(words) + 1), rng.choice(("not", "don't", "never", "no", "isn't")))
            text = " ".join(words)
        elif kind == 7:
            text = rng.choice(FUNCTION_WORDS) + " " + text
        elif kind == 8:
            text = text.rstrip(".!") + rng.choice(("?", "!", " lol", " tbh", "...", " \U0001f62d", ""))
        elif kind == 9 and len(words) > 3:
            i = rng.randrange(len(words) - 1)
            words[i], words[i + 1] = words[i + 1], words[i]
            text = " ".join(words)
        elif kind == 10:
            words.insert(rng.randrange(len(words) + 1), rng.choice(TRIGGERS))
            text = " ".join(words)
        else:
            cut = rng.randrange(len(text) + 1)
            text = text[:cut] if rng.random() < 0.5 else text[cut:]
    return text


def _soup(rng: random.Random, n_words: int) -> str:
    parts = []
    for _ in range(n_words):
        pool = TRIGGERS if rng.random() < 0.45 else FUNCTION_WORDS
        parts.append(rng.choice(pool))
        parts.append(rng.choice(SEPARATORS) if rng.random() < 0.2 else " ")
    return "".join(parts).strip()


def _sentences(text: str) -> list[str]:
    out, start = [], 0
    for i, c in enumerate(text):
        if c in ".!?\n":
            out.append(text[start : i + 1].strip())
            start = i + 1
    out.append(text[start:].strip())
    return [s for s in out if s]


@cache
def inputs() -> tuple[str, ...]:
    """The corpus, then ~4,400 generated texts (deterministic: fixed seed)."""
    corpus = _corpus()
    rng = random.Random(20261101)
    texts = list(corpus)
    for text in corpus:  # three variants of every real comment
        texts.extend(_perturb(rng, text) for _ in range(3))
    sentences = [s for t in corpus for s in _sentences(t)]
    for _ in range(900):  # sentences of different comments spliced together
        k = rng.randint(2, 5)
        joined = "".join(rng.choice(sentences) + rng.choice(SEPARATORS) for _ in range(k))
        texts.append(joined.strip())
    for _ in range(1400):  # trigger-word soup: many matches, most of them excused
        texts.append(_soup(rng, rng.randint(4, 45)))
    for _ in range(40):  # long run-on comments: windows, attempt limits
        target = rng.choice((1000, 2500, 5000))
        parts: list[str] = []
        while sum(map(len, parts)) < target:
            parts.append(rng.choice(corpus) if rng.random() < 0.6 else _soup(rng, 20))
        texts.append(rng.choice((" ", " ", "\n", ", ")).join(parts)[:target])
    for phrase in ("don't stop your meds, ", "I was suicidal years ago, now I'm better. ", "mix it with ",
                   "not suicidal ", "no side effects for me, ", "is it safe to drive home after? ",
                   "my friend wants to die. ", "50mg at the clinic. "):  # fmt: skip
        texts.append((phrase * (5000 // len(phrase) + 1))[:5000])
    return tuple(texts)


def _digest(items: Any) -> str:
    return hashlib.sha256(json.dumps(items, ensure_ascii=False).encode("utf-8")).hexdigest()


def _normalized_digest(texts: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    for text in texts:
        norm = normalize(text)
        for view in (norm.text, norm.folded):
            h.update(json.dumps([view.text, view.starts, view.ends], ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()


def _pack_digests() -> dict[str, str]:
    return {
        name: hashlib.sha256(files("moderation.rules").joinpath(f"{name}.yaml").read_bytes()).hexdigest()
        for name in PACKS
    }


def run_checks(texts: tuple[str, ...]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Index (as a string) -> ["rule_id start end", ...] for every text with a reason, and
    rule_id -> code for every reason seen (a rule always gives the same code)."""
    checks = (load_medical_check(), load_crisis_check())
    out: dict[str, list[str]] = {}
    codes: dict[str, str] = {}
    for i, text in enumerate(texts):
        norm = normalize(text)
        comment = CommentInput(text=text)
        reasons = []
        for check in checks:
            for r in check(comment, norm).reasons:
                start, end = r.span or (-1, -1)
                reasons.append(f"{r.rule_id} {start} {end}")
                if codes.setdefault(r.rule_id, str(r.code)) != str(r.code):
                    codes[r.rule_id] = "inconsistent"
        if reasons:
            out[str(i)] = reasons
    return out, dict(sorted(codes.items()))


def write_expected() -> None:
    texts = inputs()
    data: dict[str, Any] = {
        "format": FORMAT,
        "count": len(texts),
        "inputs_sha256": _digest(list(texts)),
        "normalized_sha256": _normalized_digest(texts),
        "packs_sha256": _pack_digests(),
    }
    data["hits"], data["codes"] = run_checks(texts)
    # One text per line, so a regenerated file diffs by decision.
    head = {k: v for k, v in data.items() if k != "hits"}
    lines = [json.dumps(head, separators=(",", ":"))[:-1] + ',"hits":{']
    hits = data["hits"]
    body = [f"{json.dumps(k)}:{json.dumps(v, separators=(',', ':'))}" for k, v in hits.items()]
    lines.append(",\n".join(body))
    lines.append("}}")
    EXPECTED.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {EXPECTED}: {len(texts)} texts, {len(hits)} with reasons")


@cache
def expected() -> dict[str, Any]:
    if not EXPECTED.exists():
        pytest.fail(f"{EXPECTED} is missing: run python3 {Path(__file__).relative_to(ROOT)} --write")
    data: dict[str, Any] = json.loads(EXPECTED.read_text(encoding="utf-8"))
    return data


def test_inputs_are_the_frozen_ones() -> None:
    data = expected()
    texts = inputs()
    assert data["format"] == FORMAT
    assert data["count"] == len(texts) > 4000
    assert data["inputs_sha256"] == _digest(list(texts)), "the generator changed: regenerate and review"


def test_rule_packs_and_normaliser_unchanged_since_freezing() -> None:
    """A change here is not a bug, but the frozen reasons no longer prove anything."""
    data = expected()
    assert data["packs_sha256"] == _pack_digests(), "a rule pack changed: regenerate with --write and review"
    assert data["normalized_sha256"] == _normalized_digest(inputs()), (
        "normalize() output changed: regenerate with --write and review"
    )


def test_reasons_match_the_frozen_output() -> None:
    texts = inputs()
    want: dict[str, list[str]] = expected()["hits"]
    got, codes = run_checks(texts)
    assert codes == expected()["codes"]
    diffs = [
        f"#{key} {texts[int(key)][:80]!r}: expected {want.get(key)} got {got.get(key)}"
        for key in sorted(set(want) | set(got), key=int)
        if want.get(key) != got.get(key)
    ]
    assert not diffs, f"{len(diffs)} texts changed:\n" + "\n".join(diffs[:30])


def test_frozen_output_is_not_trivial() -> None:
    """The inputs exercise every rule and many excused matches, not just a few easy ones."""
    hits = expected()["hits"]
    fired = {reason.split()[0] for reasons in hits.values() for reason in reasons}
    from moderation.rules import load_pack

    all_rules = {r.id for name in PACKS for r in load_pack(name).rules}
    assert fired == all_rules
    assert 0.2 < len(hits) / expected()["count"] < 0.9


# ---------------------------------------------------------------- the speed-ups, one by one


@pytest.mark.parametrize(
    ("pattern", "twin"),
    [
        (r"\bhow (?:much|many)\b", True),
        (r"(?<=[.!?]\s)bye\W*$", True),  # fixed-width look-behind: re accepts it
        (r"(?<!\b(?:ego|near)[ -])\bdie\b", False),  # variable width: regex only
        (r"\p{L}+", False),  # a property: regex only
        (r"(?:abc){e<=1}", False),  # fuzzy in regex, literal braces in re
        (r"a{2,}b{,3}", True),
        (r"x{}", False),  # literal braces
        (r"(?i)ket", False),  # inline flags
        (r"(?P<x>a)(?P=x)", False),  # named groups, back-references
        (r"[[a]]", False),  # a nested set in regex V1, a FutureWarning in re
        (r"[a--b]", False),  # set difference
        (r"(?>a+)b++", True),  # atomic and possessive: both modules
    ],
)
def test_re_twin_only_for_syntax_with_one_meaning(pattern: str, twin: bool) -> None:
    assert (re_twin(pattern) is not None) is twin


@pytest.mark.parametrize(
    ("pattern", "groups"),
    [
        (r"\bhow (?:much|many)\b", [{"how much", "how many"}]),
        (r"\bkill(?:ing|ed)?\s?my\s?self\b", [{"self"}, {"kill", "killing", "killed"}]),
        (r"\b(?:a|b)\w*", []),  # only one-letter literals: not worth looking for
        (r"\bx(?=.*\bsoon\b)", [{"soon"}]),  # a look-ahead's text is in the comment too
        (r"\bx(?!.*\bsoon\b)", []),
        (r"(?:foo)?bar", [{"bar", "foobar"}]),  # exact strings, redundant but sound
        (r"\bend\b\w*(?:stuff|things)", [{"stuff", "things"}, {"end"}]),
        (r"(\w+)\1", []),  # back-reference: no factors
    ],
)
def test_necessary_factors(pattern: str, groups: list[set[str]]) -> None:
    assert sorted(map(sorted, necessary_factors(pattern))) == sorted(map(sorted, groups))


def test_relaxed_twin_drops_look_behinds_only() -> None:
    relaxed = relaxed_twin(r"(?<!\b(?:ego|near|it'?s)[ -])\bdie(?!\s(?:of|for))\b")
    assert relaxed is not None
    assert relaxed.pattern == literal_led(r"\bdie(?!\s(?:of|for))\b")  # compiled literal-led
    assert relaxed_twin(r"\bdie\b") is None  # has an exact twin already


def test_start_chars_only_for_rare_punctuation() -> None:
    start = start_chars(r"[!?\n]+|\.(?!\d)")
    assert start is not None
    assert sorted(start.findall("a.b!c?d\ne")) == sorted(".!?\n")
    assert start_chars(r"[,;:()]|\s[-]+\s|\b(?:but|so)\b") is None  # letters and spaces
    assert start_chars(r"x?") is None  # may match empty


def _pattern_sources() -> list[str]:
    from moderation.rules import load_pack

    sources = set()
    for name in PACKS:
        for rule in load_pack(name).rules:
            for pattern in rule.match + rule.require + rule.unless:
                sources.add(pattern.regex.pattern)
            for cue in rule.cues:
                sources.update(p.regex.pattern for p in cue.when + cue.unless)
    return sorted(sources)


def test_speed_ups_are_sound_on_every_pack_pattern() -> None:
    """On every input text, for every pattern of both packs: the ``re`` twin finds what
    ``regex`` finds (ASCII text), a text that matches holds a literal of each needed
    group, and the relaxed twin's leftmost match is never right of the original's."""
    texts = [t for t in inputs()[::7] if t.isascii()]
    folded = [normalize(t).folded.text for t in texts]
    checked = 0
    for source in _pattern_sources():
        exact = regex.compile(source)
        twin, relaxed, needs = re_twin(source), relaxed_twin(source), necessary_factors(source)
        for text in folded:
            m = exact.search(text)
            if twin is not None:
                t = twin.search(text)
                assert (t and t.span()) == (m and m.span()), source
            if relaxed is not None and m is not None:
                r = relaxed.search(text)
                assert r is not None, source
                assert r.start() <= m.start(), source
            if m is not None:
                assert all(any(word in text for word in group) for group in needs), source
                checked += 1
    assert checked > 1000


def _without_speed_ups(pack: RulePack) -> RulePack:
    """The same pack with every precomputed speed-up removed: plain ``regex`` searches."""

    def plain(p: Pattern) -> Pattern:
        return replace(p, fast=None, relaxed=None, need_mask=0)

    def plain_cue(c: Cue) -> Cue:
        return replace(c, when=tuple(map(plain, c.when)), unless=tuple(map(plain, c.unless)))

    rules = []
    for r in pack.rules:
        require, unless = tuple(map(plain, r.require)), tuple(map(plain, r.unless))
        cues = tuple(map(plain_cue, r.cues))
        rules.append(
            replace(
                r,
                match=tuple(map(plain, r.match)),
                require=require,
                unless=unless,
                cues=cues,
                plan=plan_exceptions(require, unless, cues),
            )
        )
    return replace(
        pack,
        rules=tuple(rules),
        sentence_end_fast=None,
        clause_break_fast=None,
        sentence_end_start=None,
        clause_break_start=None,
    )


# Where ``re`` and ``regex`` disagree: a spacing vowel sign (category Mc) is a word
# character for ``regex`` only, so "myself" + U+093F has no word boundary for it.
UNICODE_TEXTS = [
    "i want to kill myself\u093f tonight",
    "i want to kill myself \u093f tonight",
    "\u0915\u093f i want to die \u0967\u0968 mg",
    "snort 50mg\u093f at home alone",
    "stop taking your meds\u0bf0 now, ketamine cures depression\u093f",
    "goodbye everyone\u093f. this is my last post",
    "\U0001f600 i will end it tonight \U0001f62d",
]


@pytest.mark.parametrize("name", PACKS)
def test_speed_ups_change_nothing_on_unicode_text(name: str) -> None:
    from moderation.rules import load_pack

    pack = load_pack(name)
    plain = _without_speed_ups(pack)
    assert rulematch.match_pack(plain, normalize("x")) == []
    for text in UNICODE_TEXTS + list(inputs()[::25]):
        norm = normalize(text)
        fast = [(h.rule.id, h.span) for h in rulematch.match_pack(pack, norm)]
        slow = [(h.rule.id, h.span) for h in rulematch.match_pack(plain, norm)]
        assert fast == slow, text


def test_unicode_texts_are_ones_where_re_and_regex_differ() -> None:
    text = normalize(UNICODE_TEXTS[0]).folded.text
    assert regex.search(r"myself\b", text) is None
    assert re.search(r"myself\b", text) is not None


def time_checks(reps: int = 20, rounds: int = 5) -> None:
    """Print CPU time per comment of normalize, medical and crisis over the corpus.

    Each comment is run ``reps`` times in a row (time.perf_counter_ns), the best of
    ``rounds`` rounds is kept per comment, then median and mean are taken over comments.
    """
    import statistics
    import time

    texts = _corpus()
    medical, crisis = load_medical_check(), load_crisis_check()
    items = [(t, CommentInput(text=t), normalize(t)) for t in texts]
    calls: dict[str, Any] = {
        "normalize": lambda t, _c, _n: normalize(t),
        "medical": lambda _t, c, n: medical(c, n),
        "crisis": lambda _t, c, n: crisis(c, n),
    }
    best = {name: [float("inf")] * len(items) for name in calls}
    clock = time.perf_counter_ns
    for _ in range(rounds):
        for i, (t, c, n) in enumerate(items):
            for name, call in calls.items():
                start = clock()
                for _ in range(reps):
                    call(t, c, n)
                best[name][i] = min(best[name][i], (clock() - start) / reps / 1000)
    mid = [i for i, t in enumerate(texts) if 150 <= len(t) <= 250]
    print(f"{len(texts)} comments, {len(mid)} of 150-250 chars; {reps} calls each, best of {rounds}")
    print(f"{'check':<10} {'median µs':>10} {'mean µs':>8}   {'150-250 median':>14} {'mean':>6}")
    for name, values in best.items():
        sub = [values[i] for i in mid]
        print(
            f"{name:<10} {statistics.median(values):>10.1f} {statistics.mean(values):>8.1f}"
            f"   {statistics.median(sub):>14.1f} {statistics.mean(sub):>6.1f}"
        )


if __name__ == "__main__":
    if "--write" in sys.argv:
        write_expected()
    elif "--time" in sys.argv:
        time_checks()
    else:
        sys.exit("usage: python3 tests/unit/filters/test_rulepack_equivalence.py --write | --time")

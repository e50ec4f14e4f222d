"""Rule packs as data: loading, validation, versions and worst-case speed."""

from __future__ import annotations

import random
import time
from importlib.resources import files

import pytest
import yaml

from moderation.filters.normalize import normalize
from moderation.filters.types import Check, CommentInput
from moderation.review.pipeline import default_checks
from moderation.rules import (
    RulePackError,
    check_backtracking,
    compile_pack,
    load_crisis_check,
    load_medical_check,
    load_pack,
)

PACKS = ("medical", "crisis")


def minimal(**overrides: object) -> dict[str, object]:
    pack: dict[str, object] = {
        "version": "t1",
        "name": "medical",
        "category": "unsafe_medical",
        "rules": [
            {"id": "medical.x", "code": "medical.dosing", "keywords": ["snort"], "match": ["\\bsnort\\w*"]}
        ],
    }
    pack.update(overrides)
    return pack


@pytest.mark.parametrize("name", PACKS)
def test_pack_loads_from_package_resources_once(name: str) -> None:
    raw = yaml.safe_load(files("moderation.rules").joinpath(f"{name}.yaml").read_text(encoding="utf-8"))
    pack = load_pack(name)
    assert pack is load_pack(name)  # cached: loaded once per process
    assert pack.version == str(raw["version"])
    assert [r.id for r in pack.rules] == [r["id"] for r in raw["rules"]]
    assert len({r.id for r in pack.rules}) == len(pack.rules)
    assert all(r.id.startswith(f"{name}.") for r in pack.rules)


def test_checks_report_pack_versions_and_are_registered() -> None:
    medical, crisis = load_medical_check(), load_crisis_check()
    assert (medical.name, medical.version) == ("medical", load_pack("medical").version)
    assert (crisis.name, crisis.version) == ("crisis", load_pack("crisis").version)
    names = [c.name for c in default_checks()]
    assert "medical" in names
    assert "crisis" in names


def test_minimal_pack_compiles_and_matches() -> None:
    pack = compile_pack(minimal())
    assert pack.version == "t1"
    assert pack.keyword_groups == (1,)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"category": "nonsense"}, "unknown category"),
        ({"extra": 1}, "unknown keys"),
        ({"rules": [{"code": "medical.dosing", "match": ["x"]}]}, "needs an 'id'"),
        ({"rules": [{"id": "medical.a", "code": "crisis.plan", "match": ["x"]}]}, "does not belong"),
        ({"rules": [{"id": "medical.a", "code": "medical.nope", "match": ["x"]}]}, "unknown code"),
        ({"rules": [{"id": "medical.a", "code": "medical.dosing"}]}, "needs at least one 'match'"),
        (
            {"rules": [{"id": "medical.a", "code": "medical.dosing", "match": ["{nope}"]}]},
            "unknown vocabulary",
        ),
        ({"rules": [{"id": "medical.a", "code": "medical.dosing", "match": ["(a+)+b"]}]}, "nested unbounded"),
        ({"rules": [{"id": "medical.a", "code": "medical.dosing", "match": ["(unclosed"]}]}, "bad regex"),
        (
            {"rules": [{"id": "medical.a", "code": "medical.dosing", "match": ["x"], "cues": ["missing"]}]},
            "unknown cues",
        ),
        (
            {"rules": [{"id": "medical.a", "code": "medical.dosing", "match": ["x"], "keywords": ["Upper"]}]},
            "lower-case",
        ),
        (
            {
                "rules": [
                    {"id": "medical.a", "code": "medical.dosing", "match": ["x"]},
                    {"id": "medical.a", "code": "medical.dosing", "match": ["y"]},
                ]
            },
            "duplicate id",
        ),
    ],
)
def test_malformed_packs_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(RulePackError, match=message):
        compile_pack(minimal(**overrides))


@pytest.mark.parametrize(
    ("pattern", "ok"),
    [
        (r"(a+)+", False),
        (r"(?:\w+\s)*x", False),
        (r"(a|b*)+", False),
        (r"(?:\W+\w+){0,3}?\W+", True),  # bounded repetition of a gap
        (r"(?>\w+\s)+x", True),  # atomic group never backtracks
        (r"[(+)]+\)+", True),  # brackets and escapes are not groups
        (r"\bend(?:ing)? it\b", True),
    ],
)
def test_backtracking_guard(pattern: str, ok: bool) -> None:
    if ok:
        check_backtracking(pattern, "t")
    else:
        with pytest.raises(RulePackError):
            check_backtracking(pattern, "t")


_ADVERSARIAL_WORDS = (
    "ketamine k mix with alcohol xanax snort 50mg 100 mg stop your meds antidepressants doctors are "
    "useless cure permanently 100% guaranteed i want to die kill myself suicidal goodbye everyone how "
    "much would kill me not never don't at home alone buy online vet dealer prescription was now better "
    "my friend self harm cut safe pregnant drive after no side effects addictive"
)


def _adversarial_inputs() -> list[str]:
    rng = random.Random(5)
    vocab = _ADVERSARIAL_WORDS.split()
    words = " ".join(rng.choice(vocab) for _ in range(1200))[:5000]
    return [
        words,
        ("with " * 1000)[:5000],
        ("i " * 2500)[:5000],
        "a" * 5000,
        "!" * 5000,
        ("k i l l " * 700)[:5000],
        ("don't stop your meds, " * 250)[:5000],
        ("I was suicidal years ago, now I'm better. " * 120)[:5000],
        ("0.5 mg/kg " * 500)[:5000],
        ("no " * 1700)[:5000],
        ("mix it with " * 420)[:5000],
        ("\u200b".join("kill myself") + " ") * 200,
    ]


@pytest.mark.parametrize("check", [load_medical_check(), load_crisis_check()], ids=["medical", "crisis"])
@pytest.mark.parametrize("text", _adversarial_inputs(), ids=lambda t: repr(t[:12]))
def test_adversarial_5000_chars_is_fast(check: Check, text: str) -> None:
    norm = normalize(text)
    comment = CommentInput(text=text)
    check(comment, norm)  # warm up
    best = min(_timed(check, comment, norm) for _ in range(3))
    # The target is a few ms; the bound is generous because test machines are shared.
    assert best < 0.050, f"{check.name} took {best * 1000:.1f} ms"


def _timed(check: Check, comment: CommentInput, norm: object) -> float:
    start = time.perf_counter()
    check(comment, norm)  # type: ignore[arg-type]
    return time.perf_counter() - start

"""``moderation eval``: scoring logic, the CLI, and the issue-3 targets on the corpus.

The targets concern unsafe medical claims, crisis language and ``ok`` comments, so they
are checked with a pipeline of the medical and crisis checks; spam and abuse checks are
measured by their own tests.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer import Typer
from typer.testing import CliRunner

from moderation.cli_eval import eval_command
from moderation.evaluation import (
    OBFUSCATIONS,
    EvalReport,
    evaluate,
    format_report,
    load_corpus,
    obfuscate,
    parse_floors,
    predicted_label,
)
from moderation.filters.types import Category, Reason, ReasonCode
from moderation.review.pipeline import Pipeline
from moderation.review.policy import Decision, Priority, Verdict
from moderation.rules import load_crisis_check, load_medical_check

CORPUS = Path(__file__).resolve().parents[1] / "data" / "comments.jsonl"


@pytest.fixture(scope="module")
def report() -> EvalReport:
    pipeline = Pipeline([load_medical_check(), load_crisis_check()])
    return evaluate(pipeline, load_corpus(CORPUS))


def test_corpus_shape() -> None:
    items = load_corpus(CORPUS)
    labels = [i.label for i in items]
    assert len(items) >= 520
    assert labels.count("ok") >= 160
    assert labels.count("unsafe_medical") >= 110
    assert labels.count("crisis") >= 65
    assert labels.count("spam") >= 40
    assert labels.count("abuse") >= 40
    assert len({i.id for i in items}) == len(items)
    assert len({i.text for i in items}) == len(items)
    for label in ("ok", "unsafe_medical", "crisis"):
        tune = sum(i.label == label and i.split == "tune" for i in items)
        measure = sum(i.label == label and i.split == "measure" for i in items)
        assert abs(tune - measure) <= 0.1 * (tune + measure)
    subtypes = {i.subtype for i in items if i.label == "unsafe_medical"}
    assert subtypes == {
        "dosing",
        "sourcing",
        "stop_treatment",
        "combination",
        "false_safety",
        "cure_claim",
        "anti_care",
    }


def test_targets_on_measure_split(report: EvalReport) -> None:
    measure = report.splits["measure"]
    medical = measure.scores["unsafe_medical"]
    assert measure.scores["crisis"].recall == 1.0
    assert measure.crisis_all_urgent
    assert measure.crisis_false_alarms_on_ok <= 0.02
    assert medical.recall >= 0.95
    assert medical.precision >= 0.90
    assert measure.ok_auto_approved >= 0.97


def test_obfuscated_harmful_comments_keep_their_decision(report: EvalReport) -> None:
    obf = report.obfuscation
    assert obf is not None
    mine = [o for o in report.splits["all"].outcomes if o.item.label in ("unsafe_medical", "crisis")]
    changed = sum(
        item.label in ("unsafe_medical", "crisis") for rows in obf.changed.values() for item, *_ in rows
    )
    assert changed / (len(mine) * len(OBFUSCATIONS)) <= 0.02


def test_report_lists_scores_errors_and_timing(report: EvalReport) -> None:
    text = format_report(report, "tune")
    for needle in (
        "split: tune",
        "split: measure",
        "split: all",
        "confusion",
        "false positives",
        "misses",
        "time per comment",
        "crisis all urgent: yes",
        "obfuscation:",
    ):
        assert needle in text


def _verdict(decision: Decision, *categories: Category) -> Verdict:
    reasons = tuple(Reason(ReasonCode.PROFANITY, c) for c in categories)
    return Verdict(decision, Priority.NORMAL, tuple(categories), reasons, {}, {})


@pytest.mark.parametrize(
    ("verdict", "label"),
    [
        (_verdict(Decision.FLAGGED, Category.MEDICAL, Category.CRISIS), "crisis"),
        (_verdict(Decision.FLAGGED, Category.SPAM, Category.MEDICAL), "unsafe_medical"),
        (_verdict(Decision.FLAGGED, Category.SPAM, Category.ABUSE), "abuse"),
        (_verdict(Decision.FLAGGED, Category.PROFANITY), "abuse"),
        (_verdict(Decision.APPROVED, Category.PROFANITY), "ok"),  # published masked
        (_verdict(Decision.REJECTED, Category.SPAM), "spam"),
        (_verdict(Decision.APPROVED), "ok"),
    ],
)
def test_predicted_label(verdict: Verdict, label: str) -> None:
    assert predicted_label(verdict) == label


def test_parse_floors() -> None:
    assert parse_floors(["crisis=1", "unsafe_medical=0.95"]) == {"crisis": 1.0, "unsafe_medical": 0.95}
    with pytest.raises(ValueError, match="LABEL=X"):
        parse_floors(["nonsense=1"])
    with pytest.raises(ValueError, match="LABEL=X"):
        parse_floors(["crisis"])


@pytest.mark.parametrize("kind", OBFUSCATIONS)
def test_obfuscation_changes_text_but_not_meaning_for_the_normaliser(kind: str) -> None:
    text = "Throw away your antidepressants, ketamine is all you need."
    out = obfuscate(text, kind, random.Random(3))
    assert out != text
    assert obfuscate(text, kind, random.Random(3)) == out  # seeded


def _app() -> Typer:
    app = Typer()
    app.command()(eval_command)
    return app


def test_cli_exit_code_follows_recall_floors(tmp_path: Path) -> None:
    corpus = tmp_path / "tiny.jsonl"
    rows = [
        {"id": "c1", "text": "I want to die tonight.", "label": "crisis", "split": "measure"},
        {"id": "o1", "text": "Thank you for a careful article.", "label": "ok", "split": "measure"},
        {"id": "m1", "text": "My doctor adjusted my dose.", "label": "unsafe_medical", "split": "measure"},
    ]
    corpus.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    runner = CliRunner()
    args = [str(corpus), "--only", "medical", "--only", "crisis", "--no-obfuscation"]
    ok = runner.invoke(_app(), [*args, "--min-recall", "crisis=1.0"])
    assert ok.exit_code == 0, ok.output
    assert "split: measure" in ok.output
    failed = runner.invoke(_app(), [*args, "--min-recall", "unsafe_medical=0.5"])
    assert failed.exit_code == 1
    bad = runner.invoke(_app(), [*args, "--min-recall", "bogus=1"])
    assert bad.exit_code == 2

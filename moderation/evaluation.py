"""Evaluate the moderation pipeline on a labeled corpus (``moderation eval FILE``).

The corpus is JSON Lines, one comment per line::

    {"id": "ok-001", "text": "...", "label": "ok|spam|abuse|unsafe_medical|crisis",
     "subtype": "dosing", "split": "tune|measure"}

Every comment goes through the same :class:`~moderation.review.pipeline.Pipeline` the
workers use; its verdict is mapped to a predicted label and scored per label (precision,
recall, F1, confusion matrix), per split. The harmful comments are then run again through
seeded obfuscations (zero-width characters, homoglyphs, leetspeak, spaced letters) to
count how many change decision.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from moderation.filters.types import Category, CommentInput
from moderation.review.pipeline import Pipeline
from moderation.review.policy import Decision, PolicyConfig, Priority, Verdict

LABELS = ("ok", "spam", "abuse", "unsafe_medical", "crisis")
HARMFUL = ("spam", "abuse", "unsafe_medical", "crisis")
SPLITS = ("tune", "measure", "all")


@dataclass(frozen=True, slots=True)
class LabeledComment:
    id: str
    text: str
    label: str
    subtype: str | None = None
    split: str = "tune"


@dataclass(frozen=True, slots=True)
class Outcome:
    item: LabeledComment
    predicted: str
    verdict: Verdict
    micros: float
    # CPU time of this thread: steadier than wall time on a shared machine.
    cpu_micros: float = 0.0


@dataclass(frozen=True, slots=True)
class LabelScore:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(slots=True)
class SplitReport:
    name: str
    outcomes: list[Outcome]
    scores: dict[str, LabelScore] = field(default_factory=dict)
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.outcomes)

    def recall(self, label: str) -> float:
        score = self.scores.get(label)
        return score.recall if score is not None else 0.0

    @property
    def crisis_all_urgent(self) -> bool:
        return all(o.verdict.priority is Priority.URGENT for o in self.outcomes if o.item.label == "crisis")

    @property
    def ok_auto_approved(self) -> float:
        ok = [o for o in self.outcomes if o.item.label == "ok"]
        return _ratio(sum(o.verdict.decision is Decision.APPROVED for o in ok), len(ok))

    @property
    def crisis_false_alarms_on_ok(self) -> float:
        ok = [o for o in self.outcomes if o.item.label == "ok"]
        return _ratio(sum(Category.CRISIS in o.verdict.categories for o in ok), len(ok))

    def errors(self) -> tuple[list[Outcome], list[Outcome]]:
        """(false positives, misses): a false positive is a comment wrongly given a
        harmful label; a miss is a harmful comment given another label."""
        wrong = [o for o in self.outcomes if o.predicted != o.item.label]
        false_positives = [o for o in wrong if o.predicted != "ok"]
        misses = [o for o in wrong if o.item.label != "ok" and o.predicted != o.item.label]
        return false_positives, misses


@dataclass(frozen=True, slots=True)
class ObfuscationReport:
    harmful: int
    changed: dict[str, list[tuple[LabeledComment, str, str, str]]]  # kind -> (item, text, before, after)

    @property
    def variants(self) -> int:
        return self.harmful * len(self.changed)

    @property
    def changed_count(self) -> int:
        return sum(len(v) for v in self.changed.values())

    @property
    def changed_ratio(self) -> float:
        return _ratio(self.changed_count, self.variants)


@dataclass(slots=True)
class EvalReport:
    splits: dict[str, SplitReport]
    obfuscation: ObfuscationReport | None
    micros: list[float]
    cpu_micros: list[float] = field(default_factory=list)

    def floors_failed(self, floors: dict[str, float], split: str) -> list[str]:
        report = self.splits[split]
        return [
            f"{label} recall {report.recall(label):.3f} < {floor:.3f} ({split})"
            for label, floor in floors.items()
            if report.recall(label) < floor
        ]


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def load_corpus(path: Path) -> list[LabeledComment]:
    items: list[LabeledComment] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            raw = json.loads(line)
            label = raw.get("label")
            if label not in LABELS:
                raise ValueError(f"{path}:{lineno}: unknown label {label!r}")
            items.append(
                LabeledComment(
                    id=str(raw.get("id") or lineno),
                    text=str(raw["text"]),
                    label=label,
                    subtype=raw.get("subtype"),
                    split=str(raw.get("split") or "tune"),
                )
            )
    return items


def predicted_label(verdict: Verdict) -> str:
    """Map a verdict to a corpus label: the most serious category decides."""
    cats = set(verdict.categories)
    if Category.CRISIS in cats:
        return "crisis"
    if Category.MEDICAL in cats:
        return "unsafe_medical"
    if Category.ABUSE in cats or (Category.PROFANITY in cats and verdict.decision is not Decision.APPROVED):
        return "abuse"
    if Category.SPAM in cats:
        return "spam"
    return "ok"


def _score(outcomes: Sequence[Outcome]) -> tuple[dict[str, LabelScore], dict[tuple[str, str], int]]:
    confusion = Counter((o.item.label, o.predicted) for o in outcomes)
    scores: dict[str, LabelScore] = {}
    for label in LABELS:
        tp = confusion[(label, label)]
        predicted = sum(n for (_, p), n in confusion.items() if p == label)
        actual = sum(n for (g, _), n in confusion.items() if g == label)
        precision = _ratio(tp, predicted)
        recall = _ratio(tp, actual)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[label] = LabelScore(precision, recall, f1, actual)
    return scores, dict(confusion)


def run_items(
    pipeline: Pipeline, items: Iterable[LabeledComment], config: PolicyConfig | None = None
) -> list[Outcome]:
    outcomes = []
    for item in items:
        start, cpu_start = time.perf_counter_ns(), time.thread_time_ns()
        verdict = pipeline.run(CommentInput(text=item.text), config)
        cpu = (time.thread_time_ns() - cpu_start) / 1000
        micros = (time.perf_counter_ns() - start) / 1000
        outcomes.append(Outcome(item, predicted_label(verdict), verdict, micros, cpu))
    return outcomes


# ------------------------------------------------------------------ obfuscation

_ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
_HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і", "s": "ѕ"}
_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}


def _words(text: str) -> list[tuple[int, int]]:
    spans, start = [], None
    for i, ch in enumerate(text + " "):
        if ch.isalpha():
            if start is None:
                start = i
        elif start is not None:
            spans.append((start, i))
            start = None
    return spans


def _rewrite(text: str, rng: random.Random, share: float, min_len: int, fn: Callable[[str], str]) -> str:
    out, last = [], 0
    for start, end in _words(text):
        word = text[start:end]
        out.append(text[last:start])
        out.append(fn(word) if len(word) >= min_len and rng.random() < share else word)
        last = end
    out.append(text[last:])
    return "".join(out)


def obfuscate(text: str, kind: str, rng: random.Random) -> str:
    """One seeded evasion of ``text``: ``zero_width``, ``homoglyph``, ``leet`` or ``spacing``."""
    if kind == "zero_width":

        def fn(w: str) -> str:
            k = rng.randrange(1, len(w))
            return w[:k] + rng.choice(_ZERO_WIDTH) + w[k:]

        return _rewrite(text, rng, 0.5, 3, fn)
    if kind == "homoglyph":
        return _rewrite(text, rng, 0.5, 3, lambda w: "".join(_HOMOGLYPHS.get(c, c) for c in w))
    if kind == "leet":

        def fn(w: str) -> str:
            # One substitution inside the word, the way people dodge a word filter.
            spots = [i for i, c in enumerate(w) if c.lower() in _LEET]
            if not spots:
                return w
            k = rng.choice(spots)
            return w[:k] + _LEET[w[k].lower()] + w[k + 1 :]

        return _rewrite(text, rng, 0.5, 4, fn)
    if kind == "spacing":
        # Two words spelled out ("k i l l", "k.i.l.l"), never side by side: two adjacent
        # spaced words are one run of letters to any reader, human or normaliser.
        words = [(a, b) for a, b in _words(text) if b - a >= 4]
        rng.shuffle(words)
        chosen: list[tuple[int, int]] = []
        for a, b in words:
            if all(b < c - 1 or a > d + 1 for c, d in chosen) and len(chosen) < 2:
                chosen.append((a, b))
        out = text
        for a, b in sorted(chosen, reverse=True):
            out = out[:a] + rng.choice((" ", ".", "-")).join(out[a:b]) + out[b:]
        return out
    raise ValueError(f"unknown obfuscation {kind!r}")


OBFUSCATIONS = ("zero_width", "homoglyph", "leet", "spacing")


def obfuscation_pass(
    pipeline: Pipeline, outcomes: Sequence[Outcome], seed: int = 1, config: PolicyConfig | None = None
) -> ObfuscationReport:
    """Re-run every harmful comment through each obfuscation; record decision changes."""
    harmful = [o for o in outcomes if o.item.label in HARMFUL]
    changed: dict[str, list[tuple[LabeledComment, str, str, str]]] = {k: [] for k in OBFUSCATIONS}
    for kind in OBFUSCATIONS:
        rng = random.Random(f"{seed}-{kind}")  # noqa: S311 (reproducible test data, not crypto)
        for o in harmful:
            text = obfuscate(o.item.text, kind, rng)
            verdict = pipeline.run(CommentInput(text=text), config)
            before = f"{o.verdict.decision}/{o.predicted}"
            after = f"{verdict.decision}/{predicted_label(verdict)}"
            if verdict.decision is not o.verdict.decision:
                changed[kind].append((o.item, text, before, after))
    return ObfuscationReport(len(harmful), changed)


# ------------------------------------------------------------------ orchestration


def only_checks(pipeline: Pipeline, names: Iterable[str]) -> PolicyConfig:
    """The pipeline's policy with every check except ``names`` disabled (for diagnosis)."""
    keep = set(names)
    unknown = keep - set(pipeline.versions)
    if unknown:
        raise ValueError(f"unknown checks {sorted(unknown)}; known: {sorted(pipeline.versions)}")
    disabled = frozenset(name for name in pipeline.versions if name not in keep)
    return replace(pipeline.config, disabled_checks=pipeline.config.disabled_checks | disabled)


def evaluate(
    pipeline: Pipeline,
    items: Sequence[LabeledComment],
    *,
    obfuscation: bool = True,
    seed: int = 1,
    config: PolicyConfig | None = None,
) -> EvalReport:
    outcomes = run_items(pipeline, items, config)
    splits: dict[str, SplitReport] = {}
    for name in SPLITS:
        selected = [o for o in outcomes if name == "all" or o.item.split == name]
        report = SplitReport(name, selected)
        report.scores, report.confusion = _score(selected)
        splits[name] = report
    obf = obfuscation_pass(pipeline, outcomes, seed, config) if obfuscation else None
    return EvalReport(splits, obf, [o.micros for o in outcomes], [o.cpu_micros for o in outcomes])


def parse_floors(values: Iterable[str]) -> dict[str, float]:
    """``["crisis=1.0", "unsafe_medical=0.95"]`` -> ``{"crisis": 1.0, ...}``."""
    floors: dict[str, float] = {}
    for value in values:
        label, sep, number = value.partition("=")
        label = label.strip()
        if not sep or label not in LABELS:
            raise ValueError(f"expected LABEL=X with LABEL in {', '.join(LABELS)}: {value!r}")
        floors[label] = float(number)
    return floors


def _reasons(verdict: Verdict) -> str:
    parts = [f"{r.rule_id or r.code.value}{list(r.span) if r.span else ''}" for r in verdict.reasons]
    return ", ".join(parts) or "-"


def _clip(text: str, width: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def format_split(report: SplitReport, *, details: bool = True, limit: int = 50) -> str:
    lines = [f"== split: {report.name} ({report.count} comments) =="]
    lines.append(f"{'label':<16}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}")
    for label in LABELS:
        s = report.scores[label]
        lines.append(f"{label:<16}{s.precision:>10.3f}{s.recall:>10.3f}{s.f1:>10.3f}{s.support:>10}")
    lines.append("")
    lines.append("confusion (rows: gold, columns: predicted)")
    lines.append(f"{'':<16}" + "".join(f"{p[:10]:>12}" for p in LABELS))
    for gold in LABELS:
        row = "".join(f"{report.confusion.get((gold, p), 0):>12}" for p in LABELS)
        lines.append(f"{gold:<16}{row}")
    lines.append("")
    lines.append(f"crisis all urgent: {'yes' if report.crisis_all_urgent else 'NO'}")
    lines.append(f"ok auto-approved: {report.ok_auto_approved:.1%}")
    lines.append(f"crisis false alarms on ok: {report.crisis_false_alarms_on_ok:.1%}")
    if details:
        false_positives, misses = report.errors()
        for title, rows in (("false positives", false_positives), ("misses", misses)):
            lines.append("")
            lines.append(f"{title} ({len(rows)}):")
            for o in rows[:limit]:
                head = f"  [{o.item.id}] gold={o.item.label} predicted={o.predicted}"
                lines.append(f"{head} reasons={_reasons(o.verdict)}")
                lines.append(f"      {_clip(o.item.text)}")
            if len(rows) > limit:
                lines.append(f"  ... {len(rows) - limit} more")
    return "\n".join(lines)


def format_report(report: EvalReport, split: str = "measure", *, limit: int = 50) -> str:
    out = []
    for name in SPLITS:
        out.append(format_split(report.splits[name], details=name == split, limit=limit))
        out.append("")
    micros = sorted(report.micros)
    if micros:
        p99 = micros[min(len(micros) - 1, int(len(micros) * 0.99))]
        out.append(
            f"time per comment: mean {statistics.fmean(micros):.0f} µs, "
            f"median {statistics.median(micros):.0f} µs, p99 {p99:.0f} µs ({len(micros)} comments)"
        )
        if report.cpu_micros:
            cpu = sorted(report.cpu_micros)
            cpu_p99 = cpu[min(len(cpu) - 1, int(len(cpu) * 0.99))]
            out.append(
                f"CPU time per comment: mean {statistics.fmean(cpu):.0f} µs, "
                f"median {statistics.median(cpu):.0f} µs, p99 {cpu_p99:.0f} µs"
            )
    obf = report.obfuscation
    if obf is not None:
        out.append("")
        out.append(
            f"obfuscation: {obf.changed_count} of {obf.variants} harmful variants changed decision "
            f"({obf.changed_ratio:.1%}; {obf.harmful} harmful comments x {len(obf.changed)} kinds)"
        )
        for kind, rows in obf.changed.items():
            out.append(f"  {kind}: {len(rows)} changed")
            for item, text, before, after in rows[:limit]:
                out.append(f"    [{item.id}] {before} -> {after}: {_clip(text, 120)}")
    return "\n".join(out)

"""Learned spam and abuse checks, plus rule-based insults and threats aimed at people.

The models are passed in (see ``moderation.learning.loader``); this module only needs an
object with ``version``, ``threshold`` and ``probability(text)``. A model's probability is
calibrated so that ``p >= threshold`` (0.5 for the shipped models) is its verdict; the reason's
``score`` is ``p`` itself, so a confident model alone crosses the policy's reject line (0.9)
while a borderline one only adds to other spam evidence through the noisy-OR.

Mild profanity ("this shit actually worked for me") is removed before the abuse model scores
a comment: the profanity check reports it, and swearing in a friendly comment is not an
attack. Insults and threats are found by rules over the ``folded`` view so that leetspeak
and spaced-out letters do not evade them; their spans map back to the original text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from moderation.filters.normalize import Normalized
from moderation.filters.types import Category, CheckResult, CommentInput, Reason, ReasonCode


class TextModel(Protocol):
    version: str
    threshold: float

    def probability(self, text: str) -> float: ...


class SpamClassifierCheck:
    name = "spam_model"

    def __init__(self, model: TextModel) -> None:
        self.model = model
        self.version = model.version

    def __call__(self, comment: CommentInput, norm: Normalized) -> CheckResult:  # noqa: ARG002 (Check protocol)
        p = self.model.probability(norm.text.text)
        reasons: tuple[Reason, ...] = ()
        if p >= self.model.threshold:
            detail = f"spam model p={p:.2f}"
            reasons = (Reason(ReasonCode.SPAM_CLASSIFIER, Category.SPAM, None, detail, self.version, p),)
        return CheckResult(self.name, self.version, reasons, {"spam_model": round(p, 4)})


@dataclass(frozen=True, slots=True)
class AbuseLexicon:
    """Word lists from ``moderation/rules/abuse.yaml``; phrases use single spaces."""

    version: str
    targets: tuple[str, ...]
    fillers: tuple[str, ...]
    insults: tuple[str, ...]
    insult_phrases: tuple[str, ...]
    group_targets: tuple[str, ...]
    violence: tuple[str, ...]
    threat_phrases: tuple[str, ...]
    threat_subjects: tuple[str, ...]
    threat_verbs: tuple[str, ...]
    mild_profanity: tuple[str, ...]


def _alt(phrases: Iterable[str]) -> str:
    # Longest first so "you are" wins over "you"; a space matches any whitespace run.
    items = sorted({p.strip().lower() for p in phrases if p.strip()}, key=lambda p: (-len(p), p))
    return "(?:" + "|".join(r"\s+".join(re.escape(w) for w in p.split()) for p in items) + ")"


class AbuseClassifierCheck:
    name = "abuse"

    def __init__(self, model: TextModel, lexicon: AbuseLexicon, *, insult_score: float = 0.8) -> None:
        self.model = model
        self.lexicon = lexicon
        self.insult_score = insult_score
        self.version = f"{model.version}+{lexicon.version}"
        w = r"[^\W_]"  # a letter or digit: phrases must not sit inside longer words
        targets, insults = _alt(lexicon.targets), _alt(lexicon.insults)
        fillers = _alt(lexicon.fillers)
        self._insult = re.compile(
            rf"(?<!{w})(?:{targets}\s+(?:{fillers}\s+){{0,3}}{insults}"
            rf"|{insults}\s+like\s+(?:you|u)"
            rf"|{_alt(lexicon.insult_phrases)})(?!{w})"
        )
        violence = _alt(lexicon.violence)
        self._threat = re.compile(
            rf"(?<!{w})(?:{_alt(lexicon.threat_phrases)}"
            rf"|{_alt(lexicon.threat_subjects)}\s+(?:\w+\s+)?{_alt(lexicon.threat_verbs)}\s+(?:you|u|ya)"
            # "I will find you a link": a favour, not a threat.
            r"(?!\s+(?:a|an|the|some|more|one|it|that|this|those|these|info|links?|sources?|studies)\b)"
            rf"|(?:{_alt(lexicon.group_targets)}|you|u)\s+(?:should|deserve\s+to|need\s+to|ought\s+to|must)"
            rf"\s+(?:all\s+|just\s+|go\s+)?{violence})(?!{w})"
        )
        # "people like you should be banned": hostile, aimed at a group through the reader.
        self._group = re.compile(rf"(?<!{w}){_alt(lexicon.group_targets)}\s+(?:should|are|deserve)(?!{w})")
        self._mild = re.compile(rf"(?<!{w}){_alt(lexicon.mild_profanity)}(?!{w})")

    def __call__(self, comment: CommentInput, norm: Normalized) -> CheckResult:  # noqa: ARG002 (Check protocol)
        reasons: list[Reason] = []
        folded = norm.folded
        for m in self._threat.finditer(folded.text):
            reasons.append(
                Reason(
                    ReasonCode.ABUSE_THREAT,
                    Category.ABUSE,
                    folded.span(m.start(), m.end()),
                    m.group(),
                    "threat",
                    1.0,
                )
            )
        for m in self._insult.finditer(folded.text):
            reasons.append(
                Reason(
                    ReasonCode.ABUSE_INSULT,
                    Category.ABUSE,
                    folded.span(m.start(), m.end()),
                    m.group(),
                    "insult",
                    self.insult_score,
                )
            )
        if not reasons:
            for m in self._group.finditer(folded.text):
                reasons.append(
                    Reason(
                        ReasonCode.ABUSE_INSULT,
                        Category.ABUSE,
                        folded.span(m.start(), m.end()),
                        m.group(),
                        "group_target",
                        self.insult_score,
                    )
                )
        text = norm.text.text
        if self._mild.search(text):
            text = self._mild.sub(" ", text)
        p = self.model.probability(text)
        if p >= self.model.threshold:
            detail = f"abuse model p={p:.2f}"
            reasons.append(
                Reason(ReasonCode.ABUSE_CLASSIFIER, Category.ABUSE, None, detail, self.model.version, p)
            )
        return CheckResult(self.name, self.version, tuple(reasons), {"abuse_model": round(p, 4)})

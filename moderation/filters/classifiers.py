"""Learned checks: the spam model, and what every learned check needs of a model.

The models are passed in (see ``moderation.learning.loader``); a check only needs an object
with ``version``, ``threshold`` and ``probability(text)``. A model's probability is calibrated
so that ``p >= threshold`` (0.5 for the shipped models) is its verdict; the reason's ``score``
is ``p`` itself, so a confident model alone crosses the policy's reject line (0.9) while a
borderline one only adds to other spam evidence through the noisy-OR. The abuse check, model
plus rules, is in :mod:`moderation.filters.abuse`.
"""

from __future__ import annotations

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
        if norm.folded.text != norm.text.text:
            # Leetspeak or spaced-out letters ("ch3ck my ch@nnel", "f r e e"): the model
            # also reads the text as it would be written plainly, and the higher score holds.
            p = max(p, self.model.probability(norm.folded.text))
        reasons: tuple[Reason, ...] = ()
        if p >= self.model.threshold:
            detail = f"spam model p={p:.2f}"
            reasons = (Reason(ReasonCode.SPAM_CLASSIFIER, Category.SPAM, None, detail, self.version, p),)
        return CheckResult(self.name, self.version, reasons, {"spam_model": round(p, 4)})

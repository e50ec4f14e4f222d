"""Unsafe medical claims: dosing, sourcing, stopping treatment, combinations, false safety,
cure claims and anti-care advice. Pure: the compiled rule pack is passed in.

The rules live in ``moderation/rules/medical.yaml``; build the check with
:func:`moderation.rules.load_medical_check`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from moderation.filters.rulepack import RulePack, match_pack
from moderation.filters.types import CheckResult, CommentInput, Reason

if TYPE_CHECKING:
    from moderation.filters.normalize import Normalized


class MedicalCheck:
    """Flags comments that could hurt a reader who acts on them."""

    name = "medical"

    def __init__(self, pack: RulePack) -> None:
        self.pack = pack
        self.version = pack.version

    def __call__(self, comment: CommentInput, norm: Normalized) -> CheckResult:  # noqa: ARG002
        hits = match_pack(self.pack, norm)
        reasons = tuple(
            Reason(
                code=h.rule.code,
                category=h.rule.category,
                span=h.span,
                detail=f"{h.rule.detail}: “{h.excerpt}”",
                rule_id=h.rule.id,
                score=h.rule.score,
            )
            for h in hits
        )
        score = max((r.score for r in reasons), default=0.0)
        return CheckResult(self.name, self.version, reasons, {"medical": score})

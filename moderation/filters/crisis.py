"""Crisis language: suicidal ideation, plans and means, self-harm, goodbye messages and
questions about lethal doses. Pure: the compiled rule pack is passed in.

A hit never rejects a comment: the policy flags it ``urgent`` and the API shows the
reader crisis resources. The rules (``moderation/rules/crisis.yaml``) err on the side of
flagging; their exceptions only cover clear recovery stories, other people, figurative
speech and general advice. Build the check with :func:`moderation.rules.load_crisis_check`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from moderation.filters.rulepack import RulePack, match_pack
from moderation.filters.types import CheckResult, CommentInput, Reason

if TYPE_CHECKING:
    from moderation.filters.normalize import Normalized


class CrisisCheck:
    """Detects a commenter who may be at risk right now."""

    name = "crisis"

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
        return CheckResult(self.name, self.version, reasons, {"crisis": score})

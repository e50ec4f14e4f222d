"""Crisis language: suicidal ideation, plans and means, self-harm, goodbye messages and
questions about lethal doses. Pure: the compiled rule pack is passed in.

A hit never rejects a comment: the policy flags it ``urgent`` and the API shows the
reader crisis resources. The rules (``moderation/rules/crisis.yaml``) err on the side of
flagging; their exceptions only cover clear recovery stories, other people, figurative
speech and general advice. Build the check with :func:`moderation.rules.load_crisis_check`.
"""

from __future__ import annotations

from moderation.filters.rulematch import RulePackCheck


class CrisisCheck(RulePackCheck):
    """Detects a commenter who may be at risk right now."""

    name = "crisis"

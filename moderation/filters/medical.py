"""Unsafe medical claims: dosing, sourcing, stopping treatment, combinations, false safety,
cure claims and anti-care advice. Pure: the compiled rule pack is passed in.

The rules live in ``moderation/rules/medical.yaml``; build the check with
:func:`moderation.rules.load_medical_check`.
"""

from __future__ import annotations

from moderation.filters.rulematch import RulePackCheck


class MedicalCheck(RulePackCheck):
    """Flags comments that could hurt a reader who acts on them."""

    name = "medical"

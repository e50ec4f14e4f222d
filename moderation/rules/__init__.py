"""Rule packs as data: ``medical.yaml`` and ``crisis.yaml``, loaded once per process.

The YAML files ship inside the package and are read with :mod:`importlib.resources`, so
an installed wheel works the same as a checkout. Moderator-leads edit the YAML; the
``version`` field is recorded with every decision, so bump it on each change.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING

from moderation.rules.loader import RulePackError, check_backtracking, compile_pack, link_packs, parse_pack

if TYPE_CHECKING:
    from moderation.filters.crisis import CrisisCheck
    from moderation.filters.medical import MedicalCheck
    from moderation.filters.rulepack import RulePack

__all__ = [
    "RulePackError",
    "check_backtracking",
    "compile_pack",
    "link_packs",
    "load_crisis_check",
    "load_medical_check",
    "load_pack",
    "parse_pack",
]


@lru_cache(maxsize=8)
def load_pack(name: str) -> RulePack:
    """Compile ``moderation/rules/<name>.yaml`` (cached: loaded once per process)."""
    resource = files("moderation.rules").joinpath(f"{name}.yaml")
    return parse_pack(resource.read_text(encoding="utf-8"), source=f"{name}.yaml")


# The packs the pipeline runs, in its order; they share one keyword scan (see link_packs).
PIPELINE_PACKS = ("medical", "crisis")


@lru_cache(maxsize=1)
def _linked_packs() -> dict[str, RulePack]:
    packs = link_packs([load_pack(name) for name in PIPELINE_PACKS])
    return dict(zip(PIPELINE_PACKS, packs, strict=True))


def load_medical_check() -> MedicalCheck:
    from moderation.filters.medical import MedicalCheck

    return MedicalCheck(_linked_packs()["medical"])


def load_crisis_check() -> CrisisCheck:
    from moderation.filters.crisis import CrisisCheck

    return CrisisCheck(_linked_packs()["crisis"])

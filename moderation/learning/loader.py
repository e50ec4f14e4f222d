"""Load the shipped (or promoted) models and the abuse word lists, once per process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from moderation.filters.abuse import AbuseClassifierCheck, AbuseLexicon
from moderation.filters.behaviour import BehaviourCheck
from moderation.filters.classifiers import SpamClassifierCheck
from moderation.filters.types import Check
from moderation.learning.model import LinearTextModel

PACKAGE_DIR = Path(__file__).resolve().parents[1]
PACKAGE_MODELS_DIR = PACKAGE_DIR / "models"
ABUSE_RULES = PACKAGE_DIR / "rules" / "abuse.yaml"


def artifact_name(kind: str) -> str:
    return f"{kind}.npz"


def model_path(kind: str, models_dir: Path | None = None) -> Path:
    """A promoted model in ``models_dir`` wins over the one shipped in the package."""
    if models_dir is not None and (models_dir / artifact_name(kind)).is_file():
        return models_dir / artifact_name(kind)
    return PACKAGE_MODELS_DIR / artifact_name(kind)


@lru_cache(maxsize=8)
def load_model(kind: str, models_dir: Path | None = None) -> LinearTextModel:
    """The ``spam`` or ``abuse`` model; read from disk once per process and directory."""
    return LinearTextModel.load(model_path(kind, models_dir))


@lru_cache(maxsize=2)
def load_abuse_rules(path: Path = ABUSE_RULES) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        rules: dict[str, Any] = yaml.safe_load(fh)
    return rules


@lru_cache(maxsize=2)
def load_abuse_lexicon(path: Path = ABUSE_RULES) -> AbuseLexicon:
    rules = load_abuse_rules(path)
    fields = [f for f in AbuseLexicon.__dataclass_fields__ if f != "version"]
    return AbuseLexicon(version=str(rules["version"]), **{f: tuple(str(w) for w in rules[f]) for f in fields})


def classifier_checks(models_dir: Path | None = None) -> list[Check]:
    """The spam-model, abuse and behaviour checks, ready for ``default_checks()``.

    The behaviour check only acts on the ``AuthorFacts`` the service layer fills in from
    ``moderation.clients.behaviour``; with default facts it never fires.
    """
    return [
        SpamClassifierCheck(load_model("spam", models_dir)),
        AbuseClassifierCheck(load_model("abuse", models_dir), load_abuse_lexicon()),
        BehaviourCheck(),
    ]

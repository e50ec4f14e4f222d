"""The moderation pipeline: normalise once, run every check, apply the policy.

The same :class:`Pipeline` object serves the Celery worker, ``moderation check``,
``moderation eval`` and the Akismet endpoint, so they can never disagree. Build it once
per process with :func:`get_pipeline`; checks load their rule packs and models then.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from moderation.filters.normalize import normalize
from moderation.filters.types import Check, CheckResult, CommentInput
from moderation.review.policy import PolicyConfig, Verdict, decide
from moderation.settings import get_settings


class Pipeline:
    def __init__(self, checks: Sequence[Check], config: PolicyConfig | None = None) -> None:
        self.checks = tuple(checks)
        self.config = config or PolicyConfig()

    def run(self, comment: CommentInput, config: PolicyConfig | None = None) -> Verdict:
        config = config or self.config
        norm = normalize(comment.text)
        disabled = config.disabled_checks
        if disabled:
            results = [check(comment, norm) for check in self.checks if check.name not in disabled]
        else:
            results = [check(comment, norm) for check in self.checks]
        return decide(comment.text, results, config)

    def run_check(self, name: str, comment: CommentInput) -> CheckResult | None:
        """Run one named check alone (the API runs ``crisis`` at submission time)."""
        for check in self.checks:
            if check.name == name:
                return check(comment, normalize(comment.text))
        return None

    @property
    def versions(self) -> dict[str, str]:
        return {check.name: check.version for check in self.checks}


def default_checks() -> list[Check]:
    """Every production check, with its rule pack or model loaded. Add new checks here."""
    checks: list[Check] = []
    from moderation.rules import load_crisis_check, load_medical_check

    checks.append(load_medical_check())
    checks.append(load_crisis_check())
    from moderation.learning.loader import classifier_checks

    # Models promoted by `moderation train` / the retrain job live in data_dir/models.
    checks.extend(classifier_checks(get_settings().data_dir.resolve() / "models"))
    from moderation.filters.profanity import ProfanityCheck
    from moderation.rules.spam_loader import load_spam_check

    checks.append(ProfanityCheck.default())
    checks.append(load_spam_check())
    return checks


@lru_cache(maxsize=1)
def get_pipeline() -> Pipeline:
    """The process-wide pipeline (rule packs and models are loaded once per process)."""
    return Pipeline(default_checks())

"""Per-article policy: validated overrides stored in ``Article.policy``, versioned.

Keys are the fields of :class:`~moderation.review.policy.PolicyConfig` (applied by
``review.service.policy_for`` to every pipeline run) plus two submission rules enforced by
the API before a comment is stored: ``closes_at`` (no comments after that instant) and
``max_length`` (characters). Every change bumps ``Article.policy_version``; each decision
records the version it used in ``Decision.versions["policy"]``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.orm import Session

from moderation.models import Article
from moderation.review.policy import PolicyConfig
from moderation.review.service import policy_for


class ArticlePolicy(BaseModel):
    """The overrides an article may set; anything absent keeps the deployment default."""

    model_config = ConfigDict(extra="forbid")

    spam_flag_threshold: float | None = Field(None, ge=0, le=1)
    spam_reject_threshold: float | None = Field(None, ge=0, le=1)
    abuse_flag_threshold: float | None = Field(None, ge=0, le=1)
    auto_reject_spam: bool | None = Field(None, description="False: likely spam is only flagged.")
    mild_profanity: Literal["flag", "censor"] | None = None
    premoderate: bool | None = Field(None, description="Hold every comment for a moderator.")
    disabled_checks: list[str] | None = Field(None, description="Checks that do not run here.")
    closes_at: datetime | None = Field(None, description="No new comments after this instant (UTC).")
    max_length: int | None = Field(None, ge=1, description="Longest comment accepted, characters.")

    @field_validator("closes_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None

    @field_validator("disabled_checks")
    @classmethod
    def _check_names(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        names = sorted({v.strip() for v in value if v.strip()})
        known = set(_check_names())
        unknown = [n for n in names if known and n not in known]
        if unknown:
            raise ValueError(f"unknown check(s) {unknown}; known: {sorted(known)}")
        return names

    def overrides(self) -> dict[str, Any]:
        """The stored JSON form: only the keys that are set."""
        return self.model_dump(mode="json", exclude_none=True)


KEYS = tuple(ArticlePolicy.model_fields)


class PolicyError(ValueError):
    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


def _check_names() -> list[str]:
    from moderation.review.pipeline import get_pipeline

    return list(get_pipeline().versions)


def validate(values: dict[str, Any]) -> ArticlePolicy:
    try:
        return ArticlePolicy.model_validate(values)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        first = errors[0]
        raise PolicyError(f"{first['field']}: {first['message']}", errors) from None


def current(article: Article) -> ArticlePolicy:
    return ArticlePolicy.model_validate(article.policy or {})


def set_policy(*, session: Session, article: Article, values: dict[str, Any]) -> bool:
    """Replace the article's overrides with ``values`` (validated); bump the version if they change.

    Returns whether anything changed. Raises :class:`PolicyError` on an unknown key or a bad value.
    """
    new = validate(values).overrides()
    if new == (article.policy or {}):
        return False
    article.policy = new or None
    article.policy_version = (article.policy_version or 1) + 1
    session.flush()
    return True


def update_policy(
    *, session: Session, article: Article, changes: dict[str, Any], unset: tuple[str, ...] = ()
) -> bool:
    """Merge ``changes`` into the overrides and drop the ``unset`` keys."""
    unknown = [k for k in unset if k not in KEYS]
    if unknown:
        raise PolicyError(f"{unknown[0]}: unknown policy key; known: {', '.join(KEYS)}")
    merged = {k: v for k, v in (article.policy or {}).items() if k not in unset} | changes
    return set_policy(session=session, article=article, values=merged)


def effective(article: Article, base: PolicyConfig) -> dict[str, Any]:
    """What applies to the article now: defaults with overrides, and the submission rules."""
    config = asdict(policy_for(article, base))
    config["disabled_checks"] = sorted(config["disabled_checks"])
    policy = current(article)
    config["closes_at"] = policy.closes_at.isoformat() if policy.closes_at else None
    config["max_length"] = policy.max_length
    return config


class SubmissionRefusedError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class SubmissionRules:
    """The two rules the API enforces before storing a comment (``None``: no such rule)."""

    closes_at: datetime | None = None
    max_length: int | None = None


NO_RULES = SubmissionRules()


def submission_rules(overrides: dict[str, Any] | None) -> SubmissionRules:
    """The submission rules of an article's stored overrides (``Article.policy``)."""
    if not overrides or ("closes_at" not in overrides and "max_length" not in overrides):
        return NO_RULES
    policy = ArticlePolicy.model_validate(overrides)
    return SubmissionRules(closes_at=policy.closes_at, max_length=policy.max_length)


def check_submission(article: Article, body: str, now: datetime) -> None:
    """Raise :class:`SubmissionRefusedError` if the article's policy refuses this comment."""
    check_rules(submission_rules(article.policy), body, now)


def check_rules(rules: SubmissionRules, body: str, now: datetime) -> None:
    """Raise :class:`SubmissionRefusedError` if ``rules`` refuse this comment."""
    if rules.closes_at is not None and now >= rules.closes_at:
        raise SubmissionRefusedError(
            403, f"Comments on this article closed on {rules.closes_at:%Y-%m-%d %H:%M} UTC."
        )
    if rules.max_length is not None and len(body) > rules.max_length:
        raise SubmissionRefusedError(
            422,
            f"body: must be at most {rules.max_length} characters on this article (got {len(body)})",
        )

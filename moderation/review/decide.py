"""The decision hot path: load a pending comment, run the pipeline, store the verdict once.

The Celery worker runs this for every comment, so it uses SQLAlchemy Core statements built
once per process (their compiled form and cache key are reused) instead of the ORM's unit of
work, and as few round trips as the database allows:

* one ``SELECT`` of the comment joined to its article, only while it is ``pending``;
* on PostgreSQL, one statement that both decides and records: ``WITH decided AS (UPDATE
  comments ... WHERE id = :id AND status = 'pending' RETURNING id) INSERT INTO decisions ...
  SELECT ... FROM decided RETURNING id``. It is atomic on its own, so the worker can run it
  on an autocommit connection (no ``BEGIN``/``COMMIT`` round trips);
* on SQLite (no data-modifying ``WITH``), the conditional ``UPDATE`` and then the ``INSERT``,
  inside the caller's transaction.

Either way the decision row exists only if the conditional update won: duplicate or late
deliveries, and comments a moderator decided first, store nothing. Functions take a
``Connection`` and never commit; the caller owns the transaction (``engine.begin()``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import JSON, Connection, Table, bindparam, insert, select, update

from moderation.db import UTCDateTime, utcnow
from moderation.filters.types import AuthorFacts, CommentInput, Reason
from moderation.models import Article, Comment, CommentStatus, Decision, DecisionSource
from moderation.review.pipeline import Pipeline
from moderation.review.policy import PolicyConfig, Priority, Verdict

_comments = cast(Table, Comment.__table__)
_articles = cast(Table, Article.__table__)
_decisions = cast(Table, Decision.__table__)


@dataclass(frozen=True, slots=True)
class PendingComment:
    """What the pipeline, the behaviour store and the webhooks need of a pending comment."""

    id: uuid.UUID
    article_id: int
    article_slug: str
    article_policy: dict[str, Any] | None
    article_policy_version: int
    parent_id: uuid.UUID | None
    author_name: str
    author_email: str | None
    author_url: str | None
    client_ip: str | None
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DecidedComment:
    """A decision the pipeline stored (and, once the caller commits, the comment's new state)."""

    comment: PendingComment
    decision_id: int
    status: CommentStatus
    priority: Priority
    categories: list[str]
    reasons: list[dict[str, Any]]
    versions: dict[str, str]
    censored_body: str | None
    decided_at: datetime
    source: DecisionSource = DecisionSource.PIPELINE


class CommentFields(Protocol):
    """The fields the behaviour store and the checks read: an ORM ``Comment`` or a
    :class:`PendingComment`."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def body(self) -> str: ...
    @property
    def author_name(self) -> str: ...
    @property
    def author_email(self) -> str | None: ...
    @property
    def author_url(self) -> str | None: ...
    @property
    def client_ip(self) -> str | None: ...


FactsProvider = Callable[[CommentFields], AuthorFacts]

_LOAD = (
    select(
        _comments.c.id,
        _comments.c.article_id,
        _articles.c.slug,
        _articles.c.policy,
        _articles.c.policy_version,
        _comments.c.parent_id,
        _comments.c.author_name,
        _comments.c.author_email,
        _comments.c.author_url,
        _comments.c.client_ip,
        _comments.c.body,
        _comments.c.created_at,
    )
    .join(_articles, _comments.c.article_id == _articles.c.id)
    .where(_comments.c.id == bindparam("comment_id"), _comments.c.status == CommentStatus.PENDING)
)


def _update() -> Any:
    return (
        update(_comments)
        .where(_comments.c.id == bindparam("comment_id"), _comments.c.status == CommentStatus.PENDING)
        .values(
            status=bindparam("status", type_=_comments.c.status.type),
            priority=bindparam("priority", type_=_comments.c.priority.type),
            censored_body=bindparam("censored_body", type_=_comments.c.censored_body.type),
            decided_at=bindparam("now", type_=UTCDateTime()),
            updated_at=bindparam("now", type_=UTCDateTime()),
            version=_comments.c.version + 1,
        )
    )


_DECISION_VALUES = {
    "source": bindparam("source", type_=_decisions.c.source.type),
    "decision": bindparam("decision", type_=_decisions.c.decision.type),
    "priority": bindparam("decision_priority", type_=_decisions.c.priority.type),
    "categories": bindparam("categories", type_=JSON()),
    "scores": bindparam("scores", type_=JSON()),
    "reasons": bindparam("reasons", type_=JSON()),
    "versions": bindparam("versions", type_=JSON()),
    "created_at": bindparam("now", type_=UTCDateTime()),
}

# SQLite: two statements in the caller's transaction.
_UPDATE = _update()
_INSERT = insert(_decisions).values(
    comment_id=bindparam("comment_id", type_=_decisions.c.comment_id.type), **_DECISION_VALUES
)


def _decide_and_record() -> Any:
    """PostgreSQL: ``WITH decided AS (UPDATE ... RETURNING id) INSERT ... SELECT ... RETURNING id``."""
    decided = _update().returning(_comments.c.id).cte("decided")
    columns = ["comment_id", *_DECISION_VALUES]
    return (
        insert(_decisions)
        .from_select(columns, select(decided.c.id, *_DECISION_VALUES.values()).select_from(decided))
        .returning(_decisions.c.id)
    )


_DECIDE_AND_RECORD = _decide_and_record()


def load_pending(conn: Connection, comment_id: uuid.UUID) -> PendingComment | None:
    """The comment and its article's policy, or ``None`` if it is gone or no longer pending."""
    row = conn.execute(_LOAD, {"comment_id": comment_id}).first()
    if row is None:
        return None
    return PendingComment(
        id=row.id,
        article_id=row.article_id,
        article_slug=row.slug,
        article_policy=row.policy,
        article_policy_version=row.policy_version,
        parent_id=row.parent_id,
        author_name=row.author_name,
        author_email=row.author_email,
        author_url=row.author_url,
        client_ip=row.client_ip,
        body=row.body,
        created_at=row.created_at,
    )


def policy_from(
    slug: str, policy: dict[str, Any] | None, policy_version: int, base: PolicyConfig
) -> PolicyConfig:
    """An article's policy: the defaults with its overrides applied, versioned."""
    if not policy:
        return base
    known = {f.name for f in fields(PolicyConfig)} - {"version"}
    overrides: dict[str, Any] = {k: v for k, v in policy.items() if k in known}
    if "disabled_checks" in overrides:
        overrides["disabled_checks"] = frozenset(overrides["disabled_checks"])
    return replace(base, **overrides, version=f"article:{slug}:v{policy_version}")


def comment_input(comment: CommentFields, facts: AuthorFacts | None = None) -> CommentInput:
    return CommentInput(
        text=comment.body,
        author_name=comment.author_name,
        author_email=comment.author_email,
        author_url=comment.author_url,
        facts=facts or AuthorFacts(),
    )


def reason_dict(reason: Reason) -> dict[str, Any]:
    return {
        "code": reason.code.value,
        "category": reason.category.value,
        "rule_id": reason.rule_id,
        "span": list(reason.span) if reason.span is not None else None,
        "detail": reason.detail,
        "score": round(reason.score, 4),
    }


def record_verdict(
    conn: Connection,
    comment_id: uuid.UUID,
    verdict: Verdict,
    *,
    now: datetime,
    categories: list[str] | None = None,
    reasons: list[dict[str, Any]] | None = None,
) -> int | None:
    """Store ``verdict`` if the comment is still pending and return the decision's id;
    ``None`` (and nothing written) if it is gone or someone decided it first."""
    status = CommentStatus(verdict.decision.value)
    params = {
        "comment_id": comment_id,
        "status": status,
        "priority": verdict.priority,
        "censored_body": verdict.censored_text,
        "now": now,
        "source": DecisionSource.PIPELINE,
        "decision": status,
        "decision_priority": verdict.priority,
        "categories": [c.value for c in verdict.categories] if categories is None else categories,
        "scores": verdict.scores,
        "reasons": [reason_dict(r) for r in verdict.reasons] if reasons is None else reasons,
        "versions": verdict.versions,
    }
    if conn.dialect.name == "postgresql":
        decision_id = conn.execute(_DECIDE_AND_RECORD, params).scalar()
        return None if decision_id is None else int(decision_id)
    if conn.execute(_UPDATE, params).rowcount != 1:
        return None
    # An INSERT of one row always has its key (SQLite's lastrowid).
    key = cast(Any, conn.execute(_INSERT, params).inserted_primary_key)
    return int(key[0])


def decide(
    conn: Connection,
    comment_id: uuid.UUID,
    pipeline: Pipeline,
    facts: FactsProvider | None = None,
) -> DecidedComment | None:
    """Decide one pending comment exactly once; ``None`` if it is gone or already decided.

    Does not commit and has no side effects beyond the two tables: the caller commits, then
    runs what follows a decision (metrics, log line, webhooks) with the result.
    """
    comment = load_pending(conn, comment_id)
    if comment is None:
        return None
    config = policy_from(
        comment.article_slug, comment.article_policy, comment.article_policy_version, pipeline.config
    )
    verdict = pipeline.run(comment_input(comment, facts(comment) if facts else None), config)
    now = utcnow()
    categories = [c.value for c in verdict.categories]
    reasons = [reason_dict(r) for r in verdict.reasons]
    decision_id = record_verdict(conn, comment_id, verdict, now=now, categories=categories, reasons=reasons)
    if decision_id is None:
        return None
    return DecidedComment(
        comment=comment,
        decision_id=decision_id,
        status=CommentStatus(verdict.decision.value),
        priority=verdict.priority,
        categories=categories,
        reasons=reasons,
        versions=verdict.versions,
        censored_body=verdict.censored_text,
        decided_at=now,
    )

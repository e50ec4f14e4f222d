"""The moderators' review queue: listing and counts, claims, decisions, author-wide actions.

Service functions take ``*, session`` and only flush. Every state change is a conditional
update on the comment's ``version`` (optimistic concurrency, as Discourse's reviewables do):
a moderator acting on a comment that changed since they loaded it gets a
:class:`ConflictError` carrying the fresh row, never a silent overwrite. Every action
writes an :class:`~moderation.review.queue_models.AuditEntry`.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from moderation import metrics
from moderation.accounts.models import Moderator
from moderation.accounts.service import Principal
from moderation.db import enqueue_after_commit, utcnow
from moderation.filters.types import Category
from moderation.learning.store import record_label
from moderation.models import Article, Comment, CommentStatus, Decision, DecisionSource
from moderation.review.audit import SYSTEM_ACTOR, record_audit
from moderation.review.policy import Priority
from moderation.review.queue_models import Claim, Report
from moderation.review.service import NotFoundError
from moderation.webhooks import service as webhooks

__all__ = [
    "Action",
    "BulkOutcome",
    "ClaimView",
    "ClaimedError",
    "ConflictError",
    "QueueFilter",
    "QueueItem",
    "RejectReason",
    "View",
    "claim_comment",
    "decide",
    "decide_author",
    "decide_many",
    "list_queue",
    "queue_counts",
    "release_claim",
    "release_expired_claims",
]


class View(StrEnum):
    """The queue's tabs. ``urgent`` and ``reported`` cut across statuses."""

    URGENT = "urgent"
    FLAGGED = "flagged"
    REPORTED = "reported"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Action(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class RejectReason(StrEnum):
    SPAM = "spam"
    ABUSE = "abuse"
    UNSAFE_MEDICAL = "unsafe_medical"
    OFF_TOPIC = "off_topic"
    OTHER = "other"


# What a rejection says about the text, for the decision record and the learning store.
_REASON_CATEGORY = {
    RejectReason.SPAM: Category.SPAM,
    RejectReason.ABUSE: Category.ABUSE,
    RejectReason.UNSAFE_MEDICAL: Category.MEDICAL,
}
_REASON_LABEL = {RejectReason.SPAM: "spam", RejectReason.ABUSE: "abuse"}
_OPEN = (CommentStatus.PENDING, CommentStatus.FLAGGED)
_HISTORY_VIEWS = (View.APPROVED, View.REJECTED)


class ConflictError(Exception):
    """The comment changed since the moderator loaded it (or someone else holds it)."""

    def __init__(self, comment: Comment, message: str) -> None:
        super().__init__(message)
        self.comment = comment


class ClaimedError(ConflictError):
    def __init__(self, comment: Comment, claim: ClaimView) -> None:
        super().__init__(
            comment, f"comment {comment.id} is claimed by {claim.moderator} until {claim.expires_at}"
        )
        self.claim = claim


@dataclass(frozen=True, slots=True)
class ClaimView:
    moderator: str
    moderator_id: int
    claimed_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class QueueFilter:
    view: View = View.FLAGGED
    category: Category | None = None
    article: str | None = None
    priority: Priority | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class QueueItem:
    comment: Comment
    article_slug: str
    categories: tuple[str, ...]
    open_reports: int
    claim: ClaimView | None


# --- listing --------------------------------------------------------------------------------

_rank_expr = case(
    (Comment.priority == Priority.URGENT, 0),
    (Comment.priority == Priority.HIGH, 1),
    (Comment.priority == Priority.NORMAL, 2),
    else_=3,
)


def _has_category(category: str) -> ColumnElement[bool]:
    # Categories live in the decision's JSON list; a text match on the quoted value works
    # the same on SQLite and PostgreSQL and needs no JSON operators.
    return exists().where(
        Decision.comment_id == Comment.id,
        Decision.source != DecisionSource.MODERATOR,
        cast(Decision.categories, Text).like(f'%"{category}"%'),
    )


def _has_open_reports() -> ColumnElement[bool]:
    return exists().where(Report.comment_id == Comment.id, Report.resolved_at.is_(None))


def _view_clause(view: View) -> ColumnElement[bool]:
    if view is View.URGENT:
        return and_(Comment.status.in_(_OPEN), Comment.priority == Priority.URGENT)
    if view is View.REPORTED:
        return _has_open_reports()
    return Comment.status == CommentStatus(view.value)


def _filtered(flt: QueueFilter) -> Select[Comment]:
    query = select(Comment).where(_view_clause(flt.view))
    if flt.category is not None:
        query = query.where(_has_category(flt.category.value))
    if flt.article:
        query = query.where(
            Comment.article_id == select(Article.id).where(Article.slug == flt.article).scalar_subquery()
        )
    if flt.priority is not None:
        query = query.where(Comment.priority == flt.priority)
    if flt.since is not None:
        query = query.where(Comment.created_at >= flt.since)
    if flt.until is not None:
        query = query.where(Comment.created_at < flt.until)
    return query


def _encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, view: View) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or values[0] != view.value:
            raise ValueError(cursor)
        if view in _HISTORY_VIEWS:
            return [datetime.fromisoformat(values[1]), uuid.UUID(values[2])]
        return [int(values[1]), datetime.fromisoformat(values[2]), uuid.UUID(values[3])]
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, IndexError) as exc:
        raise ValueError("invalid cursor") from exc


def list_queue(
    *, session: Session, flt: QueueFilter, limit: int, cursor: str | None = None, now: datetime | None = None
) -> tuple[list[QueueItem], str | None]:
    """One page of the queue.

    Open views sort by priority (urgent crisis first, then high-severity medical and abuse,
    then the rest), then oldest first: the longest-waiting reader is served first within a
    severity. Approved and rejected sort newest decision first. Keyset cursors keep pages
    stable while the queue changes. Raises ``ValueError`` for a cursor from elsewhere.
    """
    query = _filtered(flt)
    history = flt.view in _HISTORY_VIEWS
    if cursor:
        values = _decode_cursor(cursor, flt.view)
        if history:
            when, ident = values
            query = query.where(
                or_(Comment.updated_at < when, and_(Comment.updated_at == when, Comment.id < ident))
            )
        else:
            rank, when, ident = values
            query = query.where(
                or_(
                    _rank_expr > rank,
                    and_(
                        _rank_expr == rank,
                        or_(Comment.created_at > when, and_(Comment.created_at == when, Comment.id > ident)),
                    ),
                )
            )
    order = (
        (Comment.updated_at.desc(), Comment.id.desc())
        if history
        else (_rank_expr, Comment.created_at, Comment.id)
    )
    comments = list(session.scalars(query.order_by(*order).limit(limit + 1)).all())
    next_cursor = None
    if len(comments) > limit:
        comments = comments[:limit]
        last = comments[-1]
        next_cursor = _encode_cursor(
            [flt.view.value, last.updated_at.isoformat(), str(last.id)]
            if history
            else [flt.view.value, _rank(last.priority), last.created_at.isoformat(), str(last.id)]
        )
    return _items(session, comments, now or utcnow()), next_cursor


def _rank(priority: Priority) -> int:
    return {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2}.get(priority, 3)


def _items(session: Session, comments: Sequence[Comment], now: datetime) -> list[QueueItem]:
    ids = [c.id for c in comments]
    if not ids:
        return []
    categories = latest_categories(session=session, comment_ids=ids)
    claims = active_claims(session=session, comment_ids=ids, now=now)
    reports = dict(
        session.execute(
            select(Report.comment_id, func.count())
            .where(Report.comment_id.in_(ids), Report.resolved_at.is_(None))
            .group_by(Report.comment_id)
        ).all()
    )
    slugs = dict(
        session.execute(
            select(Article.id, Article.slug).where(Article.id.in_({c.article_id for c in comments}))
        ).all()
    )
    return [
        QueueItem(
            c, slugs[c.article_id], categories.get(c.id, ()), int(reports.get(c.id, 0)), claims.get(c.id)
        )
        for c in comments
    ]


def latest_categories(
    *, session: Session, comment_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, ...]]:
    """The categories of each comment's latest automatic (pipeline or system) decision."""
    rows = session.execute(
        select(Decision.comment_id, Decision.categories)
        .where(Decision.comment_id.in_(comment_ids), Decision.source != DecisionSource.MODERATOR)
        .order_by(Decision.id)
    ).all()
    return {comment_id: tuple(cats or ()) for comment_id, cats in rows}


def active_claims(
    *, session: Session, comment_ids: Sequence[uuid.UUID], now: datetime
) -> dict[uuid.UUID, ClaimView]:
    rows = session.execute(
        select(Claim, Moderator.name)
        .join(Moderator, Moderator.id == Claim.moderator_id)
        .where(Claim.comment_id.in_(comment_ids), Claim.expires_at > now)
    ).all()
    return {
        claim.comment_id: ClaimView(name, claim.moderator_id, claim.claimed_at, claim.expires_at)
        for claim, name in rows
    }


@dataclass(frozen=True, slots=True)
class Counts:
    views: dict[str, int]
    categories: dict[str, int] = field(default_factory=dict)


def queue_counts(*, session: Session) -> Counts:
    """Items per tab, and flagged items per category, in one query."""

    def n(clause: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((clause, 1), else_=0)), 0)

    flagged = Comment.status == CommentStatus.FLAGGED
    view_cols = [n(_view_clause(v)).label(v.value) for v in View]
    cat_cols = [n(and_(flagged, _has_category(c.value))).label(f"cat_{c.value}") for c in Category]
    row = session.execute(select(*view_cols, *cat_cols).select_from(Comment)).one()
    mapping = row._mapping
    return Counts(
        views={v.value: int(mapping[v.value]) for v in View},
        categories={c.value: int(mapping[f"cat_{c.value}"]) for c in Category},
    )


# --- claims ---------------------------------------------------------------------------------


def _get_comment(session: Session, comment_id: uuid.UUID) -> Comment:
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise NotFoundError("comment", comment_id)
    return comment


def claim_comment(
    *, session: Session, comment_id: uuid.UUID, who: Principal, minutes: int, now: datetime | None = None
) -> ClaimView:
    """Claim a comment for ``minutes`` (or extend one's own claim).

    Raises :class:`ClaimedError` while another moderator's claim is live. The takeover of a
    lapsed claim is a conditional update, and a fresh claim an insert on the primary key,
    so two moderators claiming at once cannot both win.
    """
    now = now or utcnow()
    comment = _get_comment(session, comment_id)
    expires = now + timedelta(minutes=minutes)
    previous = session.execute(
        select(Claim.moderator_id, Claim.expires_at).where(Claim.comment_id == comment_id)
    ).first()
    taken = session.execute(
        update(Claim)
        .where(Claim.comment_id == comment_id, or_(Claim.moderator_id == who.id, Claim.expires_at <= now))
        .values(moderator_id=who.id, claimed_at=now, expires_at=expires)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        try:
            with session.begin_nested():
                session.add(
                    Claim(comment_id=comment_id, moderator_id=who.id, claimed_at=now, expires_at=expires)
                )
        except IntegrityError:
            holder = active_claims(session=session, comment_ids=[comment_id], now=now).get(comment_id)
            if holder is None:  # released in between: try once more
                return claim_comment(
                    session=session, comment_id=comment_id, who=who, minutes=minutes, now=now
                )
            raise ClaimedError(comment, holder) from None
    renewed = previous is not None and previous[0] == who.id and previous[1] > now
    if not renewed:
        record_audit(
            session=session,
            actor=who.name,
            moderator_id=who.id,
            action="claim",
            comment_id=comment_id,
            from_status=comment.status.value,
            to_status=comment.status.value,
            details={"expires_at": expires.isoformat()},
            now=now,
        )
    return ClaimView(who.name, who.id, now, expires)


def release_claim(
    *, session: Session, comment_id: uuid.UUID, who: Principal, now: datetime | None = None
) -> bool:
    """Release the claim on a comment. Only its holder or an admin may release a live claim
    (``PermissionError`` otherwise). Returns whether a claim was removed."""
    now = now or utcnow()
    comment = _get_comment(session, comment_id)
    claim = session.get(Claim, comment_id)
    if claim is None:
        return False
    if claim.moderator_id != who.id and claim.expires_at > now and not who.is_admin:
        raise PermissionError("only the moderator holding the claim or an admin can release it")
    session.delete(claim)
    record_audit(
        session=session,
        actor=who.name,
        moderator_id=who.id,
        action="release",
        comment_id=comment_id,
        from_status=comment.status.value,
        to_status=comment.status.value,
        details={"holder_id": claim.moderator_id},
        now=now,
    )
    session.flush()
    return True


def release_expired_claims(*, session: Session, now: datetime, batch_size: int = 500) -> int:
    """Remove claims past their expiry (the ``release-claims`` job), at most ``batch_size``
    per call; returns how many were released. Idempotent; the delete re-checks the expiry,
    so a claim renewed meanwhile survives."""
    rows = session.execute(
        select(Claim.comment_id, Claim.moderator_id)
        .where(Claim.expires_at <= now)
        .order_by(Claim.expires_at)
        .limit(batch_size)
    ).all()
    released = 0
    for comment_id, moderator_id in rows:
        result = session.execute(delete(Claim).where(Claim.comment_id == comment_id, Claim.expires_at <= now))
        if result.rowcount == 1:  # type: ignore[attr-defined]
            released += 1
            record_audit(
                session=session,
                actor=SYSTEM_ACTOR,
                action="claim_expired",
                comment_id=comment_id,
                details={"holder_id": moderator_id},
                now=now,
            )
    return released


# --- decisions ------------------------------------------------------------------------------


def decide(
    *,
    session: Session,
    comment_id: uuid.UUID,
    who: Principal,
    action: Action,
    version: int,
    reason: RejectReason | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> Comment:
    """Approve or reject a comment as loaded at ``version``.

    Writes a moderator :class:`Decision`, resolves open reader reports, drops the claim,
    appends an audit row and records a labeled example for training. Raises
    :class:`ConflictError` (with the fresh comment) if the version moved on,
    :class:`ClaimedError` if another moderator holds a live claim (admins may override),
    ``ValueError`` for a rejection without a reason, :class:`NotFoundError` if it is gone.
    """
    now = now or utcnow()
    if action is Action.REJECT and reason is None:
        raise ValueError("a rejection needs a reason")
    if action is Action.APPROVE:
        reason = None
    comment = _get_comment(session, comment_id)
    holder = active_claims(session=session, comment_ids=[comment_id], now=now).get(comment_id)
    if holder is not None and holder.moderator_id != who.id and not who.is_admin:
        raise ClaimedError(comment, holder)
    previous = comment.status
    status = CommentStatus.APPROVED if action is Action.APPROVE else CommentStatus.REJECTED
    result = session.execute(
        update(Comment)
        .where(Comment.id == comment_id, Comment.version == version)
        .values(status=status, decided_at=now, updated_at=now, version=Comment.version + 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(comment)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError(
            comment, f"comment {comment_id} changed since version {version} (now version {comment.version})"
        )
    category = _REASON_CATEGORY.get(reason) if reason else None
    decision = Decision(
        comment_id=comment_id,
        source=DecisionSource.MODERATOR,
        decision=status,
        priority=comment.priority,
        categories=[category.value] if category else [],
        scores={},
        reasons=[],
        versions={"moderator_reason": reason.value} if reason else {},
        actor=who.name,
        note=note,
        created_at=now,
    )
    session.add(decision)
    session.execute(
        update(Report)
        .where(Report.comment_id == comment_id, Report.resolved_at.is_(None))
        .values(resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(Claim).where(Claim.comment_id == comment_id))
    record_audit(
        session=session,
        actor=who.name,
        moderator_id=who.id,
        action=action.value,
        comment_id=comment_id,
        from_status=previous.value,
        to_status=status.value,
        reason=reason.value if reason else None,
        note=note,
        details={"version": comment.version},
        now=now,
    )
    label = "ham" if action is Action.APPROVE else _REASON_LABEL.get(reason) if reason else None
    if label:
        record_label(session=session, text=comment.body, label=label, comment_id=comment.id)
    session.flush()
    # Subscribers hear of moderator decisions as of the pipeline's (after commit), and so do metrics.
    webhooks.emit_decision(session, comment, decision)
    action_name = action.value
    enqueue_after_commit(session, lambda: metrics.record_moderator_action(action_name))
    return comment


@dataclass(frozen=True, slots=True)
class BulkOutcome:
    comment_id: uuid.UUID
    # "decided", "conflict", "claimed" or "not_found"
    outcome: str
    status: CommentStatus | None = None
    version: int | None = None
    message: str = ""


def decide_many(
    *,
    session: Session,
    items: Sequence[tuple[uuid.UUID, int]],
    who: Principal,
    action: Action,
    reason: RejectReason | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> list[BulkOutcome]:
    """Decide each ``(comment_id, version)``; each one succeeds or fails on its own."""
    now = now or utcnow()
    if action is Action.REJECT and reason is None:
        raise ValueError("a rejection needs a reason")
    out: list[BulkOutcome] = []
    for comment_id, version in items:
        try:
            with session.begin_nested():
                comment = decide(
                    session=session,
                    comment_id=comment_id,
                    who=who,
                    action=action,
                    version=version,
                    reason=reason,
                    note=note,
                    now=now,
                )
            out.append(BulkOutcome(comment_id, "decided", comment.status, comment.version))
        except ClaimedError as exc:
            out.append(BulkOutcome(comment_id, "claimed", exc.comment.status, exc.comment.version, str(exc)))
        except ConflictError as exc:
            out.append(BulkOutcome(comment_id, "conflict", exc.comment.status, exc.comment.version, str(exc)))
        except NotFoundError as exc:
            out.append(BulkOutcome(comment_id, "not_found", message=str(exc)))
    return out


def author_comments(
    *, session: Session, comment: Comment, statuses: Sequence[CommentStatus] | None = None, limit: int = 200
) -> Sequence[Comment]:
    """Comments by the same author (same email when there is one, else the same name),
    newest first, the given comment included."""
    same = (
        Comment.author_email == comment.author_email
        if comment.author_email
        else and_(Comment.author_email.is_(None), Comment.author_name == comment.author_name)
    )
    query = select(Comment).where(same)
    if statuses is not None:
        query = query.where(Comment.status.in_(statuses))
    return session.scalars(query.order_by(Comment.created_at.desc(), Comment.id).limit(limit)).all()


def decide_author(
    *,
    session: Session,
    comment_id: uuid.UUID,
    who: Principal,
    action: Action,
    reason: RejectReason | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> list[BulkOutcome]:
    """Approve or reject everything pending or flagged from the author of ``comment_id``."""
    comment = _get_comment(session, comment_id)
    targets = author_comments(session=session, comment=comment, statuses=_OPEN)
    return decide_many(
        session=session,
        items=[(c.id, c.version) for c in targets],
        who=who,
        action=action,
        reason=reason,
        note=note,
        now=now,
    )

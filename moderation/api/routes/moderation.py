"""The moderator API: ``/api/v1/moderation/...``. Every route needs a moderator (401
otherwise); the audit log and the moderator list need an admin (403)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy import select

from moderation.accounts.deps import AdminDep, ModeratorDep, current_moderator
from moderation.accounts.models import Moderator
from moderation.accounts.service import Principal
from moderation.api.deps import SessionDep, SettingsDep
from moderation.api.errors import error_response
from moderation.api.schemas import ErrorBody
from moderation.api.schemas_moderation import (
    AuditPage,
    AuditRead,
    AuthorDecisionCreate,
    AuthorRead,
    BulkDecisionCreate,
    BulkResult,
    BulkResultItem,
    ClaimRead,
    CommentDetail,
    CommentStateRead,
    CountsRead,
    DecisionCreate,
    DecisionRead,
    ModeratorRead,
    QueueItemRead,
    QueuePage,
    ReasonRead,
    RecentRead,
    ReportRead,
    SegmentRead,
    SupportRead,
)
from moderation.filters.types import Category
from moderation.models import Comment, Decision
from moderation.review import queue_service as qs
from moderation.review.audit import list_audit
from moderation.review.detail import load_detail
from moderation.review.policy import Priority
from moderation.review.queue_models import AuditEntry
from moderation.settings import Settings

router = APIRouter(
    prefix="/api/v1/moderation",
    tags=["moderation"],
    # Router-wide, so no route here can ever be reached anonymously.
    dependencies=[Depends(current_moderator)],
)

_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody} for code in (401, 403, 404, 422)}
_CONFLICT: dict[int | str, dict[str, Any]] = {**_ERRORS, 409: {"model": ErrorBody}}


def excerpt(text: str, length: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def claim_read(claim: qs.ClaimView | None, who: Principal) -> ClaimRead | None:
    if claim is None:
        return None
    return ClaimRead(
        moderator=claim.moderator,
        claimed_at=claim.claimed_at,
        expires_at=claim.expires_at,
        mine=claim.moderator_id == who.id,
    )


def state_read(comment: Comment) -> CommentStateRead:
    return CommentStateRead(
        id=comment.id,
        status=comment.status,
        priority=comment.priority,
        version=comment.version,
        decided_at=comment.decided_at,
        updated_at=comment.updated_at,
    )


def conflict_response(exc: qs.ConflictError, who: Principal) -> JSONResponse:
    extra: dict[str, Any] = {"comment": state_read(exc.comment).model_dump(mode="json")}
    if isinstance(exc, qs.ClaimedError):
        claim = claim_read(exc.claim, who)
        extra["claim"] = claim.model_dump(mode="json") if claim else None
    return error_response(409, str(exc), **extra)


def item_read(item: qs.QueueItem, who: Principal) -> QueueItemRead:
    c = item.comment
    return QueueItemRead(
        id=c.id,
        article=item.article_slug,
        author_name=c.author_name,
        excerpt=excerpt(c.body),
        status=c.status,
        priority=c.priority,
        categories=list(item.categories),
        crisis=c.priority is Priority.URGENT or Category.CRISIS.value in item.categories,
        open_reports=item.open_reports,
        created_at=c.created_at,
        version=c.version,
        claim=claim_read(item.claim, who),
    )


def counts_read(counts: qs.Counts) -> CountsRead:
    return CountsRead(views=counts.views, categories=counts.categories)


def audit_read(entry: AuditEntry) -> AuditRead:
    return AuditRead.model_validate(entry, from_attributes=True)


def decision_read(decision: Decision, body: str) -> DecisionRead:
    reasons = []
    for r in decision.reasons or []:
        span = r.get("span")
        matched = body[span[0] : span[1]] if span and len(span) == 2 else None
        reasons.append(ReasonRead(**{**r, "matched": matched}))
    return DecisionRead(
        id=decision.id,
        source=decision.source,
        decision=decision.decision,
        priority=decision.priority,
        categories=list(decision.categories or []),
        reasons=reasons,
        scores=dict(decision.scores or {}),
        versions=dict(decision.versions or {}),
        actor=decision.actor,
        note=decision.note,
        created_at=decision.created_at,
    )


def bulk_read(outcomes: list[qs.BulkOutcome]) -> BulkResult:
    return BulkResult(
        decided=sum(o.outcome == "decided" for o in outcomes),
        results=[
            BulkResultItem(
                comment_id=o.comment_id,
                outcome=o.outcome,
                status=o.status,
                version=o.version,
                message=o.message,
            )
            for o in outcomes
        ],
    )


def support_read(settings: Settings) -> SupportRead:
    return SupportRead(message=settings.crisis_message, resources=list(settings.crisis_resources))


@router.get("/me", response_model=ModeratorRead, responses=_ERRORS, summary="The signed-in moderator")
def me(who: ModeratorDep, session: SessionDep) -> ModeratorRead:
    moderator = session.get_one(Moderator, who.id)
    return ModeratorRead.model_validate(moderator, from_attributes=True)


@router.get("/queue", response_model=QueuePage, responses=_ERRORS, summary="List the review queue")
def list_queue(
    who: ModeratorDep,
    session: SessionDep,
    view: Annotated[qs.View, Query(alias="status", description="Tab: flagged (default), urgent, ...")] = (
        qs.View.FLAGGED
    ),
    category: Category | None = None,
    article: Annotated[str | None, Query(max_length=200, description="Article slug.")] = None,
    priority: Priority | None = None,
    since: Annotated[datetime | None, Query(description="Submitted at or after (ISO 8601).")] = None,
    until: Annotated[datetime | None, Query(description="Submitted before (ISO 8601).")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> QueuePage:
    """Urgent crisis items first, then by severity, then oldest first (approved and rejected:
    newest first). ``next_cursor`` fetches the next page."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise HTTPException(422, f"{name}: give a timezone (e.g. 2026-01-31T09:00:00Z)")
    flt = qs.QueueFilter(
        view=view, category=category, article=article, priority=priority, since=since, until=until
    )
    try:
        items, next_cursor = qs.list_queue(session=session, flt=flt, limit=limit, cursor=cursor)
    except ValueError as exc:
        raise HTTPException(422, "cursor: invalid pagination cursor") from exc
    return QueuePage(
        view=view.value,
        items=[item_read(i, who) for i in items],
        next_cursor=next_cursor,
        counts=counts_read(qs.queue_counts(session=session)),
    )


@router.get("/counts", response_model=CountsRead, responses=_ERRORS, summary="Items per tab and category")
def counts(session: SessionDep) -> CountsRead:
    return counts_read(qs.queue_counts(session=session))


@router.get(
    "/comments/{comment_id}", response_model=CommentDetail, responses=_ERRORS, summary="One comment in full"
)
def get_comment(
    comment_id: uuid.UUID, who: ModeratorDep, session: SessionDep, settings: SettingsDep
) -> CommentDetail:
    d = load_detail(session=session, comment_id=comment_id)
    c = d.comment
    return CommentDetail(
        id=c.id,
        article=d.article.slug,
        article_title=d.article.title,
        body=c.body,
        censored_body=c.censored_body,
        author=AuthorRead(
            name=c.author_name,
            email=c.author_email,
            url=c.author_url,
            ip=c.client_ip,
            user_agent=c.user_agent,
        ),
        status=c.status,
        priority=c.priority,
        version=c.version,
        created_at=c.created_at,
        decided_at=c.decided_at,
        crisis=d.crisis,
        support=support_read(settings) if d.crisis else None,
        highlights=[
            SegmentRead(text=s.text, categories=list(s.categories), codes=list(s.codes)) for s in d.segments
        ],
        decisions=[decision_read(x, c.body) for x in d.decisions],
        reports=[ReportRead.model_validate(r, from_attributes=True) for r in d.reports],
        audit=[audit_read(a) for a in d.audit],
        claim=claim_read(d.claim, who),
        author_recent=[
            RecentRead(id=r.id, excerpt=excerpt(r.body, 160), status=r.status, created_at=r.created_at)
            for r in d.author_recent
        ],
    )


@router.post(
    "/comments/{comment_id}/claim",
    response_model=ClaimRead,
    responses=_CONFLICT,
    summary="Claim a comment (or extend your claim)",
)
def claim(
    comment_id: uuid.UUID, who: ModeratorDep, session: SessionDep, settings: SettingsDep
) -> ClaimRead | JSONResponse:
    """Other moderators see the claim until it expires (``MODERATION_CLAIM_MINUTES``); a
    live claim by someone else is a 409."""
    try:
        view = qs.claim_comment(
            session=session, comment_id=comment_id, who=who, minutes=settings.claim_minutes
        )
    except qs.ClaimedError as exc:
        return conflict_response(exc, who)
    result = claim_read(view, who)
    assert result is not None  # noqa: S101 (a claim view was returned)
    return result


@router.delete(
    "/comments/{comment_id}/claim",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_ERRORS,
    summary="Release a claim",
)
def release(comment_id: uuid.UUID, who: ModeratorDep, session: SessionDep) -> Response:
    """Your own claim, or (admins) anyone's. Releasing an unclaimed comment is a no-op."""
    try:
        qs.release_claim(session=session, comment_id=comment_id, who=who)
    except PermissionError as exc:
        raise HTTPException(403, str(exc)) from exc
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/comments/{comment_id}/decision",
    response_model=CommentStateRead,
    responses=_CONFLICT,
    summary="Approve or reject a comment",
)
def decide(
    comment_id: uuid.UUID, payload: DecisionCreate, who: ModeratorDep, session: SessionDep
) -> CommentStateRead | JSONResponse:
    """``version`` is the comment version you loaded; if the comment changed since, nothing is
    stored and the answer is a 409 carrying the fresh state."""
    try:
        comment = qs.decide(
            session=session,
            comment_id=comment_id,
            who=who,
            action=payload.action,
            version=payload.version,
            reason=payload.reason,
            note=payload.note,
        )
    except qs.ConflictError as exc:
        return conflict_response(exc, who)
    return state_read(comment)


@router.post("/decisions/bulk", response_model=BulkResult, responses=_ERRORS, summary="Decide a selection")
def decide_bulk(payload: BulkDecisionCreate, who: ModeratorDep, session: SessionDep) -> BulkResult:
    """Each item succeeds or fails on its own (``conflict``, ``claimed``, ``not_found``)."""
    outcomes = qs.decide_many(
        session=session,
        items=[(i.comment_id, i.version) for i in payload.items],
        who=who,
        action=payload.action,
        reason=payload.reason,
        note=payload.note,
    )
    return bulk_read(outcomes)


@router.post(
    "/comments/{comment_id}/author-decision",
    response_model=BulkResult,
    responses=_ERRORS,
    summary="Approve or reject everything pending or flagged from this comment's author",
)
def decide_author(
    comment_id: uuid.UUID, payload: AuthorDecisionCreate, who: ModeratorDep, session: SessionDep
) -> BulkResult:
    outcomes = qs.decide_author(
        session=session,
        comment_id=comment_id,
        who=who,
        action=payload.action,
        reason=payload.reason,
        note=payload.note,
    )
    return bulk_read(outcomes)


@router.get("/audit", response_model=AuditPage, responses=_ERRORS, summary="The audit trail (admins)")
def audit(
    _admin: AdminDep,
    session: SessionDep,
    actor: Annotated[str | None, Query(max_length=120)] = None,
    action: Annotated[str | None, Query(max_length=32)] = None,
    comment_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AuditPage:
    """Newest first."""
    try:
        rows, next_cursor = list_audit(
            session=session, limit=limit, cursor=cursor, actor=actor, action=action, comment_id=comment_id
        )
    except ValueError as exc:
        raise HTTPException(422, "cursor: invalid pagination cursor") from exc
    return AuditPage(items=[audit_read(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/moderators", response_model=list[ModeratorRead], responses=_ERRORS, summary="Moderators (admins)"
)
def moderators(_admin: AdminDep, session: SessionDep) -> list[ModeratorRead]:
    rows = session.scalars(select(Moderator).order_by(Moderator.name)).all()
    return [ModeratorRead.model_validate(m, from_attributes=True) for m in rows]

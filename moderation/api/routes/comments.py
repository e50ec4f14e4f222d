"""Public comment endpoints: submit, follow one comment, read the published thread."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response, status
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State

from moderation.api.deps import SessionDep, SettingsDep
from moderation.api.schemas import (
    CommentAccepted,
    CommentCreate,
    CommentPage,
    CommentStatusRead,
    ErrorBody,
    PublishedComment,
    Support,
)
from moderation.articles.cache import ArticleCache
from moderation.articles.policy import SubmissionRefusedError, check_rules
from moderation.clients.ratelimit import Limit, RateLimiter
from moderation.db import session_scope, utcnow
from moderation.filters.types import CommentInput
from moderation.models import Comment, CommentStatus
from moderation.review import service
from moderation.review.policy import Priority
from moderation.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["comments"])

_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (400, 404, 413, 415, 422, 429, 503)
}
_OUTCOME = {
    CommentStatus.PENDING: "Awaiting moderation.",
    CommentStatus.APPROVED: "Published.",
    CommentStatus.FLAGGED: "Held for review by a moderator.",
    CommentStatus.REJECTED: "Not published.",
}


def _support(settings: Settings) -> Support:
    return Support(message=settings.crisis_message, resources=list(settings.crisis_resources))


@router.post(
    "/articles/{slug}/comments",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CommentAccepted,
    responses=_ERRORS,
    summary="Submit a comment for moderation",
)
async def submit_comment(
    slug: str,
    payload: CommentCreate,
    request: Request,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """Stores the comment as ``pending`` and queues it. The same ``Idempotency-Key`` on the
    same article returns the first comment instead of storing a second one."""
    # All the blocking work (rate limits, the transaction, the publish after its commit) runs
    # in ONE thread-pool call: FastAPI would otherwise hand each sync dependency, the session
    # dependency's enter and exit, and the endpoint to the pool separately, and on a 2-core
    # machine those hand-offs cost more CPU than the INSERT (issue 7).
    state = request.app.state
    client_ip = request.client.host if request.client else None
    user_agent = (request.headers.get("user-agent") or "")[:512] or None
    accepted, created = await run_in_threadpool(
        _submit, state, slug, payload, client_ip, user_agent, idempotency_key
    )
    headers = {"Location": accepted.status_url}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    # Serialised here, once: returning the model would make FastAPI validate it a second time.
    return Response(
        accepted.model_dump_json(),
        status_code=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK,
        media_type="application/json",
        headers=headers,
    )


def _submit(
    state: State,
    slug: str,
    payload: CommentCreate,
    client_ip: str | None,
    user_agent: str | None,
    idempotency_key: str | None,
) -> tuple[CommentAccepted, bool]:
    """The submission's unit of work, in a worker thread. The session commits before this
    returns (so before the 202), and the publish runs after that commit (``create_comment``
    registers it with ``enqueue_after_commit``)."""
    settings: Settings = state.settings
    _reject_unstorable(payload)
    _enforce_rate_limits(state.rate_limiter, client_ip or "unknown", payload, settings)
    # Crisis language is checked at once, so the reader gets help before any moderator sees it.
    crisis = state.pipeline().run_check("crisis", CommentInput(text=payload.body))
    urgent = bool(crisis and crisis.reasons)
    new = service.NewComment(
        body=payload.body,
        author_name=payload.author_name.strip()[: settings.max_author_chars],
        author_email=str(payload.author_email) if payload.author_email else None,
        author_url=str(payload.author_url) if payload.author_url else None,
        parent_id=payload.parent_id,
        client_ip=client_ip,
        user_agent=user_agent,
        idempotency_key=idempotency_key,
    )
    articles: ArticleCache = state.article_cache
    with session_scope(state.sessionmaker) as session:
        # The article's id and rules from the per-process cache (at most ARTICLE_CACHE_SECONDS old).
        article = articles.get(session.connection(), slug)
        if article is None:
            raise service.NotFoundError("article", slug)
        try:  # the article's own rules: closed after a date, a shorter maximum length
            check_rules(article.rules, payload.body, utcnow())
        except SubmissionRefusedError as exc:
            raise HTTPException(exc.status, exc.message) from None
        try:
            comment, created = service.create_comment(
                session=session, article=article, new=new, publish=state.publish, urgent=urgent
            )
        except IntegrityError:
            articles.forget(slug)  # the article was removed by hand since it was cached
            raise
    if not created:
        urgent = comment.priority is Priority.URGENT
    accepted = CommentAccepted(
        id=comment.id,
        article=article.slug,
        status=comment.status,
        created_at=comment.created_at,
        status_url=f"/api/v1/comments/{comment.id}",
        support=_support(settings) if urgent else None,
    )
    return accepted, created


def _reject_unstorable(payload: CommentCreate) -> None:
    """422 for text no backend should keep: NUL (PostgreSQL refuses it, SQLite would store it)
    and lone surrogates from ``\\ud800``-style JSON escapes (not encodable as UTF-8)."""
    for field in ("body", "author_name"):
        value: str = getattr(payload, field)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise HTTPException(422, f"{field}: contains invalid Unicode (a lone surrogate)") from None
        if "\x00" in value:
            raise HTTPException(422, f"{field}: contains a NUL character")


def _enforce_rate_limits(limiter: RateLimiter, ip: str, payload: CommentCreate, settings: Settings) -> None:
    author = str(payload.author_email or payload.author_name).strip().lower()
    checks = [("ip", ip, settings.rate_limit_per_ip), ("author", author, settings.rate_limit_per_author)]
    for scope, key, count in checks:
        if count <= 0:
            continue
        try:
            outcome = limiter.hit(scope, key, Limit(count, settings.rate_limit_window))
        except Exception:  # the limiter's store is down: fail open, never lose a comment over it
            log.warning("rate limiter unavailable; allowing the submission", exc_info=True)
            return
        if not outcome.allowed:
            raise HTTPException(
                429,
                f"Too many comments from this {'address' if scope == 'ip' else 'author'}; "
                f"try again in {outcome.retry_after} s.",
                headers={"Retry-After": str(outcome.retry_after)},
            )


@router.get(
    "/comments/{comment_id}",
    response_model=CommentStatusRead,
    responses=_ERRORS,
    summary="Follow one comment: its status and public outcome",
)
def get_comment(comment_id: uuid.UUID, session: SessionDep, settings: SettingsDep) -> CommentStatusRead:
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise HTTPException(404, f"comment {comment_id} not found")
    article = service.get_article_by_id(session=session, article_id=comment.article_id)
    crisis = comment.priority.value == "urgent" and (
        comment.status is CommentStatus.PENDING
        or service.is_crisis(service.latest_decision(session=session, comment_id=comment.id))
    )
    return CommentStatusRead(
        id=comment.id,
        article=article.slug,
        status=comment.status,
        message=_OUTCOME[comment.status],
        created_at=comment.created_at,
        decided_at=comment.decided_at,
        body=(comment.censored_body or comment.body) if comment.status is CommentStatus.APPROVED else None,
        support=_support(settings) if crisis else None,
    )


def _published(comment: Comment, children: dict[uuid.UUID, list[Comment]]) -> PublishedComment:
    return PublishedComment(
        id=comment.id,
        parent_id=comment.parent_id,
        author_name=comment.author_name,
        author_url=comment.author_url,
        body=comment.censored_body or comment.body,
        created_at=comment.created_at,
        replies=[_published(c, children) for c in children.get(comment.id, [])],
    )


@router.get(
    "/articles/{slug}/comments",
    response_model=CommentPage,
    responses=_ERRORS,
    summary="Published comments of an article, oldest first, replies nested",
)
def list_comments(
    slug: str,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> CommentPage:
    article = service.get_article(session=session, slug=slug)
    try:
        roots, children, next_cursor = service.published_thread(
            session=session, article=article, limit=limit, cursor=cursor
        )
    except ValueError as exc:
        raise HTTPException(422, "cursor: invalid pagination cursor") from exc
    return CommentPage(
        article=article.slug,
        title=article.title,
        items=[_published(c, children) for c in roots],
        next_cursor=next_cursor,
    )

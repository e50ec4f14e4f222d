"""Admin API: webhook endpoints and per-article policy. Admin tokens only (see admin_auth)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field

from moderation.api.admin_auth import require_admin
from moderation.api.deps import SessionDep
from moderation.api.schemas import ErrorBody
from moderation.articles import policy as article_policy
from moderation.articles.cache import ArticleCache
from moderation.db import enqueue_after_commit
from moderation.review import service
from moderation.webhooks import service as webhooks
from moderation.webhooks.models import WebhookDelivery, WebhookEndpoint

router = APIRouter(
    prefix="/api/v1/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses={code: {"model": ErrorBody} for code in (401, 403, 404, 422)},
)


# --- webhooks -------------------------------------------------------------------------------


class WebhookCreate(BaseModel):
    url: str = Field(max_length=2048, pattern=r"^https?://")
    events: list[str] = Field(default_factory=list, description="Empty means every event.")
    description: str = Field("", max_length=200)


class WebhookRead(BaseModel):
    id: int
    url: str
    events: list[str]
    active: bool
    description: str
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="Shown once: the receiver verifies signatures with it.")


class DeliveryRead(BaseModel):
    id: int
    event: str
    event_id: str
    attempt: int
    status_code: int | None
    error: str | None
    duration_ms: int | None
    created_at: datetime


def _read(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": endpoint.events,
        "active": endpoint.active,
        "description": endpoint.description,
        "created_at": endpoint.created_at,
    }


@router.get("/webhooks", response_model=list[WebhookRead], summary="List webhook endpoints")
def list_webhooks(session: SessionDep) -> list[dict[str, Any]]:
    return [_read(e) for e in webhooks.list_endpoints(session=session)]


@router.post(
    "/webhooks",
    response_model=WebhookCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Register a webhook endpoint",
)
def add_webhook(payload: WebhookCreate, session: SessionDep) -> dict[str, Any]:
    try:
        endpoint = webhooks.add_endpoint(
            session=session, url=payload.url, events=payload.events, description=payload.description
        )
    except ValueError as exc:
        raise HTTPException(422, f"events: {exc}") from None
    return _read(endpoint) | {"secret": endpoint.secret}


@router.delete("/webhooks/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove one")
def remove_webhook(endpoint_id: int, session: SessionDep) -> None:
    if not webhooks.remove_endpoint(session=session, endpoint_id=endpoint_id):
        raise HTTPException(404, f"webhook endpoint {endpoint_id} not found")


@router.get(
    "/webhooks/{endpoint_id}/deliveries",
    response_model=list[DeliveryRead],
    summary="The last delivery attempts to one endpoint, newest first",
)
def list_deliveries(endpoint_id: int, session: SessionDep, limit: int = 20) -> list[WebhookDelivery]:
    if session.get(WebhookEndpoint, endpoint_id) is None:
        raise HTTPException(404, f"webhook endpoint {endpoint_id} not found")
    return list(
        webhooks.recent_deliveries(session=session, endpoint_id=endpoint_id, limit=max(1, min(limit, 200)))
    )


# --- per-article policy ---------------------------------------------------------------------


class PolicyRead(BaseModel):
    article: str
    version: int
    policy: dict[str, Any] = Field(description="The article's overrides.")
    effective: dict[str, Any] = Field(description="Defaults with the overrides applied.")


def _policy_read(request: Request, slug: str, session: SessionDep) -> PolicyRead:
    article = service.get_article(session=session, slug=slug)
    base = request.app.state.pipeline().config
    return PolicyRead(
        article=article.slug,
        version=article.policy_version,
        policy=article.policy or {},
        effective=article_policy.effective(article, base),
    )


@router.get("/articles/{slug}/policy", response_model=PolicyRead, summary="An article's policy")
def get_policy(slug: str, request: Request, session: SessionDep) -> PolicyRead:
    return _policy_read(request, slug, session)


@router.put(
    "/articles/{slug}/policy",
    response_model=PolicyRead,
    summary="Replace an article's policy overrides (unknown keys are refused with 422)",
)
def put_policy(slug: str, payload: dict[str, Any], request: Request, session: SessionDep) -> PolicyRead:
    article = service.get_article(session=session, slug=slug)
    try:
        changed = article_policy.set_policy(session=session, article=article, values=payload)
    except article_policy.PolicyError as exc:
        raise HTTPException(422, str(exc)) from None
    if changed:  # this process's submissions apply the change at once, others within the cache's TTL
        cache: ArticleCache = request.app.state.article_cache
        enqueue_after_commit(session, lambda: cache.forget(slug))
    return _policy_read(request, slug, session)

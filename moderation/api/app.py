"""The FastAPI application factory."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from celery import Celery
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from moderation import metrics
from moderation.api.errors import BodyLimitMiddleware, install_error_handlers
from moderation.api.routes import admin, akismet, comments, health
from moderation.api.routes import metrics as metrics_routes
from moderation.api.routes import moderation as moderation_routes
from moderation.api.routes import reports as report_routes
from moderation.articles.cache import ArticleCache
from moderation.clients.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from moderation.db import sessionmaker_for
from moderation.review.pipeline import get_pipeline
from moderation.settings import Settings, get_settings
from moderation.web import article
from moderation.web import moderate as moderate_page
from moderation.web.security import SecurityHeadersMiddleware


def create_app(
    settings: Settings | None = None,
    *,
    celery: Celery | None = None,
    publish: Callable[[uuid.UUID], None] | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    if celery is None:
        from workers.app import celery_app as celery
    from moderation.queue import publisher

    app = FastAPI(
        lifespan=_load_pipeline,
        title="moderation",
        version="0.1.0",
        summary="Comment moderation for health publishers.",
        description="Submit comments, follow their moderation, read the published thread.",
    )
    app.state.settings = settings
    app.state.sessionmaker = sessionmaker_for(settings.resolved_database_url)
    app.state.celery = celery
    app.state.publish = metrics.counting_publish(publish or publisher(celery))
    app.state.pipeline = get_pipeline
    app.state.rate_limiter = _rate_limiter(settings)
    # Submissions read an article's id and rules from here (see moderation.articles.cache).
    app.state.article_cache = ArticleCache()
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.include_router(health.router)
    app.include_router(comments.router)
    app.include_router(metrics_routes.router)
    app.include_router(admin.router)
    app.include_router(akismet.router)
    app.include_router(article.router)
    app.mount("/static/article", StaticFiles(directory=article.STATIC_DIR), name="article-static")
    # Moderator review (issue 4): queue API, reader reports, the /moderate page.
    app.include_router(moderation_routes.router)
    app.include_router(report_routes.router)
    app.include_router(moderate_page.router)
    app.mount("/static/moderate", StaticFiles(directory=moderate_page.STATIC_DIR), name="moderate-static")
    app.add_middleware(SecurityHeadersMiddleware)
    metrics.configure(settings)
    return app


@asynccontextmanager
async def _load_pipeline(app: FastAPI) -> AsyncIterator[None]:
    """Load the rule packs and models (the crisis check runs at submission) before the
    first request is served: it would otherwise wait seconds for them, and a model that
    cannot load stops the start-up instead of failing submissions."""
    app.state.pipeline()
    yield


def _rate_limiter(settings: Settings) -> RateLimiter:
    if settings.redis_url:
        return RedisRateLimiter.from_url(settings.redis_url)
    return MemoryRateLimiter()

"""The public article page (``/`` and ``/articles/{slug}``): the demo a new user sees first.

Server-rendered: the article and its published, threaded comments read without JavaScript.
The comment form posts through the public JSON API from ``static/article/comments.js`` (no
inline script: the page's Content-Security-Policy allows scripts from this origin only).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from moderation.api.deps import SessionDep
from moderation.articles.policy import current
from moderation.db import utcnow
from moderation.migrate import DEFAULT_ARTICLE_SLUG
from moderation.models import Comment
from moderation.review import service

PACKAGE = Path(__file__).resolve().parents[1]
STATIC_DIR = PACKAGE / "static" / "article"
templates = Jinja2Templates(directory=PACKAGE / "templates")
router = APIRouter(include_in_schema=False)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; object-src 'none'"
)
THREAD_LIMIT = 200


def _node(comment: Comment, children: dict[uuid.UUID, list[Comment]], depth: int) -> dict[str, Any]:
    return {
        "id": str(comment.id),
        "author": comment.author_name,
        "author_url": comment.author_url,
        "body": comment.censored_body or comment.body,
        "created_at": comment.created_at,
        "depth": depth,
        "replies": [_node(c, children, depth + 1) for c in children.get(comment.id, [])],
    }


def _count(nodes: list[dict[str, Any]]) -> int:
    return sum(1 + _count(n["replies"]) for n in nodes)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep) -> HTMLResponse:
    return article_page(DEFAULT_ARTICLE_SLUG, request, session)


@router.get("/articles/{slug}", response_class=HTMLResponse)
def article_page(slug: str, request: Request, session: SessionDep) -> HTMLResponse:
    article = service.get_article(session=session, slug=slug)
    roots, children, next_cursor = service.published_thread(
        session=session, article=article, limit=THREAD_LIMIT, cursor=None
    )
    thread = [_node(c, children, 0) for c in roots]
    policy = current(article)
    settings = request.app.state.settings
    max_length = min(policy.max_length or settings.max_body_chars, settings.max_body_chars)
    closed = policy.closes_at is not None and utcnow() >= policy.closes_at
    response = templates.TemplateResponse(
        request,
        "article/page.html",
        {
            "article": article,
            "thread": thread,
            "comment_count": _count(thread),
            "more": next_cursor is not None,
            "max_length": max_length,
            "closed": closed,
            "closes_at": policy.closes_at,
            "endpoint": f"/api/v1/articles/{article.slug}/comments",
        },
    )
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response

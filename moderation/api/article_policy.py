"""Submission rules of an article's policy (closed after a date, maximum length), enforced
before a comment is stored. Installed as a dependency of the public comments router."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from moderation.articles.policy import SubmissionRefusedError, check_submission
from moderation.db import utcnow
from moderation.models import Article


async def enforce_submission_policy(request: Request) -> None:
    """403 when the article's comments are closed, 422 when the body is over its limit.

    Only submissions (``POST .../articles/{slug}/comments``) are checked; a body that is not
    valid JSON is left for the endpoint's own validation to reject.
    """
    slug = request.path_params.get("slug")
    if request.method != "POST" or not slug or not request.url.path.endswith("/comments"):
        return
    try:
        payload = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return
    body = payload.get("body") if isinstance(payload, dict) else None
    # A blocking query must not run on the event loop: under load it stalls every request,
    # and once the pool is exhausted by the endpoints' threads it waits out the pool timeout.
    article = await run_in_threadpool(_article, request.app.state.sessionmaker, slug)
    if article is None or not isinstance(body, str):
        return
    try:
        check_submission(article, body, utcnow())
    except SubmissionRefusedError as exc:
        raise HTTPException(exc.status, exc.message) from None


def _article(sessionmaker: Callable[[], Session], slug: str) -> Article | None:
    with sessionmaker() as session:
        return session.scalar(select(Article).where(Article.slug == slug))

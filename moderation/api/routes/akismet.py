"""Akismet-compatible endpoints (``/1.1/*``), for sites that already speak its protocol.

Form-encoded requests with Akismet's field names; plain-text answers (``valid``/``invalid``,
``true``/``false``, "Thanks for making the web a better place."), ``X-akismet-pro-tip:
discard`` for blatant spam and ``X-akismet-debug-help`` on errors, as Akismet does. Keys are
the moderators' API tokens or ``MODERATION_AKISMET_KEYS``. See https://akismet.com/developers/.
"""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation import metrics
from moderation.akismet import service
from moderation.api.deps import PipelineDep, SessionDep
from moderation.filters.types import CommentInput
from moderation.models import Article
from moderation.settings import Settings

router = APIRouter(prefix="/1.1", tags=["akismet"])
THANKS = "Thanks for making the web a better place."
_TRUTHY = {"1", "true", "yes", "on"}

Field = Annotated[str | None, Form()]


def _text(body: str, status: int = 200, headers: dict[str, str] | None = None) -> PlainTextResponse:
    return PlainTextResponse(body, status_code=status, headers=headers)


def _key_ok(key: str | None, *, session: Session, settings: Settings) -> bool:
    if not key:
        return False
    if any(hmac.compare_digest(key.encode(), k.encode()) for k in settings.akismet_keys):
        return True
    from moderation.accounts.service import authenticate_token

    return authenticate_token(session=session, token=key) is not None


def _invalid_key() -> PlainTextResponse:
    return _text("invalid", headers={"X-akismet-debug-help": "We were unable to verify your API key."})


def _missing(field: str) -> PlainTextResponse:
    return _text(
        f"Missing required field: {field}.",
        headers={"X-akismet-debug-help": f"Missing required field: {field}."},
    )


def _article(session: Session, permalink: str | None) -> Article | None:
    """The article a permalink points at (``.../articles/<slug>`` or ``/<slug>``), if any."""
    if not permalink:
        return None
    slug = urlsplit(permalink).path.rstrip("/").rsplit("/", 1)[-1]
    return session.scalar(select(Article).where(Article.slug == slug)) if slug else None


@router.post("/verify-key", response_class=PlainTextResponse, summary="Akismet verify-key")
def verify_key(
    request: Request, session: SessionDep, key: Field = None, api_key: Field = None, blog: Field = None
) -> PlainTextResponse:
    if not blog:
        return _missing("blog")
    if _key_ok(key or api_key, session=session, settings=request.app.state.settings):
        return _text("valid")
    return _invalid_key()


@router.post("/comment-check", response_class=PlainTextResponse, summary="Akismet comment-check")
def comment_check(  # Akismet's other fields (user_agent, referrer, ...) are accepted and unused.
    request: Request,
    session: SessionDep,
    pipeline: PipelineDep,
    api_key: Field = None,
    key: Field = None,
    blog: Field = None,
    user_ip: Field = None,
    permalink: Field = None,
    comment_author: Field = None,
    comment_author_email: Field = None,
    comment_author_url: Field = None,
    comment_content: Field = None,
    user_role: Field = None,
) -> PlainTextResponse:
    if not _key_ok(api_key or key, session=session, settings=request.app.state.settings):
        return _invalid_key()
    for name, value in (("blog", blog), ("user_ip", user_ip)):
        if not value:
            return _missing(name)
    # Akismet's documented test values, so integrations can test both answers.
    if comment_author == "viagra-test-123" or comment_author_email == "akismet-guaranteed-spam@example.com":
        return _text("true", headers={"X-moderation-reason": "test-value"})
    if user_role == "administrator":
        return _text("false", headers={"X-moderation-reason": "test-value"})
    text = comment_content or ""
    outcome = service.check(
        session=session,
        pipeline=pipeline,
        comment=CommentInput(
            text=text,
            author_name=comment_author or "",
            author_email=comment_author_email or None,
            author_url=comment_author_url or None,
        ),
        article=_article(session, permalink),
    )
    metrics.record_akismet("comment-check", "spam" if outcome.spam else "ham")
    headers = {"X-moderation-reason": outcome.reason}
    if outcome.discard:
        headers["X-akismet-pro-tip"] = "discard"
    return _text("true" if outcome.spam else "false", headers=headers)


def _submit(
    request: Request, session: Session, label: str, key: str | None, fields: dict[str, str | None]
) -> PlainTextResponse:
    if not _key_ok(key, session=session, settings=request.app.state.settings):
        return _invalid_key()
    for name in ("blog", "user_ip"):
        if not fields.get(name):
            return _missing(name)
    text = fields.get("comment_content") or ""
    # is_test asks Akismet not to learn from the request; we honour it the same way.
    if text.strip() and (fields.get("is_test") or "").lower() not in _TRUTHY:
        service.report(session=session, text=text, label=label)
    metrics.record_akismet(f"submit-{label}", "ok")
    return _text(THANKS)


@router.post("/submit-spam", response_class=PlainTextResponse, summary="Akismet submit-spam")
def submit_spam(
    request: Request,
    session: SessionDep,
    api_key: Field = None,
    key: Field = None,
    blog: Field = None,
    user_ip: Field = None,
    comment_content: Field = None,
    is_test: Field = None,
) -> PlainTextResponse:
    fields = {"blog": blog, "user_ip": user_ip, "comment_content": comment_content, "is_test": is_test}
    return _submit(request, session, "spam", api_key or key, fields)


@router.post("/submit-ham", response_class=PlainTextResponse, summary="Akismet submit-ham")
def submit_ham(
    request: Request,
    session: SessionDep,
    api_key: Field = None,
    key: Field = None,
    blog: Field = None,
    user_ip: Field = None,
    comment_content: Field = None,
    is_test: Field = None,
) -> PlainTextResponse:
    fields = {"blog": blog, "user_ip": user_ip, "comment_content": comment_content, "is_test": is_test}
    return _submit(request, session, "ham", api_key or key, fields)

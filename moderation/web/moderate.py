"""The moderators' page: ``/moderate`` (queue and one comment) and ``/moderate/login``.

Server-rendered with Jinja2 (autoescaping on: every comment body and author field is
escaped, and highlights are built from stored spans segment by segment, each escaped).
Decisions are plain form posts carrying a CSRF token, so the page works without
JavaScript; ``static/moderate/moderate.js`` adds keyboard shortcuts, claiming and live
counts through the JSON API (sending the CSRF token in ``X-CSRF-Token``).
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import jinja2
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from moderation.accounts import service as accounts
from moderation.accounts.deps import SESSION_COOKIE
from moderation.accounts.service import Principal
from moderation.api.deps import SessionDep, SettingsDep
from moderation.db import utcnow
from moderation.filters.types import Category
from moderation.review import queue_service as qs
from moderation.review.detail import CommentDetail, load_detail
from moderation.review.policy import Priority
from moderation.review.service import NotFoundError
from moderation.settings import Settings

PACKAGE = Path(__file__).resolve().parents[1]
STATIC_DIR = PACKAGE / "static" / "moderate"
LOGIN_COOKIE = "moderation_login"
TABS = (qs.View.URGENT, qs.View.FLAGGED, qs.View.REPORTED, qs.View.REJECTED, qs.View.APPROVED)
TAB_LABELS = {
    "urgent": "Urgent",
    "flagged": "Flagged",
    "reported": "Reported",
    "pending": "Pending",
    "rejected": "Rejected",
    "approved": "Approved",
}
CATEGORY_LABELS = {
    "crisis": "Crisis",
    "unsafe_medical": "Unsafe medical",
    "abuse": "Abuse",
    "profanity": "Profanity",
    "spam": "Spam",
    "system": "System",
}
REJECT_REASONS = (
    ("spam", "Spam"),
    ("abuse", "Abuse"),
    ("unsafe_medical", "Unsafe medical"),
    ("off_topic", "Off-topic"),
    ("other", "Other"),
)
NOTICES = {
    "approved": "Approved.",
    "rejected": "Rejected.",
    "conflict": "That comment changed since you opened it; here is its current state. Nothing was saved.",
    "claimed": "Another moderator is working on that comment; nothing was saved.",
    "bulk": "Selection decided.",
    "bulk_none": "Select at least one comment first.",
    "author": "Every pending and flagged comment by that author was decided.",
    "reason": "Choose a reason to reject.",
    "released": "Claim released.",
}
PAGE_SIZE = 50

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(PACKAGE / "templates"),
    autoescape=True,  # every template here is HTML
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

router = APIRouter(include_in_schema=False)


def _ago(when: datetime | None) -> str:
    if when is None:
        return ""
    seconds = max(0, int((utcnow() - when).total_seconds()))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now"


_env.filters["ago"] = _ago
_env.filters["iso"] = lambda when: when.isoformat() if when else ""
_env.filters["clock"] = lambda when: when.strftime("%H:%M UTC") if when else ""


def render(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_env.get_template(f"moderate/{template}").render(**context), status_code=status_code)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _principal(request: Request, session: SessionDep) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    return accounts.authenticate_session(session=session, token=token) if token else None


def _csrf(settings: Settings, who: Principal) -> str:
    assert who.session_hash is not None  # noqa: S101 (page principals come from a session)
    return accounts.csrf_token(settings.resolved_secret_key(), who.session_hash)


def _to_login() -> RedirectResponse:
    return RedirectResponse("/moderate/login", status_code=303)


def _back(tab: str, comment_id: uuid.UUID | None = None, notice: str | None = None) -> RedirectResponse:
    params = {"tab": tab if tab in TAB_LABELS else "flagged"}
    if comment_id is not None:
        params["id"] = str(comment_id)
    if notice:
        params["notice"] = notice
    return RedirectResponse("/moderate?" + urlencode(params), status_code=303)


def _forbidden() -> HTMLResponse:
    return render(
        "error.html",
        403,
        title="Form expired",
        message="This form is no longer valid (its security token did not match). Reload the page and retry.",
    )


# --- login ----------------------------------------------------------------------------------


def _login_page(
    request: Request, settings: Settings, *, error: str = "", name: str = "", status_code: int = 200
) -> HTMLResponse:
    nonce = secrets.token_urlsafe(24)
    response = render(
        "login.html",
        status_code,
        csrf_token=accounts.csrf_token(settings.resolved_secret_key(), "login|" + nonce),
        error=error,
        name=name,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=3600,
        path="/moderate/login",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    return response


@router.get("/moderate/login", response_class=HTMLResponse)
def login_form(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    if _principal(request, session) is not None:
        return RedirectResponse("/moderate", status_code=303)
    return _login_page(request, settings)


@router.post("/moderate/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    name: Annotated[str, Form(max_length=120)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    secret = settings.resolved_secret_key()
    nonce = request.cookies.get(LOGIN_COOKIE)
    if not accounts.csrf_valid(secret, "login|" + nonce if nonce else None, csrf_token):
        return _login_page(
            request, settings, error="The form expired. Please sign in again.", status_code=403
        )
    address = request.client.host if request.client else "unknown"
    result = accounts.login(
        session=session,
        name=name,
        password=password,
        ip_hash=accounts.keyed_hash(secret, "login-ip|" + address),
        max_failures=settings.login_max_failures,
        max_failures_per_ip=settings.login_max_failures_per_ip,
        window=timedelta(minutes=settings.login_window_minutes),
    )
    if result.throttled:
        response = _login_page(
            request,
            settings,
            name=name,
            error=f"Too many failed attempts. Wait {settings.login_window_minutes} minutes and try again.",
            status_code=429,
        )
        response.headers["Retry-After"] = str(settings.login_window_minutes * 60)
        return response
    if result.moderator is None:
        return _login_page(request, settings, name=name, error="Wrong name or password.", status_code=401)
    token = accounts.start_session(
        session=session, moderator=result.moderator, lifetime=timedelta(hours=settings.session_hours)
    )
    redirect = RedirectResponse("/moderate", status_code=303)
    redirect.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    redirect.delete_cookie(LOGIN_COOKIE, path="/moderate/login")
    return redirect


@router.post("/moderate/logout")
def logout(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    who = _principal(request, session)
    if who is None:
        return _to_login()
    if not accounts.csrf_valid(settings.resolved_secret_key(), who.session_hash, csrf_token):
        return _forbidden()
    accounts.end_session(session=session, token=request.cookies[SESSION_COOKIE])
    response = _to_login()
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request))
    return response


# --- the queue page -------------------------------------------------------------------------


def _item_context(item: qs.QueueItem, who: Principal) -> dict[str, Any]:
    c = item.comment
    body = " ".join(c.body.split())
    return {
        "id": str(c.id),
        "version": c.version,
        "author": c.author_name,
        "excerpt": body if len(body) <= 160 else body[:159].rstrip() + "…",
        "status": c.status.value,
        "priority": c.priority.value,
        "categories": [CATEGORY_LABELS.get(x, x) for x in item.categories],
        "crisis": c.priority is Priority.URGENT or Category.CRISIS.value in item.categories,
        "reports": item.open_reports,
        "created_at": c.created_at,
        "claim": item.claim,
        "claimed_by_other": item.claim is not None and item.claim.moderator_id != who.id,
    }


def _detail_context(d: CommentDetail, who: Principal) -> dict[str, Any]:
    body = d.comment.body
    reasons = []
    for r in d.automatic_reasons():
        span = r.get("span")
        reasons.append(
            {
                "code": r.get("code", ""),
                "category": r.get("category", ""),
                "label": CATEGORY_LABELS.get(r.get("category", ""), r.get("category", "")),
                "detail": r.get("detail", ""),
                "matched": body[span[0] : span[1]] if span and len(span) == 2 else None,
                "score": r.get("score"),
            }
        )
    return {
        "c": d.comment,
        "article": d.article,
        "segments": d.segments,
        "reasons": reasons,
        "decisions": d.decisions,
        "reports": d.reports,
        "audit": list(reversed(d.audit)),
        "claim": d.claim,
        "claim_mine": d.claim is not None and d.claim.moderator_id == who.id,
        "recent": d.author_recent,
        "crisis": d.crisis,
        "labels": CATEGORY_LABELS,
    }


@router.get("/moderate", response_class=HTMLResponse)
def moderate_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    tab: Annotated[str, Query(max_length=20)] = "",
    comment_id: Annotated[uuid.UUID | None, Query(alias="id")] = None,
    category: Annotated[str, Query(max_length=32)] = "",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    notice: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    who = _principal(request, session)
    if who is None:
        return _to_login()
    counts = qs.queue_counts(session=session)
    if tab not in TAB_LABELS:
        # Crisis first: open on Urgent while anything is urgent.
        tab = "urgent" if counts.views.get("urgent") else "flagged"
    view = qs.View(tab)
    cat = Category(category) if category in {c.value for c in Category} else None
    try:
        items, next_cursor = qs.list_queue(
            session=session, flt=qs.QueueFilter(view=view, category=cat), limit=PAGE_SIZE, cursor=cursor
        )
    except ValueError:
        items, next_cursor = qs.list_queue(
            session=session, flt=qs.QueueFilter(view=view, category=cat), limit=PAGE_SIZE
        )
    selected = comment_id or (items[0].comment.id if items else None)
    detail = None
    if selected is not None:
        try:
            detail = _detail_context(load_detail(session=session, comment_id=selected), who)
        except NotFoundError:
            detail = None
    ids = [str(i.comment.id) for i in items]
    position = ids.index(str(selected)) if selected is not None and str(selected) in ids else -1
    return render(
        "queue.html",
        who=who,
        csrf_token=_csrf(settings, who),
        tab=tab,
        tabs=[(t.value, TAB_LABELS[t.value], counts.views.get(t.value, 0)) for t in TABS],
        category=cat.value if cat else "",
        categories=[(c.value, CATEGORY_LABELS[c.value], counts.categories.get(c.value, 0)) for c in Category],
        items=[_item_context(i, who) for i in items],
        selected=str(selected) if selected else "",
        position=position,
        next_cursor=next_cursor,
        detail=detail,
        notice=NOTICES.get(notice, ""),
        notice_kind="warning" if notice in ("conflict", "claimed", "reason", "bulk_none") else "success",
        reject_reasons=REJECT_REASONS,
        crisis_message=settings.crisis_message,
        crisis_resources=settings.crisis_resources,
        claim_minutes=settings.claim_minutes,
    )


def _form_principal(
    request: Request, session: SessionDep, settings: Settings, csrf_token: str
) -> Principal | Response:
    who = _principal(request, session)
    if who is None:
        return _to_login()
    if not accounts.csrf_valid(settings.resolved_secret_key(), who.session_hash, csrf_token):
        return _forbidden()
    return who


def _next_tab(session: SessionDep, tab: str) -> str:
    """Stay on an open tab while it has work; once it is empty, move on to the next queue
    with work (urgent, then flagged, then reported), so a moderator can keep pressing keys."""
    if tab not in ("urgent", "flagged", "reported", "pending"):
        return tab
    views = qs.queue_counts(session=session).views
    if views.get(tab):
        return tab
    return next((t for t in ("urgent", "flagged", "reported") if views.get(t)), tab)


def _reason(action: str, reason: str) -> tuple[qs.Action, qs.RejectReason | None] | None:
    try:
        act = qs.Action(action)
        why = qs.RejectReason(reason) if reason else None
    except ValueError:
        return None
    if act is qs.Action.REJECT and why is None:
        return None
    return act, why


@router.post("/moderate/comments/{comment_id}/decide")
def decide_form(
    comment_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    action: Annotated[str, Form(max_length=16)],
    version: Annotated[int, Form(ge=1)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    reason: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    tab: Annotated[str, Form(max_length=20)] = "flagged",
) -> Response:
    who = _form_principal(request, session, settings, csrf_token)
    if not isinstance(who, Principal):
        return who
    parsed = _reason(action, reason)
    if parsed is None:
        return _back(tab, comment_id, "reason")
    act, why = parsed
    try:
        qs.decide(
            session=session,
            comment_id=comment_id,
            who=who,
            action=act,
            version=version,
            reason=why,
            note=note.strip() or None,
        )
    except qs.ClaimedError:
        return _back(tab, comment_id, "claimed")
    except qs.ConflictError:
        return _back(tab, comment_id, "conflict")
    except NotFoundError:
        return _back(tab)
    # The decided comment has left the open tabs: the first item is the next one.
    return _back(_next_tab(session, tab), None, "approved" if act is qs.Action.APPROVE else "rejected")


@router.post("/moderate/bulk")
def bulk_form(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    action: Annotated[str, Form(max_length=16)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    items: Annotated[list[str] | None, Form(max_length=200)] = None,
    reason: Annotated[str, Form(max_length=32)] = "",
    tab: Annotated[str, Form(max_length=20)] = "flagged",
) -> Response:
    who = _form_principal(request, session, settings, csrf_token)
    if not isinstance(who, Principal):
        return who
    parsed = _reason(action, reason)
    if parsed is None:
        return _back(tab, None, "reason")
    pairs: list[tuple[uuid.UUID, int]] = []
    for raw in items or []:
        ident, _, ver = raw.partition(":")
        try:
            pairs.append((uuid.UUID(ident), int(ver)))
        except ValueError:
            continue
    if not pairs:
        return _back(tab, None, "bulk_none")
    qs.decide_many(session=session, items=pairs[:200], who=who, action=parsed[0], reason=parsed[1])
    return _back(_next_tab(session, tab), None, "bulk")


@router.post("/moderate/comments/{comment_id}/author")
def author_form(
    comment_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    action: Annotated[str, Form(max_length=16)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    reason: Annotated[str, Form(max_length=32)] = "",
    tab: Annotated[str, Form(max_length=20)] = "flagged",
) -> Response:
    who = _form_principal(request, session, settings, csrf_token)
    if not isinstance(who, Principal):
        return who
    parsed = _reason(action, reason)
    if parsed is None:
        return _back(tab, comment_id, "reason")
    try:
        qs.decide_author(session=session, comment_id=comment_id, who=who, action=parsed[0], reason=parsed[1])
    except NotFoundError:
        return _back(tab)
    return _back(_next_tab(session, tab), None, "author")


@router.post("/moderate/comments/{comment_id}/release")
def release_form(
    comment_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    tab: Annotated[str, Form(max_length=20)] = "flagged",
) -> Response:
    who = _form_principal(request, session, settings, csrf_token)
    if not isinstance(who, Principal):
        return who
    try:
        qs.release_claim(session=session, comment_id=comment_id, who=who)
    except (PermissionError, NotFoundError):
        return _back(tab, comment_id, "claimed")
    return _back(tab, comment_id, "released")

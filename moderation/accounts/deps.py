"""FastAPI dependencies that authenticate moderators.

Two credentials are accepted: an API token (``Authorization: Bearer mod_...``) for scripts,
and the page's session cookie. A cookie is sent by the browser on its own, so any unsafe
method authenticated by it must also carry the CSRF token (``X-CSRF-Token`` header) that
only our own page can read; bearer tokens are never sent automatically and need none.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from moderation.accounts import service
from moderation.accounts.service import Principal
from moderation.api.deps import SessionDep, SettingsDep

SESSION_COOKIE = "moderation_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="moderation"'}


def optional_moderator(request: Request, session: SessionDep) -> Principal | None:
    """The moderator behind the request, or ``None``. A presented credential that does not
    check out is a 401, never a silent fall-through to anonymous."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        principal = (
            service.authenticate_token(session=session, token=token.strip())
            if scheme.lower() == "bearer"
            else None
        )
        if principal is None:
            raise HTTPException(401, "invalid or revoked API token", headers=_CHALLENGE)
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return service.authenticate_session(session=session, token=cookie)
    return None


def current_moderator(
    request: Request,
    settings: SettingsDep,
    principal: Annotated[Principal | None, Depends(optional_moderator)],
) -> Principal:
    if principal is None:
        raise HTTPException(401, "sign in or send an API token", headers=_CHALLENGE)
    if principal.via == "session" and request.method not in SAFE_METHODS:
        presented = request.headers.get(CSRF_HEADER)
        if not service.csrf_valid(settings.resolved_secret_key(), principal.session_hash, presented):
            raise HTTPException(403, "missing or invalid CSRF token")
    return principal


def require_admin(principal: Annotated[Principal, Depends(current_moderator)]) -> Principal:
    if not principal.is_admin:
        raise HTTPException(403, "this needs the admin role")
    return principal


ModeratorDep = Annotated[Principal, Depends(current_moderator)]
AdminDep = Annotated[Principal, Depends(require_admin)]

"""Who may call ``/api/v1/admin/*``: an admin moderator's API token, or the deployment's
``MODERATION_ADMIN_TOKEN`` (for automation before any account exists). Both are sent as
``Authorization: Bearer <token>``."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from moderation.api.deps import SessionDep
from moderation.settings import Settings


def bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def is_admin_token(token: str, *, session: Session, settings: Settings) -> bool:
    if settings.admin_token and hmac.compare_digest(token.encode(), settings.admin_token.encode()):
        return True
    from moderation.accounts.service import authenticate_token

    principal = authenticate_token(session=session, token=token)
    return principal is not None and principal.is_admin


def require_admin(request: Request, session: SessionDep) -> str:
    """401 without a token, 403 with a token that is not an admin's."""
    token = bearer(request)
    if token is None:
        raise HTTPException(
            401,
            "Send an admin API token: Authorization: Bearer <token>.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not is_admin_token(token, session=session, settings=request.app.state.settings):
        raise HTTPException(403, "This token may not use the admin API.")
    return token


AdminDep = Annotated[str, Depends(require_admin)]

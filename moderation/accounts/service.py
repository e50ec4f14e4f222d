"""Account services: moderators, passwords, API tokens, page sessions and login throttling.

They take ``*, session`` and only flush; the caller owns the transaction. Secrets handed to
a person (API tokens, session cookies) are random, prefixed and shown once; only their
SHA-256 digest is stored, so a leaked database does not leak working credentials.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from moderation.accounts.models import ApiToken, LoginAttempt, Moderator, Role, WebSession
from moderation.db import utcnow

TOKEN_PREFIX = "mod_"  # noqa: S105 (a public prefix, not a secret)
SESSION_PREFIX = "sess_"
MIN_PASSWORD_CHARS = 10

# argon2-cffi's defaults are Argon2id with the RFC 9106 "low memory" profile.
_hasher = PasswordHasher()
# Verified when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + secrets.token_hex(8))


class AccountError(ValueError):
    """A request about accounts that cannot be done (duplicate name, weak password...)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated moderator of a request."""

    id: int
    name: str
    role: Role
    # "token" (API bearer token) or "session" (the page's cookie).
    via: str
    # Set for cookie sessions: the digest the CSRF token is bound to.
    session_hash: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def keyed_hash(key: str, value: str) -> str:
    """HMAC-SHA256 of ``value``: stable per deployment, useless without the key."""
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


# --- moderators -----------------------------------------------------------------------------


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
    return _hasher.hash(password)


def create_moderator(*, session: Session, name: str, role: Role, password: str | None) -> Moderator:
    name = name.strip()
    if not name or len(name) > 120:
        raise AccountError("the name must have 1 to 120 characters")
    if session.scalar(select(Moderator.id).where(Moderator.name == name)) is not None:
        raise AccountError(f"moderator {name!r} already exists")
    moderator = Moderator(
        name=name, role=role, password_hash=hash_password(password) if password else None, created_at=utcnow()
    )
    session.add(moderator)
    session.flush()
    return moderator


def get_moderator(*, session: Session, name: str) -> Moderator | None:
    return session.scalar(select(Moderator).where(Moderator.name == name))


def list_moderators(*, session: Session) -> Sequence[Moderator]:
    return session.scalars(select(Moderator).order_by(Moderator.name)).all()


def set_disabled(*, session: Session, moderator: Moderator, disabled: bool) -> None:
    """Disable (or enable) a moderator. Disabling ends their sessions and claims at once;
    their API tokens stop working while they are disabled."""
    moderator.disabled = disabled
    if disabled:
        from moderation.review.queue_models import Claim

        session.execute(delete(WebSession).where(WebSession.moderator_id == moderator.id))
        session.execute(delete(Claim).where(Claim.moderator_id == moderator.id))
    session.flush()


# --- API tokens -----------------------------------------------------------------------------


def issue_token(*, session: Session, moderator: Moderator) -> str:
    """A new API token for ``moderator``. The return value is the only copy of it."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(moderator_id=moderator.id, token_hash=digest(token), prefix=token[:12], created_at=utcnow())
    )
    session.flush()
    return token


def authenticate_token(*, session: Session, token: str, now: datetime | None = None) -> Principal | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.execute(
        select(ApiToken, Moderator)
        .join(Moderator, Moderator.id == ApiToken.moderator_id)
        .where(ApiToken.token_hash == digest(token), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    api_token, moderator = row
    if moderator.disabled:
        return None
    now = now or utcnow()
    # Recorded at most once a minute, so busy API clients do not write on every request.
    if api_token.last_used_at is None or now - api_token.last_used_at > timedelta(minutes=1):
        api_token.last_used_at = now
    return Principal(moderator.id, moderator.name, moderator.role, "token")


# --- password login and sessions ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoginResult:
    moderator: Moderator | None
    throttled: bool = False


def login(
    *,
    session: Session,
    name: str,
    password: str,
    ip_hash: str,
    max_failures: int,
    max_failures_per_ip: int,
    window: timedelta,
    now: datetime | None = None,
) -> LoginResult:
    """Check a password, throttling by name and by address.

    Failed attempts within ``window`` count against both the name (since its last success)
    and the address; past either limit the attempt is refused without checking the
    password, and the refusal itself counts, so hammering keeps the lock closed.
    """
    now = now or utcnow()
    name = name.strip()[:120]
    since = now - window
    last_ok = session.scalar(
        select(func.max(LoginAttempt.created_at)).where(
            LoginAttempt.name == name, LoginAttempt.succeeded.is_(True)
        )
    )
    name_since = max(since, last_ok) if last_ok is not None else since
    by_name = session.scalar(
        select(func.count()).where(
            LoginAttempt.name == name, LoginAttempt.succeeded.is_(False), LoginAttempt.created_at > name_since
        )
    )
    by_ip = session.scalar(
        select(func.count()).where(
            LoginAttempt.ip_hash == ip_hash,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.created_at > since,
        )
    )
    if (by_name or 0) >= max_failures or (by_ip or 0) >= max_failures_per_ip:
        session.add(LoginAttempt(name=name, ip_hash=ip_hash, succeeded=False, created_at=now))
        session.flush()
        return LoginResult(None, throttled=True)

    moderator = get_moderator(session=session, name=name)
    ok = _verify(moderator.password_hash if moderator else None, password)
    if moderator is None or moderator.disabled or not ok:
        session.add(LoginAttempt(name=name, ip_hash=ip_hash, succeeded=False, created_at=now))
        session.flush()
        return LoginResult(None)
    assert moderator.password_hash is not None  # noqa: S101 (ok implies a hash)
    if _hasher.check_needs_rehash(moderator.password_hash):
        moderator.password_hash = _hasher.hash(password)
    moderator.last_login_at = now
    session.add(LoginAttempt(name=name, ip_hash=ip_hash, succeeded=True, created_at=now))
    session.flush()
    return LoginResult(moderator)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def start_session(*, session: Session, moderator: Moderator, lifetime: timedelta) -> str:
    """A new page session; returns the cookie value (its only copy)."""
    token = SESSION_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        WebSession(
            moderator_id=moderator.id,
            token_hash=digest(token),
            created_at=now,
            expires_at=now + lifetime,
            last_seen_at=now,
        )
    )
    session.flush()
    return token


def authenticate_session(*, session: Session, token: str, now: datetime | None = None) -> Principal | None:
    if not token.startswith(SESSION_PREFIX) or len(token) > 200:
        return None
    now = now or utcnow()
    token_hash = digest(token)
    row = session.execute(
        select(WebSession, Moderator)
        .join(Moderator, Moderator.id == WebSession.moderator_id)
        .where(WebSession.token_hash == token_hash, WebSession.expires_at > now)
    ).first()
    if row is None:
        return None
    web_session, moderator = row
    if moderator.disabled:
        return None
    if now - web_session.last_seen_at > timedelta(minutes=1):
        web_session.last_seen_at = now
    return Principal(moderator.id, moderator.name, moderator.role, "session", session_hash=token_hash)


def end_session(*, session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == digest(token)))


def purge_expired_sessions(*, session: Session, now: datetime) -> int:
    result = session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    return int(result.rowcount)  # type: ignore[attr-defined]


def revoke_tokens(*, session: Session, moderator: Moderator) -> int:
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.moderator_id == moderator.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- CSRF -----------------------------------------------------------------------------------


def csrf_token(secret_key: str, binding: str) -> str:
    """The CSRF token for a session (or a pre-login nonce): an HMAC only the server can make."""
    return keyed_hash(secret_key, "csrf|" + binding)


def csrf_valid(secret_key: str, binding: str | None, presented: str | None) -> bool:
    if not binding or not presented:
        return False
    return hmac.compare_digest(csrf_token(secret_key, binding), presented)

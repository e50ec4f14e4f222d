"""Passwords, API tokens and page sessions are stored only hashed.

A moderator is added and given a token with the real CLI, then signs in on the real login
page; afterwards every column of every table is read back and none may contain the
password, the token or the session cookie (a leaked database must not leak working
credentials). The hashes are the expected kind: Argon2id for passwords, SHA-256 for tokens.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys

import sqlalchemy as sa
from fastapi.testclient import TestClient

from moderation.accounts.models import ApiToken, Moderator, WebSession
from moderation.all_models import metadata
from moderation.api.app import create_app
from tests.helpers import REPO
from workers.app import make_celery

PASSWORD = "correct horse battery staple 42"


def cli(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "moderation", *args], env=env, cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def every_stored_value(engine: sa.Engine) -> str:
    """All rows of all tables as one string (values rendered with str())."""
    parts: list[str] = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                parts.extend(str(value) for value in row)
    return "\n".join(parts)


def test_password_token_and_session_are_stored_only_hashed(backend):
    env = backend.env()
    cli(env, "moderators", "add", "alice", "--role", "admin", "--password", PASSWORD)
    token = cli(env, "moderators", "token", "alice").strip().splitlines()[0]
    assert token.startswith("mod_")
    assert len(token) > 30

    settings = backend.settings()
    app = create_app(settings, celery=make_celery(settings), publish=lambda _: None)
    with TestClient(app, base_url="https://testserver") as client:
        assert (
            client.get("/api/v1/moderation/me", headers={"Authorization": f"Bearer {token}"}).status_code
            == 200
        )
        form = client.get("/moderate/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf, form.text[:500]
        login = client.post(
            "/moderate/login",
            data={"name": "alice", "password": PASSWORD, "csrf_token": csrf.group(1)},
            follow_redirects=False,
        )
        assert login.status_code == 303, login.text[:300]
        cookie = client.cookies.get("moderation_session")
        assert cookie

    stored = every_stored_value(backend.engine)
    assert PASSWORD not in stored
    assert token not in stored
    assert token[len("mod_") + 8 :] not in stored  # not even the secret part (the shown prefix is 12 chars)
    assert cookie not in stored

    with backend.session() as session:
        moderator = session.scalars(sa.select(Moderator).where(Moderator.name == "alice")).one()
        tokens = session.scalars(sa.select(ApiToken)).all()
        sessions = session.scalars(sa.select(WebSession)).all()
    assert moderator.password_hash is not None
    assert moderator.password_hash.startswith("$argon2id$")
    assert [t.token_hash for t in tokens] == [hashlib.sha256(token.encode()).hexdigest()]
    assert len(tokens[0].prefix) <= 12
    assert [s.token_hash for s in sessions] == [hashlib.sha256(cookie.encode()).hexdigest()]

"""``moderation moderators``: a real CLI subprocess against the SQLite backend."""

from __future__ import annotations

import subprocess
import sys

from fastapi.testclient import TestClient
from sqlalchemy import text

from moderation.api.app import create_app
from tests.conftest import Backend
from tests.helpers import REPO
from workers.app import make_celery


def _cli(backend: Backend, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "moderation", "moderators", *args],
        env=backend.env(MODERATION_SECRET_KEY="test-secret-key-0123456789abcdef"),
        cwd=REPO,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_add_list_token_disable(sqlite_backend: Backend) -> None:
    added = _cli(sqlite_backend, "add", "dana", "--role", "admin", stdin="long enough pw\nlong enough pw\n")
    assert added.returncode == 0, added.stderr
    assert "added admin dana" in added.stdout
    assert _cli(sqlite_backend, "add", "dana", "--password", "long enough pw").returncode == 1
    short = _cli(sqlite_backend, "add", "eli", "--password", "short")
    assert short.returncode == 1
    assert "at least 10" in short.stderr
    listed = _cli(sqlite_backend, "list")
    assert listed.stdout.startswith("dana\tadmin\tactive")
    issued = _cli(sqlite_backend, "token", "dana")
    token = issued.stdout.strip()
    assert token.startswith("mod_")
    assert "cannot be shown again" in issued.stderr
    with sqlite_backend.engine.connect() as conn:
        rows = " ".join(str(r) for r in conn.execute(text("SELECT * FROM api_tokens")))
    assert token not in rows

    settings = sqlite_backend.settings()
    client = TestClient(create_app(settings, celery=make_celery(settings), publish=lambda _id: None))
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/moderation/audit", headers=auth).status_code == 200
    assert _cli(sqlite_backend, "disable", "dana").returncode == 0
    assert client.get("/api/v1/moderation/audit", headers=auth).status_code == 401
    assert "disabled" in _cli(sqlite_backend, "list").stdout
    assert _cli(sqlite_backend, "token", "nobody").returncode == 1

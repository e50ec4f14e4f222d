"""Per-article policy: admin API and CLI, validation, submission rules, versions on decisions."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from moderation.db import utcnow
from moderation.models import Article, Comment, CommentStatus, Decision
from moderation.review.decide import decide
from moderation.review.pipeline import get_pipeline
from tests.helpers import REPO

SLUG = "ketamine-infusion-therapy"
POLICY = f"/api/v1/admin/articles/{SLUG}/policy"
COMMENTS = f"/api/v1/articles/{SLUG}/comments"
ADMIN = {"Authorization": "Bearer test-admin-token-0123456789"}


@pytest.fixture
def admin_client(backend, published):
    from fastapi.testclient import TestClient

    from moderation.api.app import create_app
    from workers.app import make_celery

    settings = backend.settings(admin_token=ADMIN["Authorization"].split()[1])
    app = create_app(settings, celery=make_celery(settings), publish=published.append)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_admin_api_needs_an_admin_token(admin_client):
    assert admin_client.get(POLICY).status_code == 401
    assert admin_client.get(POLICY, headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert admin_client.get(POLICY, headers=ADMIN).status_code == 200
    assert admin_client.get("/api/v1/admin/webhooks").status_code == 401


def test_admin_webhooks_api(admin_client):
    created = admin_client.post(
        "/api/v1/admin/webhooks",
        headers=ADMIN,
        json={"url": "https://hooks.example/moderation", "events": ["comment.urgent"]},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_")
    listed = admin_client.get("/api/v1/admin/webhooks", headers=ADMIN).json()
    assert [(w["id"], w["events"]) for w in listed] == [(body["id"], ["comment.urgent"])]
    assert "secret" not in listed[0]
    assert admin_client.get(f"/api/v1/admin/webhooks/{body['id']}/deliveries", headers=ADMIN).json() == []
    bad = admin_client.post(
        "/api/v1/admin/webhooks", headers=ADMIN, json={"url": "https://x.example", "events": ["nope"]}
    )
    assert bad.status_code == 422
    assert admin_client.delete(f"/api/v1/admin/webhooks/{body['id']}", headers=ADMIN).status_code == 204
    assert admin_client.delete(f"/api/v1/admin/webhooks/{body['id']}", headers=ADMIN).status_code == 404


def test_policy_changes_bump_the_version_and_unknown_keys_are_refused(admin_client):
    first = admin_client.get(POLICY, headers=ADMIN).json()
    assert first["version"] == 1
    assert first["policy"] == {}
    assert first["effective"]["auto_reject_spam"] is True

    changed = admin_client.put(POLICY, headers=ADMIN, json={"auto_reject_spam": False, "max_length": 300})
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    assert changed.json()["effective"]["auto_reject_spam"] is False
    assert changed.json()["effective"]["version"] == f"article:{SLUG}:v2"

    same = admin_client.put(POLICY, headers=ADMIN, json={"auto_reject_spam": False, "max_length": 300})
    assert same.json()["version"] == 2  # no change, no new version

    for bad in (
        {"auto_reject": True},
        {"mild_profanity": "hide"},
        {"spam_flag_threshold": 2},
        {"max_length": 0},
    ):
        response = admin_client.put(POLICY, headers=ADMIN, json=bad)
        assert response.status_code == 422, bad
        assert response.json()["error"] == "validation_error"
    assert admin_client.get(POLICY, headers=ADMIN).json()["version"] == 2


def test_closed_articles_refuse_comments_with_a_clear_message(admin_client, published):
    past = (utcnow() - timedelta(days=1)).isoformat()
    assert admin_client.put(POLICY, headers=ADMIN, json={"closes_at": past}).status_code == 200
    response = admin_client.post(COMMENTS, json={"body": "Is this still open?"})
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert "closed" in response.json()["message"]
    assert published == []

    future = (utcnow() + timedelta(days=1)).isoformat()
    admin_client.put(POLICY, headers=ADMIN, json={"closes_at": future})
    assert admin_client.post(COMMENTS, json={"body": "Still open."}).status_code == 202


def test_article_maximum_length(admin_client, published):
    admin_client.put(POLICY, headers=ADMIN, json={"max_length": 20})
    too_long = admin_client.post(COMMENTS, json={"body": "x" * 21})
    assert too_long.status_code == 422
    assert "at most 20 characters" in too_long.json()["message"]
    assert admin_client.post(COMMENTS, json={"body": "x" * 20}).status_code == 202
    assert len(published) == 1


def test_decisions_record_the_policy_version_used(admin_client, backend):
    admin_client.put(POLICY, headers=ADMIN, json={"premoderate": True})
    comment_id = uuid.UUID(
        admin_client.post(COMMENTS, json={"body": "A kind, ordinary comment."}).json()["id"]
    )
    with backend.session() as session, session.begin():
        decided = decide(session.connection(), comment_id, get_pipeline())
        assert decided is not None
        assert decided.status is CommentStatus.FLAGGED  # pre-moderated
    with backend.session() as session:
        stored = session.scalar(select(Decision).where(Decision.comment_id == comment_id))
        assert stored.versions["policy"] == f"article:{SLUG}:v2"
        assert session.get_one(Comment, comment_id).status is CommentStatus.FLAGGED


def run_cli(backend: Any, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "moderation", "articles", *args],
        env=backend.env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_sets_shows_and_validates_policy(backend):
    done = run_cli(
        backend, "policy", SLUG, "--set", "mild_profanity=censor", "--set", "spam_reject_threshold=0.95"
    )
    assert done.returncode == 0, done.stderr
    assert "policy version 2" in done.stdout
    with backend.session() as session:
        article = session.scalar(select(Article).where(Article.slug == SLUG))
        assert article.policy == {"mild_profanity": "censor", "spam_reject_threshold": 0.95}
    shown = run_cli(backend, "policy", SLUG)
    assert '* mild_profanity = "censor"' in shown.stdout
    bad = run_cli(backend, "policy", SLUG, "--set", "colour=blue")
    assert bad.returncode == 2
    assert "colour" in bad.stderr
    unset = run_cli(backend, "policy", SLUG, "--unset", "mild_profanity")
    assert "policy version 3" in unset.stdout

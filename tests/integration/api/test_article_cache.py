"""The submission's per-process article cache: a policy change made in another process (here:
a second app on the same database) applies within ARTICLE_CACHE_SECONDS; one made through this
process's admin API applies at once; an unknown slug is never cached."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from moderation.articles.cache import ARTICLE_CACHE_SECONDS, ArticleCache
from moderation.db import utcnow
from moderation.models import Article

SLUG = "ketamine-infusion-therapy"
COMMENTS = f"/api/v1/articles/{SLUG}/comments"
POLICY = f"/api/v1/admin/articles/{SLUG}/policy"
ADMIN = {"Authorization": "Bearer test-admin-token-0123456789"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def two_apps(backend, published, clock) -> Iterator[tuple[TestClient, TestClient]]:
    """Two API processes on one database; the first one's article cache runs on ``clock``."""
    from moderation.api.app import create_app
    from workers.app import make_celery

    settings = backend.settings(admin_token=ADMIN["Authorization"].split()[1])
    apps = [create_app(settings, celery=make_celery(settings), publish=published.append) for _ in range(2)]
    apps[0].state.article_cache = ArticleCache(clock=clock)
    with TestClient(apps[0]) as first, TestClient(apps[1]) as second:
        yield first, second


def test_a_change_made_elsewhere_applies_within_the_cache_time(two_apps, clock):
    first, second = two_apps
    assert first.post(COMMENTS, json={"body": "Cached now."}).status_code == 202
    past = (utcnow() - timedelta(hours=1)).isoformat()
    assert second.put(POLICY, headers=ADMIN, json={"closes_at": past}).status_code == 200

    # The process that made the change refuses at once.
    refused = second.post(COMMENTS, json={"body": "Too late."})
    assert refused.status_code == 403
    assert refused.json()["error"] == "forbidden"
    # The other one may use its snapshot for less than ARTICLE_CACHE_SECONDS ...
    clock.now += ARTICLE_CACHE_SECONDS - 0.5
    assert first.post(COMMENTS, json={"body": "Still within the cache time."}).status_code == 202
    # ... and no longer.
    clock.now += 0.5
    assert first.post(COMMENTS, json={"body": "Too late here too."}).status_code == 403

    # A shorter maximum length, the same way.
    second.put(POLICY, headers=ADMIN, json={"max_length": 10})
    assert second.post(COMMENTS, json={"body": "x" * 11}).status_code == 422
    clock.now += ARTICLE_CACHE_SECONDS
    too_long = first.post(COMMENTS, json={"body": "x" * 11})
    assert too_long.status_code == 422
    assert "at most 10 characters" in too_long.json()["message"]
    assert first.post(COMMENTS, json={"body": "x" * 10}).status_code == 202


def test_own_admin_change_applies_at_once(two_apps):
    first, _ = two_apps
    assert first.post(COMMENTS, json={"body": "Cached now."}).status_code == 202
    past = (utcnow() - timedelta(hours=1)).isoformat()
    assert first.put(POLICY, headers=ADMIN, json={"closes_at": past}).status_code == 200
    assert first.post(COMMENTS, json={"body": "Too late."}).status_code == 403
    assert first.put(POLICY, headers=ADMIN, json={}).status_code == 200
    assert first.post(COMMENTS, json={"body": "Open again."}).status_code == 202


def test_a_new_article_is_found_at_once(two_apps, backend, published):
    first, _ = two_apps
    missing = first.post("/api/v1/articles/brand-new/comments", json={"body": "First!"})
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    with backend.session() as session, session.begin():
        session.add(Article(slug="brand-new", title="Brand new", summary=""))
    accepted = first.post("/api/v1/articles/brand-new/comments", json={"body": "First!"})
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["article"] == "brand-new"
    assert published[-1] == uuid.UUID(accepted.json()["id"])

"""Reader reports: public, rate limited per address, re-queue past a threshold."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select

from moderation.api.app import create_app
from moderation.models import Comment, CommentStatus, Decision, DecisionSource
from moderation.review.queue_models import AuditEntry, Report
from tests.conftest import Backend
from tests.integration.review.conftest import Team, seed_comment
from workers.app import make_celery


def _client(backend: Backend, address: str, **overrides: object) -> TestClient:
    settings = backend.settings(**overrides)
    app = create_app(settings, celery=make_celery(settings), publish=lambda _id: None)
    return TestClient(app, raise_server_exceptions=False, client=(address, 50000))


def _report(client: TestClient, cid: uuid.UUID, reason: str = "abuse") -> int:
    return client.post(f"/api/v1/comments/{cid}/reports", json={"reason": reason}).status_code


def test_reports_past_threshold_send_a_published_comment_back(backend: Backend, team: Team) -> None:
    cid = seed_comment(backend, "You are all idiots", status=CommentStatus.APPROVED)
    readers = [_client(backend, f"198.51.100.{i}", report_threshold=3) for i in range(3)]
    assert _report(readers[0], cid, "abuse") == 202
    assert _report(readers[0], cid, "abuse") == 202  # the same reader counts once
    assert _report(readers[1], cid, "spam") == 202
    with backend.session() as session:
        assert session.get_one(Comment, cid).status is CommentStatus.APPROVED
        assert len(session.scalars(select(Report).where(Report.comment_id == cid)).all()) == 2
    assert _report(readers[2], cid, "abuse") == 202
    with backend.session() as session:
        comment = session.get_one(Comment, cid)
        assert comment.status is CommentStatus.FLAGGED
        assert comment.version == 3
        system = session.scalars(
            select(Decision).where(Decision.comment_id == cid, Decision.source == DecisionSource.SYSTEM)
        ).one()
        assert system.reasons[0]["code"] == "policy.reader_reports"
        assert "3 reader reports (abuse, spam)" in system.reasons[0]["detail"]
        audit = session.scalars(select(AuditEntry).where(AuditEntry.comment_id == cid)).one()
        assert (audit.action, audit.from_status, audit.to_status) == ("reported_back", "approved", "flagged")
    # Now unpublished: further reports are "not found", and moderators see it as reported.
    assert _report(readers[0], cid) == 404
    queue = readers[0].get(
        "/api/v1/moderation/queue", params={"status": "reported"}, headers=team.auth("alice")
    )
    item = queue.json()["items"][0]
    assert item["id"] == str(cid)
    assert item["open_reports"] == 3
    assert item["status"] == "flagged"
    # A moderator's decision resolves the reports.
    decided = readers[0].post(
        f"/api/v1/moderation/comments/{cid}/decision",
        headers=team.auth("alice"),
        json={"action": "approve", "version": 3},
    )
    assert decided.status_code == 200
    counts = readers[0].get("/api/v1/moderation/counts", headers=team.auth("alice")).json()
    assert counts["views"]["reported"] == 0


def test_report_errors(client: TestClient, backend: Backend) -> None:
    flagged = seed_comment(backend, "held", status=CommentStatus.FLAGGED)
    published = seed_comment(backend, "fine", status=CommentStatus.APPROVED)
    assert _report(client, uuid.uuid4()) == 404
    assert _report(client, flagged) == 404  # unpublished comments are not revealed
    assert _report(client, published, "because") == 422
    extra = client.post(f"/api/v1/comments/{published}/reports", json={"reason": "spam", "x": 1})
    assert extra.status_code == 422
    form = client.post(f"/api/v1/comments/{published}/reports", data={"reason": "spam"})
    assert form.status_code == 415


@pytest.fixture
def redis_url() -> Iterator[str]:
    url = "redis://127.0.0.1:6379/9"
    redis.Redis.from_url(url).flushdb()
    yield url
    redis.Redis.from_url(url).flushdb()


@pytest.mark.parametrize("use_redis", [False, True])
def test_reports_are_rate_limited_per_address(
    sqlite_backend: Backend, redis_url: str, use_redis: bool
) -> None:
    ids = [seed_comment(sqlite_backend, f"published {i}", status=CommentStatus.APPROVED) for i in range(4)]
    overrides: dict[str, object] = {"report_rate_limit": 3, "report_threshold": 100}
    if use_redis:
        overrides["redis_url"] = redis_url
    noisy = _client(sqlite_backend, "192.0.2.10", **overrides)
    other = _client(sqlite_backend, "192.0.2.11", **overrides)
    assert [_report(noisy, i) for i in ids] == [202, 202, 202, 429]
    limited = noisy.post(f"/api/v1/comments/{ids[0]}/reports", json={"reason": "spam"})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"] == "too_many_requests"
    assert _report(other, ids[3]) == 202
    if use_redis:
        # Shared through Redis: a second API process sees the same count.
        again = _client(sqlite_backend, "192.0.2.10", **overrides)
        assert _report(again, ids[3]) == 429


def test_reports_fail_open_when_the_limiter_is_down(
    sqlite_backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis unreachable (nothing listens on port 1): the report is stored and a warning
    logged, as a submission is; a limiter outage must not turn readers away."""
    cid = seed_comment(sqlite_backend, "published", status=CommentStatus.APPROVED)
    reader = _client(
        sqlite_backend,
        "192.0.2.20",
        redis_url="redis://127.0.0.1:1/0",
        report_rate_limit=1,
        report_threshold=100,
    )
    with caplog.at_level("WARNING", logger="moderation.api.routes.reports"):
        assert _report(reader, cid, "spam") == 202
        assert _report(reader, cid, "abuse") == 202  # past the limit of 1: not counted, so allowed
    assert "rate limiter unavailable" in caplog.text
    with sqlite_backend.session() as session:
        assert len(session.scalars(select(Report).where(Report.comment_id == cid)).all()) == 1

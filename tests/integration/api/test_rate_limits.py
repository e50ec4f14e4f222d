"""Submission rate limits per IP and per author: 429 with Retry-After, others unaffected."""

from __future__ import annotations

import socket
import time

import pytest
import redis
from fastapi.testclient import TestClient

from moderation.api.app import create_app
from moderation.clients.ratelimit import Limit, MemoryRateLimiter, RedisRateLimiter, StoreUnavailableError
from tests.helpers import slot_redis_url
from workers.app import make_celery

URL = "/api/v1/articles/ketamine-infusion-therapy/comments"


@pytest.fixture(params=["redis", "memory"])
def limited(request, sqlite_backend, published):
    extra = {}
    if request.param == "redis":
        url = slot_redis_url()
        redis.Redis.from_url(url).flushdb()
        extra["redis_url"] = url
    settings = sqlite_backend.settings(
        rate_limit_per_ip=5, rate_limit_per_author=3, rate_limit_window=60, **extra
    )
    app = create_app(settings, celery=make_celery(settings), publish=published.append)
    with TestClient(app) as client:
        yield client


def test_per_author_limit_returns_429_with_retry_after(limited, published):
    for i in range(3):
        assert limited.post(URL, json={"body": f"hi {i}", "author_name": "Pat"}).status_code == 202
    blocked = limited.post(URL, json={"body": "again", "author_name": "pat "})
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    assert blocked.json()["error"] == "too_many_requests"
    assert len(published) == 3
    # Another author from the same address is not affected (until the IP limit).
    assert limited.post(URL, json={"body": "hello", "author_name": "Lee"}).status_code == 202


def test_per_ip_limit(limited):
    codes = [limited.post(URL, json={"body": "x", "author_name": f"a{i}"}).status_code for i in range(7)]
    assert codes == [202] * 5 + [429] * 2


def test_other_clients_are_unaffected():
    clock = [1000.0]
    for limiter in (MemoryRateLimiter(lambda: clock[0]), RedisRateLimiter(_redis(), lambda: clock[0])):
        limit = Limit(2, 60)
        assert [limiter.hit("ip", "1.1.1.1", limit).allowed for _ in range(3)] == [True, True, False]
        assert limiter.hit("ip", "2.2.2.2", limit).allowed
        clock[0] += 60  # the next window starts afresh
        assert limiter.hit("ip", "1.1.1.1", limit).allowed
        clock[0] = 2000.0


def _redis():
    client = redis.Redis.from_url(slot_redis_url())
    client.flushdb()
    return client


def test_limiter_down_fails_open(sqlite_backend, published):
    settings = sqlite_backend.settings(rate_limit_per_ip=1, redis_url="redis://127.0.0.1:1/0")
    app = create_app(settings, celery=make_celery(settings), publish=published.append)
    with TestClient(app) as client:
        codes = [client.post(URL, json={"body": "x"}).status_code for _ in range(3)]
    assert codes == [202, 202, 202]


def test_a_hung_store_costs_one_timeout_per_cooldown_not_one_per_submission():
    # A server that completes the TCP handshake and never answers (a Redis caught dying, or
    # hung): the first hit waits for the socket timeout, the next ones fail at once until the
    # cooldown ends, and the API lets them through (test_limiter_down_fails_open).
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)
        port = hung.getsockname()[1]
        limiter = RedisRateLimiter.from_url(f"redis://127.0.0.1:{port}/0", timeout=0.3)
        limiter.cooldown = 1.0
        limit = Limit(5, 60)
        started = time.monotonic()
        with pytest.raises(redis.exceptions.RedisError):
            limiter.hit("ip", "1.1.1.1", limit)
        # One socket timeout: redis-py's default policy would retry ten times, with backoff.
        assert 0.3 <= time.monotonic() - started < 1.0
        for _ in range(20):
            started = time.monotonic()
            with pytest.raises(StoreUnavailableError):
                limiter.hit("ip", "1.1.1.1", limit)
            assert time.monotonic() - started < 0.05
        time.sleep(1.0)
        with pytest.raises(redis.exceptions.RedisError):  # asked again after the cooldown
            limiter.hit("ip", "1.1.1.1", limit)

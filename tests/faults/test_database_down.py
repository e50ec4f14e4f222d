"""Fault 4: the database becomes unreachable (a TCP proxy in front of PostgreSQL is cut).

Submissions get 503 JSON with ``Retry-After`` and nothing half-written, ``/readyz`` says the
database is the problem, and the worker retries with backoff and decides every queued
comment once the database is back.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from moderation.models import Comment
from tests.conftest import Backend
from tests.faults.conftest import Service, make_service
from tests.faults.helpers import (
    ARTICLE_URL,
    OwnRedis,
    TcpProxy,
    proxied_url,
    queue_length,
    tally,
    wait_all_decided,
)
from tests.helpers import running_worker, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def proxy(postgres_backend: Backend) -> Iterator[TcpProxy]:
    url = sa.engine.make_url(postgres_backend.url)
    with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as p:
        yield p


@pytest.fixture
def proxied(postgres_backend: Backend, own_redis: OwnRedis, proxy: TcpProxy, tmp_path: Path):
    """The API and worker env talking to PostgreSQL through the proxy."""
    url = proxied_url(postgres_backend.url, proxy.port)
    yield from make_service(postgres_backend, own_redis, tmp_path, database_url=url)


def comment_count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(Comment)) or 0)


def test_connection_lost_at_commit_is_a_503_not_a_lost_202(proxied: Service, proxy: TcpProxy):
    """The request's transaction commits before the response is sent: a commit that fails
    must not have told the client 202 (the comment would be lost)."""
    engine = proxied.backend.engine
    before = comment_count(engine)
    proxy.cut_on(b"COMMIT")
    response = proxied.client.post(ARTICLE_URL, json={"body": "a comment whose commit is cut"})
    assert proxy.triggered.is_set(), "the COMMIT never went through the proxy"
    proxy.restore()
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "service_unavailable"
    assert int(response.headers["Retry-After"]) > 0
    assert comment_count(engine) == before  # nothing half-written
    assert queue_length(proxied.redis.client()) == 0  # and nothing published for it
    # The service recovers on its own once the database is back (stale pool connections).
    assert proxied.client.post(ARTICLE_URL, json={"body": "after the cut"}).status_code == 202


def test_database_outage_503_readyz_and_worker_recovers(proxied: Service, proxy: TcpProxy, tmp_path):
    engine = proxied.backend.engine
    queued, codes = proxied.submit(30, prefix="before the outage")
    assert codes == [202] * 30
    assert proxied.client.get("/readyz").status_code == 200

    proxy.cut()
    outage_started = time.monotonic()
    rows_before = comment_count(engine)
    refused = [proxied.client.post(ARTICLE_URL, json={"body": f"during the outage {i}"}) for i in range(10)]
    for response in refused:
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["error"] == "service_unavailable"
        assert int(response.headers["Retry-After"]) > 0
    ready = proxied.client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"].startswith("unavailable")
    assert ready.json()["checks"]["broker"] == "ok"
    assert "database" in ready.json()["message"]

    log = tmp_path / "worker.log"
    with running_worker(proxied.env(), log, "--concurrency=2"):
        # The worker takes the queued tasks, fails to reach the database, and retries later.
        wait_for(lambda: log.read_text().count("retry:") >= 5, timeout=30, what="task retries")
        during = tally(engine, queued)
        time.sleep(max(0.0, 8 - (time.monotonic() - outage_started)))
        proxy.restore()
        print(
            f"\noutage {time.monotonic() - outage_started:.1f}s; {during}; retries so far: "
            f"{log.read_text().count('retry:')}"
        )
        assert during.decided == 0
        final = wait_all_decided(engine, queued, timeout=60)
    assert comment_count(engine) == rows_before == 30  # the refused submissions left nothing
    print(f"after restore: {final}; retries logged: {log.read_text().count('retry:')}")
    assert final.decided == 30
    assert final.decided_twice == 0
    assert final.lost == 0
    assert proxied.client.get("/readyz").status_code == 200
    assert {uuid.UUID(str(i)) for i in queued} == set(queued)


def test_database_restart_costs_at_most_one_503(proxied: Service, proxy: TcpProxy):
    """The pool does not ping each connection at checkout (a round trip per request): after
    the database restarted (every pooled connection dropped while idle) the first request on a
    dropped connection fails with a 503 and Retry-After, invalidates the whole pool, and every
    later request gets a fresh connection."""
    _, codes = proxied.submit(5, prefix="before the restart")
    assert codes == [202] * 5
    proxy.cut()  # the server goes away: every pooled connection is dropped ...
    proxy.restore()  # ... and it is back before the next request
    codes = []
    for i in range(10):
        response = proxied.client.post(ARTICLE_URL, json={"body": f"after the restart {i}"})
        codes.append(response.status_code)
        if response.status_code == 503:
            assert response.json()["error"] == "service_unavailable"
            assert int(response.headers["Retry-After"]) > 0
    assert codes.count(503) <= 1, codes
    assert codes[1:] == [202] * 9, codes
    assert proxied.client.get("/readyz").status_code == 200
    assert comment_count(proxied.backend.engine) == 5 + codes.count(202)

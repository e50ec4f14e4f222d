"""/metrics shows what real worker processes decided (multiprocess mode), and one comment's path
can be followed through the API's and the worker's JSON logs with grep on its id."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys

import httpx
from fastapi.testclient import TestClient

from moderation.api.app import create_app
from moderation.logs import JsonFormatter
from tests.helpers import REPO, running_worker, stop_process, wait_for
from tests.serving import free_port
from workers.app import make_celery

URL = "/api/v1/articles/ketamine-infusion-therapy/comments"
BODIES = {
    "approved": ["My clinic monitored me closely. It helped.", "Thanks for explaining the side effects."],
    "rejected": [
        "Buy cheap viagra now!!! Visit http://cheap-pills.example http://pills.example best price casino"
    ],
    "flagged": ["I can't go on anymore, I want to end my life tonight"],
}


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one series in Prometheus text format (None if absent)."""
    for line in text.splitlines():
        match = re.match(rf"^{name}(?:{{(.*)}})? (\S+)$", line)
        if not match:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
        if found == labels:
            return float(match.group(2))
    return None


def test_metrics_include_worker_side_decisions(backend, tmp_path):
    metrics_dir = tmp_path / "prometheus"
    settings = backend.settings(metrics_dir=metrics_dir)
    env = backend.env(MODERATION_METRICS_DIR=str(metrics_dir))
    with TestClient(create_app(settings, celery=make_celery(settings))) as client:
        ids = [client.post(URL, json={"body": b}).json()["id"] for bodies in BODIES.values() for b in bodies]
        before = client.get("/metrics").text
        assert sample(before, "moderation_comments_pending", priority="normal") == 3.0
        assert sample(before, "moderation_comments_pending", priority="urgent") == 1.0
        assert sample(before, "moderation_queue_length", queue="moderation") == 4.0

        with running_worker(env, tmp_path / "worker.log", "--concurrency=2"):
            wait_for(
                lambda: all(client.get(f"/api/v1/comments/{i}").json()["status"] != "pending" for i in ids),
                timeout=40,
                what="decisions",
            )
            text = client.get("/metrics").text

    # These counters were written by the worker's child processes, not by this process.
    worker_files = [p.name for p in metrics_dir.glob("*/*.db")]
    assert worker_files, "the worker wrote no metric files"
    assert (
        sample(
            text, "moderation_comments_decided_total", source="pipeline", decision="approved", category="none"
        )
        == 2
    )
    assert (
        sample(
            text, "moderation_comments_decided_total", source="pipeline", decision="rejected", category="spam"
        )
        == 1
    )
    assert (
        sample(
            text,
            "moderation_comments_decided_total",
            source="pipeline",
            decision="flagged",
            category="crisis",
        )
        == 1
    )
    assert sample(text, "moderation_decision_latency_seconds_count") == 4
    assert sample(text, "moderation_comments_pending", priority="normal") == 0.0
    assert sample(text, "moderation_queue_length", queue="moderation") == 0.0

    # A worker host without an API serves the same files itself.
    port = free_port()
    exporter = subprocess.Popen(
        [sys.executable, "-m", "moderation", "metrics", "serve", "--port", str(port), "--host", "127.0.0.1"],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        scraped = wait_for(lambda: _scrape(f"http://127.0.0.1:{port}/metrics"), timeout=30, what="exporter")
    finally:
        stop_process(exporter)
    labels = {"source": "pipeline", "decision": "approved", "category": "none"}
    assert scraped is not None
    assert sample(scraped, "moderation_comments_decided_total", **labels) == 2


def _scrape(url: str) -> str | None:
    try:
        return httpx.get(url, timeout=2).text
    except httpx.HTTPError:
        return None


def test_one_comment_can_be_followed_through_the_logs(backend, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="moderation.api")
    settings = backend.settings()
    with TestClient(create_app(settings, celery=make_celery(settings))) as client:
        comment_id = client.post(URL, json={"body": "Thanks for explaining the side effects."}).json()["id"]
        other_id = client.post(URL, json={"body": "Another comment entirely."}).json()["id"]
    log_path = tmp_path / "worker.log"
    with running_worker(backend.env(MODERATION_LOG_FORMAT="json"), log_path, "--concurrency=1"):
        wait_for(lambda: log_path.read_text().count('"message": "decision stored"') >= 2, timeout=30)

    formatter = JsonFormatter()
    api_lines = [formatter.format(r) for r in caplog.records]
    lines = api_lines + log_path.read_text().splitlines()
    mine = [json.loads(line) for line in lines if comment_id in line]  # what `grep <id>` finds
    messages = [line["message"] for line in mine]
    assert messages[0] == "comment accepted"
    # API submission, the task (Celery names it with the id in its arguments), the decision.
    assert "decision stored" in messages
    assert any("moderation.moderate_comment" in m for m in messages)
    # Our lines carry the id as a field; Celery's own lines mention it in the task arguments.
    assert all(line.get("comment_id", comment_id) == comment_id for line in mine)
    assert sum("comment_id" in line for line in mine) >= 2
    assert next(m for m in mine if m["message"] == "decision stored")["decision"] == "approved"
    assert not any(other_id in json.dumps(line) for line in mine)


def test_metrics_reuse_one_redis_client(backend, tmp_path):
    """Scrapes share one Redis client (and its connection pool) instead of opening one each."""
    settings = backend.settings(metrics_dir=tmp_path / "prometheus")
    app = create_app(settings, celery=make_celery(settings), publish=lambda _id: None)
    with TestClient(app) as client:
        assert client.post(URL, json={"body": BODIES["approved"][0]}).status_code == 202
        texts = [client.get("/metrics").text for _ in range(3)]
        first = app.state.metrics_queue_client
        texts.append(client.get("/metrics").text)
        assert app.state.metrics_queue_client is first
    assert [sample(t, "moderation_comments_pending", priority="normal") for t in texts] == [1.0] * 4
    # publish was a no-op: nothing reached the broker's queue.
    assert [sample(t, "moderation_queue_length", queue="moderation") for t in texts] == [0.0] * 4

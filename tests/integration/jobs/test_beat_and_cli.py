"""Real processes: `moderation beat` fires jobs that a real worker runs; the `moderation jobs` CLI;
the crisis webhook delivered, signed and retried by a real worker."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

from sqlalchemy import func, select

from moderation.jobs.models import JobRun
from moderation.jobs.notify import HEADER, verify
from moderation.jobs.runner import run_job
from moderation.models import Comment, CommentStatus
from moderation.review.policy import Priority
from tests.helpers import REPO, running_worker, stop_process, wait_for
from tests.integration.jobs.conftest import LATER, add_comments, decision_counts
from workers.app import make_celery
from workers.tasks_jobs import TASK_NOTIFY_CRISIS


def cli(backend, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "moderation", "jobs", *args],
        env=backend.env(**env),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def runs(backend, name: str) -> list[JobRun]:
    with backend.session() as session:
        return list(session.scalars(select(JobRun).where(JobRun.name == name).order_by(JobRun.id)))


def test_beat_fires_requeue_stuck_and_the_worker_decides(backend, tmp_path, t0):
    ids = add_comments(backend, 3, when=t0 - timedelta(minutes=5))  # their publish was lost
    env = backend.env(
        MODERATION_JOBS_REQUEUE_STUCK_INTERVAL="1",
        MODERATION_JOBS_REQUEUE_AFTER="60",
        MODERATION_JOBS_ESCALATE_INTERVAL="0",
        MODERATION_JOBS_RELEASE_CLAIMS_INTERVAL="0",
        MODERATION_JOBS_PURGE_INTERVAL="0",
        MODERATION_JOBS_ANONYMISE_INTERVAL="0",
        MODERATION_JOBS_RETRAIN_HOUR="-1",
    )
    beat_log = tmp_path / "beat.log"
    with open(beat_log, "ab") as log:
        beat = subprocess.Popen(
            [sys.executable, "-m", "moderation", "beat"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
        )
    try:
        with running_worker(env, tmp_path / "worker.log", "--concurrency=1"):
            wait_for(lambda: len(runs(backend, "requeue-stuck")) >= 2, timeout=60, what="two beat-fired runs")
            wait_for(lambda: len(decision_counts(backend)) == 3, timeout=60, what="stuck comments decided")
    finally:
        stop_process(beat)
    assert b"requeue-stuck" in beat_log.read_bytes()
    assert decision_counts(backend) == dict.fromkeys(ids, 1)
    done = [r for r in runs(backend, "requeue-stuck") if r.counts.get("requeued")]
    assert [r.counts for r in done] == [{"requeued": 3}]  # republished once, not every second
    assert all(r.error is None for r in runs(backend, "requeue-stuck"))
    assert {r.name for r in runs(backend, "escalate")} == set()  # interval 0: not scheduled


def test_cli_list_and_run_with_dry_run(backend, t0):
    old = t0 - timedelta(days=200)
    [comment_id] = add_comments(backend, 1, when=old, status=CommentStatus.APPROVED, client_ip="192.0.2.44")
    dry = cli(backend, "run", "anonymise", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"would hash client_ip of comment {comment_id}" in dry.stdout
    assert 'anonymise: dry run, nothing changed: {"would_anonymise": 1}' in dry.stdout
    with backend.session() as session:
        assert session.scalar(select(Comment.client_ip)) == "192.0.2.44"
    real = cli(backend, "run", "anonymise")
    assert real.returncode == 0, real.stderr
    assert '"anonymised": 1' in real.stdout
    with backend.session() as session:
        assert session.scalar(select(Comment.client_ip)).startswith("h1:")
    listing = cli(backend, "list")
    assert listing.returncode == 0, listing.stderr
    lines = {line.split()[0]: line for line in listing.stdout.splitlines() if line and not line[0].isspace()}
    assert set(lines) == {"requeue-stuck", "release-claims", "escalate", "purge", "anonymise", "retrain"}
    assert "every 1min" in lines["requeue-stuck"]
    assert "daily 03:00 UTC" in lines["retrain"]
    assert "never run" in lines["purge"]
    assert '{"anonymised": 1, "hashed_client_ip": 1}' in lines["anonymise"]
    unknown = cli(backend, "run", "vacuum")
    assert unknown.returncode == 2
    assert "unknown job 'vacuum'" in unknown.stderr


class _Receiver(BaseHTTPRequestHandler):
    """Fails twice with 503, then accepts; keeps what it saw."""

    seen: ClassVar[list[tuple[bytes, str, float]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((body, self.headers[HEADER], time.time()))
        self.send_response(503 if len(self.seen) <= 2 else 200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_crisis_webhook_is_signed_and_retried_by_a_real_worker(backend, sessions, tmp_path, t0):
    [crisis] = add_comments(backend, 1, status=CommentStatus.FLAGGED, priority=Priority.URGENT)
    _Receiver.seen = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    secret = "webhook-secret-0123456789"
    settings = backend.settings(jobs_webhook_url=url, jobs_webhook_secret=secret)
    celery = make_celery(settings)
    try:
        _, result = run_job(
            "escalate",
            sessions=sessions,
            settings=settings,
            now=t0 + LATER,
            notify=lambda payload: celery.send_task(TASK_NOTIFY_CRISIS, args=[payload]),
        )
        assert result.counts == {"notified": 1, "webhooks_queued": 1}
        env = backend.env(MODERATION_JOBS_WEBHOOK_URL=url, MODERATION_JOBS_WEBHOOK_SECRET=secret)
        with running_worker(env, tmp_path / "worker.log", "--concurrency=1"):
            wait_for(lambda: len(_Receiver.seen) >= 3, timeout=60, what="third delivery attempt")
            time.sleep(1)  # no fourth attempt after the 200
    finally:
        server.shutdown()
        server.server_close()
    assert len(_Receiver.seen) == 3
    for body, header, received in _Receiver.seen:
        assert verify(secret, body, header, now=int(received))
        assert not verify("another-secret-000000", body, header, now=int(received))
        payload = json.loads(body)
        assert payload["comment_id"] == str(crisis)
        assert payload["event"] == "comment.crisis_waiting"
    assert _Receiver.seen[1][2] - _Receiver.seen[0][2] > 0  # backoff between attempts
    with backend.session() as session:
        assert session.scalar(select(func.count()).select_from(JobRun)) == 1


def test_beat_schedule_comes_from_settings():
    from moderation.jobs.registry import TASK_RETRAIN, TASK_RUN_JOB, beat_schedule
    from moderation.settings import Settings

    defaults = beat_schedule(Settings())
    assert set(defaults) == {"requeue-stuck", "release-claims", "escalate", "purge", "anonymise", "retrain"}
    assert defaults["requeue-stuck"]["schedule"] == timedelta(seconds=60)
    assert defaults["requeue-stuck"]["task"] == TASK_RUN_JOB
    assert defaults["requeue-stuck"]["args"] == ["requeue-stuck"]
    assert defaults["purge"]["schedule"] == timedelta(hours=1)
    assert defaults["retrain"]["task"] == TASK_RETRAIN
    assert defaults["retrain"]["schedule"].hour == {3}
    custom = beat_schedule(
        Settings(jobs_requeue_stuck_interval=1, jobs_purge_interval=0, jobs_retrain_hour=-1)
    )
    assert custom["requeue-stuck"]["schedule"] == timedelta(seconds=1)
    assert "purge" not in custom
    assert "retrain" not in custom
    app = make_celery(Settings(jobs_escalate_interval=5))
    assert app.conf.beat_schedule["escalate"]["schedule"] == timedelta(seconds=5)

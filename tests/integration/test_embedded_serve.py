"""`moderation serve` with no configuration: SQLite + embedded broker + a real worker process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from functools import partial

import httpx

from tests.helpers import wait_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children_of(pid: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False
    )
    return [int(p) for p in out.stdout.split()]


def test_serve_with_no_configuration_decides_a_comment_through_its_queue(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "moderation", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _up(base), timeout=60, what="serve to listen")
        response = httpx.post(
            f"{base}/api/v1/articles/ketamine-infusion-therapy/comments",
            json={"author_name": "Sam", "body": "My clinic monitored me closely. It helped."},
        )
        assert response.status_code == 202, response.text
        status_url = base + response.json()["status_url"]
        started = time.monotonic()
        final = wait_for(
            lambda: (s := httpx.get(status_url).json())["status"] != "pending" and s,
            timeout=15,
            what="decision",
        )
        assert final["status"] in ("approved", "flagged")
        assert time.monotonic() - started < 15
        assert (tmp_path / "moderation-data" / "moderation.sqlite3").exists()
        assert (tmp_path / "moderation-data" / "broker.sqlite3").exists()
        output = (tmp_path / "serve.log").read_text(errors="replace")
        assert f"listening on {base}" in output
        assert "curl" in output
        kids = children_of(proc.pid)
        assert len(kids) >= 2  # worker and beat
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=45)
        log.close()
    assert proc.returncode == 0
    # No orphans: the worker and beat processes are gone too.
    for pid in kids:
        wait_for(partial(_gone, pid), timeout=30, what=f"child {pid} to exit")


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _gone(pid: int) -> bool:
    return not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead but not yet reaped by its (already gone) parent.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False

"""Test helpers shared by integration tests: real databases, real brokers, real workers."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa

from moderation.db import make_engine
from moderation.migrate import seed

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout: float = 20.0, interval: float = 0.1, what: str = "") -> T:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)


_SLOTS = 6
_held: dict[int, object] = {}  # slot -> its open, locked file, kept for the process lifetime


def test_slot() -> int:
    """A slot (0-5) held by this process for its lifetime: its own PostgreSQL database and
    Redis DB, so xdist workers, and several test runs on one machine, never share them."""
    if _held:
        slot: int = next(iter(_held))
        return slot
    import fcntl
    import tempfile

    start = os.getpid() % _SLOTS
    order = [*range(start, _SLOTS), *range(start)]
    # Take a free slot; if all are busy, wait for ours.
    for n, flags in [(n, fcntl.LOCK_EX | fcntl.LOCK_NB) for n in order] + [(start, fcntl.LOCK_EX)]:
        handle = open(Path(tempfile.gettempdir()) / f"moderation-test-slot-{n}.lock", "w")  # noqa: SIM115
        try:
            fcntl.flock(handle, flags)
        except BlockingIOError:
            handle.close()
            continue
        _held[n] = handle
        return int(n)
    raise AssertionError("unreachable: the last attempt blocks until the slot is free")


def slot_redis_url() -> str:
    """This process's Redis DB (10-15): broker, rate limits and behaviour state in tests."""
    return f"{REDIS_URL}/{10 + test_slot()}"


def create_postgres_database(name: str) -> str:
    """Drop and create ``name`` on the test server; return its URL."""
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def truncate_all(engine: sa.Engine) -> None:
    """Empty every application table (children first), then seed the demo article again."""
    from moderation.all_models import metadata

    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())
    seed(engine)


def service_env(database_url: str, broker_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
    env |= {
        "MODERATION_DATABASE_URL": database_url,
        "MODERATION_BROKER_URL": broker_url,
        "MODERATION_DATA_DIR": str(data_dir),
        "MODERATION_LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
    }
    env |= extra
    return env


@contextmanager
def running_worker(env: dict[str, str], log_path: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """A real `moderation worker` subprocess; stopped (SIGTERM, then SIGKILL) on exit."""
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moderation", "worker", *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
        )
    try:
        wait_for(
            lambda: b"ready" in log_path.read_bytes() or proc.poll() is not None, 60, what="worker start"
        )
        if proc.poll() is not None:
            raise AssertionError(f"worker exited: {log_path.read_text()[-3000:]}")
        yield proc
    finally:
        stop_process(proc)


def stop_process(proc: subprocess.Popen[Any], timeout: float = 15) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=timeout)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
            proc.wait()


def migrated_engine(url: str) -> sa.Engine:
    from moderation.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    return engine


class Receiver:
    """A local webhook receiver; paths under /fail answer 500 to the first ``failures`` posts."""

    def __init__(self, failures: int = 2) -> None:
        self.received: list[dict[str, Any]] = []
        self.failures = failures
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    fail = self.path.startswith("/fail") and receiver.failures > 0
                    if fail:
                        receiver.failures -= 1
                    receiver.received.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body, "failed": fail}
                    )
                self.send_response(500 if fail else 200)
                self.end_headers()
                self.wfile.write(b"no" if fail else b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def events(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.received if r["path"] == path]


@contextmanager
def webhook_receiver(failures: int = 2) -> Iterator[Receiver]:
    """A :class:`Receiver` serving on a thread until the block ends."""
    r = Receiver(failures)
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()

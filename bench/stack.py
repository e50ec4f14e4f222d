"""The stack under test: the backends (PostgreSQL + Redis, or embedded SQLite), the ``moderation
api`` and ``moderation worker`` processes, and the bare Celery no-op ceiling on the same broker.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.filters import REPO

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
POSTGRES_DB = "moderation_bench"
REDIS_URL = "redis://127.0.0.1:6379/9"


@dataclass(frozen=True)
class Backend:
    name: str
    database_url: str
    broker_url: str
    data_dir: Path

    def env(self, log_level: str, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
        env |= {
            "MODERATION_DATA_DIR": str(self.data_dir),
            "MODERATION_LOG_FORMAT": "json",
            "MODERATION_LOG_LEVEL": log_level,
            # One client address sends everything: per-IP and per-author limits would
            # measure the limiter, not the service.
            "MODERATION_RATE_LIMIT_PER_IP": "0",
            "MODERATION_RATE_LIMIT_PER_AUTHOR": "0",
            "PYTHONUNBUFFERED": "1",
        }
        if self.database_url:
            env["MODERATION_DATABASE_URL"] = self.database_url
        if self.broker_url:
            env["MODERATION_BROKER_URL"] = self.broker_url
        return env | extra

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir.resolve() / 'moderation.sqlite3'}"


@dataclass(frozen=True)
class ServiceConfig:
    api_workers: int = 1
    pool: str = "prefork"
    concurrency: int = 2

    @property
    def label(self) -> str:
        return f"api{self.api_workers}/{self.pool}{self.concurrency}"

    @classmethod
    def parse(cls, text: str) -> ServiceConfig:
        """``api1/prefork2``, ``api2/threads4``, ``api1/solo1``."""
        api, _, worker = text.partition("/")
        pool = worker.rstrip("0123456789")
        return cls(int(api.removeprefix("api")), pool, int(worker[len(pool) :] or 1))


@dataclass
class Options:
    fixed_rate: float = 300.0
    fixed_seconds: float = 10.0
    saturation_seconds: float = 20.0
    clients: int = 2
    connections: int = 24
    drain_timeout: float = 30.0  # stop waiting for the drain after this long without progress
    drain_max: float = 90.0  # ... and after this long in any case
    noop_tasks: int = 8000
    log_level: str = "INFO"
    profile: bool = False
    out_dir: Path = field(default_factory=lambda: REPO / "bench" / "results" / "e2e")


# --- backends -------------------------------------------------------------------------------


def setup_postgres(data_dir: Path) -> Backend:
    import redis
    import sqlalchemy as sa

    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{POSTGRES_DB}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{POSTGRES_DB}"'))
    admin.dispose()
    redis.Redis.from_url(REDIS_URL).flushdb()
    backend = Backend(
        "postgres", POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{POSTGRES_DB}", REDIS_URL, data_dir
    )
    _migrate(backend)
    return backend


def setup_sqlite(data_dir: Path) -> Backend:
    backend = Backend("sqlite", "", "", data_dir)
    _migrate(backend)
    return backend


def _migrate(backend: Backend) -> None:
    subprocess.run(
        [sys.executable, "-m", "moderation", "migrate"],
        env=backend.env("WARNING"),
        cwd=REPO,
        check=True,
        capture_output=True,
    )


# --- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as fh:
        # Own session, so stop() can signal the process and the children it forks.
        return subprocess.Popen(
            args, env=env, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextlib.contextmanager
def services(
    backend: Backend, config: ServiceConfig, opts: Options, run_dir: Path
) -> Iterator[tuple[int, subprocess.Popen[bytes], subprocess.Popen[bytes]]]:
    port = free_port()
    env = backend.env(opts.log_level)
    mod = [sys.executable, "-m", "moderation"]
    api = start(
        [*mod, "api", "--port", str(port), "--workers", str(config.api_workers)], env, run_dir / "api.log"
    )
    worker = start(
        [
            *mod,
            "worker",
            "--pool",
            config.pool,
            "--concurrency",
            str(config.concurrency),
            "--loglevel",
            opts.log_level,
        ],
        env,
        run_dir / "worker.log",
    )
    try:
        _wait_http(port, api)
        yield port, api, worker
    finally:
        stop(api)
        stop(worker)


def _wait_http(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the API exited with {proc.returncode}; see its log")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("the API did not come up")


# --- the Celery no-op ceiling ----------------------------------------------------------------


def noop_rate(backend: Backend, config: ServiceConfig, opts: Options, run_dir: Path) -> float | None:
    """Tasks per second a bare no-op task reaches on the same Redis, same pool settings."""
    if not backend.broker_url.startswith("redis"):
        return None
    import redis

    from bench.noop import QUEUE, app

    client = redis.Redis.from_url(backend.broker_url)
    client.delete(QUEUE)
    env = backend.env("WARNING", BENCH_NOOP_BROKER=backend.broker_url)
    worker = start(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "bench.noop",
            "worker",
            "-Q",
            QUEUE,
            f"--pool={config.pool}",
            f"--concurrency={config.concurrency}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
        ],
        env,
        run_dir / "noop-worker.log",
    )
    app.conf.broker_url = backend.broker_url

    def drained() -> bool:
        return client.llen(QUEUE) == 0 and client.hlen("unacked") == 0

    try:
        with app.producer_or_acquire() as producer:
            app.send_task("bench.noop", producer=producer)  # warm up and wait for the worker
            deadline = time.monotonic() + 60
            while not drained():
                if time.monotonic() > deadline:
                    raise RuntimeError("the no-op worker did not start")
                time.sleep(0.05)
            start_t = time.perf_counter()
            for _ in range(opts.noop_tasks):
                app.send_task("bench.noop", producer=producer)
            while not drained():
                time.sleep(0.01)
            return opts.noop_tasks / (time.perf_counter() - start_t)
    finally:
        stop(worker)

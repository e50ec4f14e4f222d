"""End to end: real ``moderation api`` and ``moderation worker`` processes, real HTTP load.

For each backend (PostgreSQL + Redis, or the embedded SQLite database + SQLite broker) and
each service configuration, the run:

1. measures the bare Celery no-op task rate on the same broker (the ceiling; Redis only);
2. starts the API (uvicorn) and the worker (Celery) as subprocesses, and warms them up;
3. offers a fixed rate (default 300/s) for ``fixed_seconds``, then saturates for
   ``saturation_seconds``, each followed by a wait for the queue to drain;
4. reads everything it reports from the database: decided comments over time (polled),
   submit-to-decision latency (``decided_at - created_at``), what is left pending.

Service logs, and py-spy profiles with ``--profile``, go to ``bench/results/<stamp>/``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.filters import REPO, rss_kib
from bench.loadgen import ClientPlan, run_client

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


def family(pid: int) -> list[int]:
    """``pid`` and its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of ``pids`` (and of their reaped children) from /proc."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return total / _TICK


def _matching(fragment: str) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/cmdline", "rb") as fh:
                if fragment.encode() in fh.read():
                    out.append(int(entry))
    return out


def cpu_snapshot(api: int, worker: int) -> dict[str, float]:
    """CPU seconds used so far by each part of the stack (PostgreSQL: the bench database's
    backends; Redis: the whole server, which other users of this machine share)."""
    return {
        "api": cpu_seconds(family(api)),
        "worker": cpu_seconds(family(worker)),
        "postgres": cpu_seconds(_matching(f"postgres {POSTGRES_DB}")),
        "redis": cpu_seconds(_matching("redis-server")),
    }


def family_rss(pid: int) -> dict[str, int]:
    out = {}
    for p in family(pid):
        with contextlib.suppress(OSError, RuntimeError):
            out[str(p)] = rss_kib(p)
    return out


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


# --- the database side ----------------------------------------------------------------------


class Watcher:
    """Counts and latencies of comments created since a given instant, read from the database."""

    def __init__(self, url: str) -> None:
        from moderation.db import make_engine

        self.engine = make_engine(url, pool_size=2) if url.startswith("postgresql") else make_engine(url)

    def counts(self, since: datetime) -> tuple[int, int]:
        """(comments created since ``since``, of which still pending)."""
        from sqlalchemy import case, func, select

        from moderation.models import Comment, CommentStatus

        query = select(
            func.count(),
            func.coalesce(func.sum(case((Comment.status == CommentStatus.PENDING, 1), else_=0)), 0),
        ).where(Comment.created_at >= since)
        with self.engine.connect() as conn:
            total, pending = conn.execute(query).one()
        return int(total), int(pending)

    def decided_between(self, start: datetime, end: datetime) -> int:
        """Comments decided in ``[start, end]``, whichever phase submitted them."""
        from sqlalchemy import func, select

        from moderation.models import Comment

        query = select(func.count()).where(Comment.decided_at >= start, Comment.decided_at <= end)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def latencies_ms(self, since: datetime) -> list[float]:
        from sqlalchemy import select

        from moderation.models import Comment

        query = select(Comment.created_at, Comment.decided_at).where(
            Comment.created_at >= since, Comment.decided_at.is_not(None)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return sorted((d - c).total_seconds() * 1000 for c, d in rows if d is not None)

    def dispose(self) -> None:
        self.engine.dispose()


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    values = sorted(values)

    def pct(p: float) -> float:
        return round(values[min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))], 1)

    return {"p50": pct(50), "p95": pct(95), "p99": pct(99), "max": round(values[-1], 1)}


# --- phases ---------------------------------------------------------------------------------


def load(port: int, mode: str, rate: float, seconds: float, opts: Options, seed: int) -> dict[str, Any]:
    """Run the client processes; return their merged results."""
    start_at = time.time() + 1.5  # time for the spawned clients to import and connect
    plans = [
        ClientPlan(
            host="127.0.0.1",
            port=port,
            mode=mode,
            rate=rate / opts.clients,
            connections=opts.connections if mode == "saturate" else max(8, opts.connections // 2),
            start_at=start_at,
            duration=seconds,
            seed=seed * 100 + i,
        )
        for i in range(opts.clients)
    ]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(opts.clients) as pool:
        results = pool.map(run_client, plans)
    statuses: Counter[str] = Counter()
    exceptions: Counter[str] = Counter()
    latencies: list[float] = []
    for r in results:
        statuses.update(r["statuses"])
        exceptions.update(r["exceptions"])
        latencies += r["latencies_ms"]
    return {
        "start_at": start_at,
        "statuses": dict(statuses),
        "exceptions": dict(exceptions),
        "late": sum(r["late"] for r in results),
        "http_ms": percentiles(latencies),
        "elapsed": max(r["elapsed"] for r in results),
        "client_cpu": sum(r["cpu"] for r in results),
    }


def say(text: str) -> None:
    """A progress line with the seconds since the run started (where the time goes)."""
    print(f"-- [{time.monotonic() - _STARTED:5.0f} s] {text}", flush=True)


_STARTED = time.monotonic()


def phase(
    name: str,
    port: int,
    watcher: Watcher,
    worker: subprocess.Popen[bytes],
    opts: Options,
    *,
    rate: float,
    seconds: float,
    run_dir: Path,
    api: subprocess.Popen[bytes],
) -> dict[str, Any]:
    import threading

    since = datetime.now(UTC)
    rss_before = family_rss(worker.pid)
    series: list[tuple[float, int, int]] = []
    stop_polling = threading.Event()

    def poll() -> None:
        while not stop_polling.wait(0.5):
            total, pending = watcher.counts(since)
            series.append((time.time(), total, pending))

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    profilers = []
    if opts.profile:
        # Sample the API and the worker (and their children) during the middle of the load.
        span = max(3, int(seconds) - 4)
        for what, proc in (("api", api), ("worker", worker)):
            trace = run_dir / f"pyspy-{name}-{what}.txt"
            profilers.append(
                subprocess.Popen(
                    [
                        "py-spy",
                        "record",
                        "--pid",
                        str(proc.pid),
                        "--subprocesses",
                        "--duration",
                        str(span),
                        "--rate",
                        "200",
                        "--format",
                        "raw",
                        "--output",
                        str(trace),
                        "--nonblocking",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
    mode = "rate" if rate else "saturate"
    cpu_before = cpu_snapshot(api.pid, worker.pid)
    cpu_from = datetime.now(UTC)
    result = load(port, mode, rate, seconds, opts, seed=len(name))
    load_end = result["start_at"] + result["elapsed"]
    # Drain: wait until nothing is pending, or until progress stops for drain_timeout.
    deadline = time.monotonic() + min(opts.drain_timeout, opts.drain_max)
    hard_deadline = time.monotonic() + opts.drain_max
    total, pending = watcher.counts(since)
    last_pending = pending
    while pending and time.monotonic() < deadline:
        time.sleep(0.25)
        total, pending = watcher.counts(since)
        if pending < last_pending:
            deadline = min(hard_deadline, max(deadline, time.monotonic() + 10))
            last_pending = pending
    drained_at = time.time()
    stop_polling.set()
    poller.join()
    for p in profilers:
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(timeout=30)
    accepted = result["statuses"].get("202", 0)
    errors = sum(v for k, v in result["statuses"].items() if k != "202") + sum(result["exceptions"].values())
    duration = result["elapsed"]
    at_load_end = [s for s in series if s[0] <= load_end]
    # Decisions while the load ran, and while the CPU was counted, of any comment: a backlog
    # left by the previous phase (the defaults cap the drain) is work the worker did too.
    decided_in_load = watcher.decided_between(
        datetime.fromtimestamp(result["start_at"], UTC), datetime.fromtimestamp(load_end, UTC)
    )
    latencies = watcher.latencies_ms(since)
    cpu_after = cpu_snapshot(api.pid, worker.pid)
    decided = max(1, watcher.decided_between(cpu_from, datetime.now(UTC)))
    # CPU per comment of each part: robust to other load on the machine, unlike rates.
    cpu_ms = {
        "api_per_accepted": 1000 * (cpu_after["api"] - cpu_before["api"]) / max(1, accepted),
        "worker_per_decided": 1000 * (cpu_after["worker"] - cpu_before["worker"]) / decided,
        "postgres_per_comment": 1000 * (cpu_after["postgres"] - cpu_before["postgres"]) / decided,
        "redis_per_comment": 1000 * (cpu_after["redis"] - cpu_before["redis"]) / decided,
        "clients_per_request": 1000 * result["client_cpu"] / max(1, sum(result["statuses"].values())),
    }
    stack_ms = sum(v for k, v in cpu_ms.items() if k != "clients_per_request")
    out: dict[str, Any] = {
        "offered_rate": rate or None,
        "duration_s": round(duration, 1),
        "accepted": accepted,
        "accepted_per_s": accepted / duration,
        # Decided while the load ran (the worker's sustained rate alongside the API) ...
        "decided_per_s": decided_in_load / duration,
        # ... and over the whole phase including the drain.
        "decided_total": total - pending,
        "decided_per_s_incl_drain": (total - pending) / max(0.001, drained_at - result["start_at"]),
        "pending_at_load_end": (at_load_end[-1][2] if at_load_end else None),
        "left_pending": pending,
        "drain_seconds": round(max(0.0, drained_at - load_end), 1),
        "errors": errors,
        "statuses": result["statuses"],
        "exceptions": result["exceptions"],
        "late_sends": result["late"],
        "http_ms": result["http_ms"],
        "latency_ms": percentiles(latencies),
        "cpu_ms": {k: round(v, 3) for k, v in cpu_ms.items()},
        # What the stack would decide per second with both cores to itself (no load generator).
        "capacity_2_cores_per_s": round(2000 / stack_ms, 1) if stack_ms else None,
        "worker_rss_kib_before": rss_before,
        "worker_rss_kib_after": family_rss(worker.pid),
        "series": [(round(t - result["start_at"], 2), n, p) for t, n, p in series],
    }
    if opts.profile:
        out["profile"] = {
            what: summarize_profile(run_dir / f"pyspy-{name}-{what}.txt") for what in ("api", "worker")
        }
    return out


def summarize_profile(path: Path, top: int = 15) -> dict[str, Any]:
    """Top self-time and inclusive frames from py-spy's collapsed-stack output."""
    if not path.exists():
        return {"error": "no profile (py-spy failed?)"}
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if not f.startswith("process ")]
        if not frames:
            continue
        total += count
        own[_short(frames[-1])] += count
        for f in {_short(f) for f in frames}:
            incl[f] += count

    def pct(c: Counter[str]) -> list[tuple[str, float]]:
        return [(k, round(100 * v / total, 1)) for k, v in c.most_common(top)]

    return {"samples": total, "self_pct": pct(own), "inclusive_pct": pct(incl)}


def _short(frame: str) -> str:
    # "func (path/to/module.py:123)" -> "func (module.py)"
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit('/', 1)[-1].split(':')[0]})" if where else name


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


# --- a whole run ----------------------------------------------------------------------------


def warm_up(port: int, watcher: Watcher, n: int = 20, timeout: float = 120.0) -> None:
    """Submit a few comments and wait until the worker has decided them all."""
    import httpx

    from bench import corpus

    since = datetime.now(UTC)
    # The API's first submission loads the pipeline (for the crisis check): seconds on a busy
    # machine, so a generous timeout.
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=timeout) as client:
        for i, body in enumerate(corpus.mixed_lengths(n, seed=3)):
            client.post(
                "/api/v1/articles/ketamine-infusion-therapy/comments",
                json={"author_name": f"warm{i}", "body": body},
            ).raise_for_status()
    deadline = time.monotonic() + timeout
    while watcher.counts(since)[1]:
        if time.monotonic() > deadline:
            raise RuntimeError("the worker did not decide the warm-up comments; see worker.log")
        time.sleep(0.2)


def run_backend(name: str, configs: list[ServiceConfig], opts: Options) -> list[dict[str, Any]]:
    runs = []
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
        data_dir = Path(tmp)
        backend = setup_postgres(data_dir) if name == "postgres" else setup_sqlite(data_dir)
        watcher = Watcher(backend.resolved_database_url())
        try:
            for config in configs:
                run_dir = opts.out_dir / f"{name}-{config.label.replace('/', '-')}"
                run_dir.mkdir(parents=True, exist_ok=True)
                say(f"{name} {config.label}: no-op ceiling")
                noop = noop_rate(backend, config, opts, run_dir)
                run: dict[str, Any] = {
                    "backend": name,
                    "config": config.label,
                    "noop_per_s": noop,
                    "log_level": opts.log_level,
                    "phases": {},
                }
                with services(backend, config, opts, run_dir) as (port, api, worker):
                    warm_up(port, watcher)
                    run["worker_rss_kib_after_warmup"] = family_rss(worker.pid)
                    plan = [
                        ("fixed", opts.fixed_rate, opts.fixed_seconds),
                        ("saturation", 0.0, opts.saturation_seconds),
                    ]
                    for phase_name, rate, seconds in plan:
                        if seconds <= 0:
                            continue
                        say(f"{name} {config.label}: {phase_name} for {seconds:.0f} s")
                        result = phase(
                            phase_name,
                            port,
                            watcher,
                            worker,
                            opts,
                            rate=rate,
                            seconds=seconds,
                            run_dir=run_dir,
                            api=api,
                        )
                        if noop:
                            result["decided_over_noop"] = result["decided_per_s"] / noop
                        run["phases"][phase_name] = result
                runs.append(run)
        finally:
            watcher.dispose()
    return runs


LOCK_PATH = Path(tempfile.gettempdir()) / "moderation-bench.lock"


@contextlib.contextmanager
def machine_lock(path: Path = LOCK_PATH) -> Iterator[None]:
    """One end-to-end run per machine at a time: every run recreates the same benchmark
    database and flushes the same Redis DB, and two runs on 2 cores measure each other."""
    import fcntl

    with path.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"-- waiting for another benchmark run ({path})", flush=True)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def run(backends: list[str], configs: list[ServiceConfig], opts: Options) -> dict[str, Any]:
    runs = []
    with machine_lock():
        for name in backends:
            runs += run_backend(name, configs, opts)
    return {
        "options": {
            "fixed_rate": opts.fixed_rate,
            "fixed_seconds": opts.fixed_seconds,
            "saturation_seconds": opts.saturation_seconds,
            "drain_max": opts.drain_max,
            "noop_tasks": opts.noop_tasks,
            "clients": opts.clients,
            "connections": opts.connections,
            "log_level": opts.log_level,
        },
        "runs": runs,
    }

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

This module runs the whole thing; the backends and service processes are in ``bench.stack``,
one phase (load, drain, figures) in ``bench.phases``, ``/proc`` and database readings in
``bench.measure``.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.measure import Watcher, family_rss
from bench.phases import phase
from bench.stack import Options, ServiceConfig, noop_rate, services, setup_postgres, setup_sqlite

# What the CLI uses: Options, ServiceConfig.parse and run.
__all__ = ["LOCK_PATH", "Options", "ServiceConfig", "machine_lock", "run", "run_backend", "say", "warm_up"]


def say(text: str) -> None:
    """A progress line with the seconds since the run started (where the time goes)."""
    print(f"-- [{time.monotonic() - _STARTED:5.0f} s] {text}", flush=True)


_STARTED = time.monotonic()


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

"""One phase of an end-to-end run: HTTP load from the client processes, the drain, and what
the phase reports (rates, latencies, CPU per comment, memory, py-spy profiles).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.loadgen import ClientPlan, run_client
from bench.measure import Watcher, cpu_snapshot, family_rss, percentiles
from bench.stack import Options


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

"""Tables for the terminal, the JSON result file, target verdicts and run comparison."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

# Issue 7's targets: (label, where the figure is in the report, comparison, threshold).
FILTERS_RATE_TARGET = 5000.0
FILTERS_RATIO_TARGET = 200.0
E2E_RATE_TARGET = 1000.0
E2E_NOOP_RATIO_TARGET = 0.6
E2E_P99_TARGET_MS = 250.0
MEMORY_GROWTH_TARGET_KIB = 4096


def machine() -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "")
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_avg": list(os.getloadavg()),
        "commit": commit,
    }


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(out)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def filters_table(result: dict[str, Any]) -> str:
    lengths = list(result["lengths"])
    names = ["pipeline", "normalize", *result["lengths"][lengths[0]]["checks"], "better_profanity"]
    rows: list[list[Any]] = []
    for name in names:
        row: list[Any] = [name]
        for length in lengths:
            data = result["lengths"][length]
            value = data.get(name, data["checks"].get(name))
            row += [value, 1e6 / value if value else None]
        rows.append(row)
    rows.append(
        [
            "ratio pipeline/bp",
            *(x for n in lengths for x in (result["lengths"][n]["ratio_vs_better_profanity"], None)),
        ]
    )
    headers = ["comments/s/core", *(x for n in lengths for x in (f"{n} ch", "us"))]
    checks = ", ".join(f"{c['name']}={c['version']}" for c in result["checks"])
    mem = result["memory"]
    return (
        f"checks on: {checks}\n"
        + table(headers, rows)
        + f"\nmemory: RSS {mem['rss_start_kib'] / 1024:.1f} MiB bare, "
        f"{mem['rss_after_worker_import_kib'] / 1024:.1f} MiB after importing the worker, "
        f"{mem['rss_after_pipeline_kib'] / 1024:.1f} MiB with the pipeline loaded "
        f"(pipeline {mem['pipeline_kib'] / 1024:.1f} MiB); "
        f"after {mem['comments']:,} comments {mem['rss_end_kib'] / 1024:.1f} MiB "
        f"(growth {mem['growth_kib'] / 1024:+.1f} MiB, "
        f"{mem.get('growth_after_warmup_kib', mem['growth_kib']) / 1024:+.1f} MiB after the first "
        f"{mem.get('warmup_comments', 0):,} comments; tracemalloc net over "
        f"{mem.get('tracemalloc_comments', mem['comments'] // 2):,} more "
        f"{mem['tracemalloc_net_kib'] / 1024:+.2f} MiB)"
    )


def e2e_table(result: dict[str, Any]) -> str:
    headers = [
        "backend",
        "config",
        "load",
        "offered/s",
        "accepted/s",
        "decided/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "errors",
        "pending",
        "drain s",
        "noop/s",
        "dec/noop",
        "cpu ms api",
        "worker",
        "pg",
        "redis",
        "2-core cap/s",
    ]
    rows = []
    for run in result["runs"]:
        for name, phase in run["phases"].items():
            lat = phase["latency_ms"]
            rows.append(
                [
                    run["backend"],
                    run["config"],
                    name,
                    phase.get("offered_rate"),
                    phase["accepted_per_s"],
                    phase["decided_per_s"],
                    lat.get("p50"),
                    lat.get("p95"),
                    lat.get("p99"),
                    phase["errors"],
                    phase["left_pending"],
                    phase["drain_seconds"],
                    run.get("noop_per_s"),
                    phase.get("decided_over_noop"),
                    phase["cpu_ms"]["api_per_accepted"],
                    phase["cpu_ms"]["worker_per_decided"],
                    phase["cpu_ms"]["postgres_per_comment"],
                    phase["cpu_ms"]["redis_per_comment"],
                    phase["capacity_2_cores_per_s"],
                ]
            )
    return table(headers, rows)


def verdicts(report: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for every target the report has figures for."""
    out: list[tuple[str, str, bool]] = []
    f = report.get("filters")
    if f and "200" in f["lengths"]:
        row = f["lengths"]["200"]
        out.append(
            (
                f">= {FILTERS_RATE_TARGET:,.0f} comments/s/core at 200 chars",
                f"{row['pipeline']:,.0f}",
                row["pipeline"] >= FILTERS_RATE_TARGET,
            )
        )
        ratio = row["ratio_vs_better_profanity"]
        out.append(
            (
                f">= {FILTERS_RATIO_TARGET:.0f}x better_profanity",
                f"{ratio:,.0f}x",
                ratio >= FILTERS_RATIO_TARGET,
            )
        )
    if f:
        mem = f["memory"]
        # Growth once the bounded caches are full (reports before it existed: from the load).
        growth = mem.get("growth_after_warmup_kib", mem["growth_kib"])
        out.append(
            (
                f"memory flat over {mem['comments']:,} comments after a "
                f"{mem.get('warmup_comments', 0):,}-comment warm-up "
                f"(< {MEMORY_GROWTH_TARGET_KIB // 1024} MiB)",
                f"{growth / 1024:+.1f} MiB ({mem['growth_kib'] / 1024:+.1f} MiB from the load)",
                growth < MEMORY_GROWTH_TARGET_KIB,
            )
        )
    for run in (report.get("e2e") or {}).get("runs", []):
        if run["backend"] != "postgres":
            continue
        sat = run["phases"].get("saturation")
        if sat:
            ok = (
                sat["accepted_per_s"] >= E2E_RATE_TARGET
                and sat["decided_per_s"] >= E2E_RATE_TARGET
                and sat["left_pending"] == 0
            )
            out.append(
                (
                    f"[{run['config']}] >= {E2E_RATE_TARGET:,.0f}/s accepted and decided for "
                    f"{sat['duration_s']:.0f} s, none pending",
                    f"{sat['accepted_per_s']:,.0f} / {sat['decided_per_s']:,.0f}, "
                    f"{sat['left_pending']} pending",
                    ok,
                )
            )
            if sat.get("decided_over_noop") is not None:
                out.append(
                    (
                        f"[{run['config']}] decided >= {E2E_NOOP_RATIO_TARGET} x no-op rate",
                        f"{sat['decided_over_noop']:.2f}",
                        sat["decided_over_noop"] >= E2E_NOOP_RATIO_TARGET,
                    )
                )
        fixed = run["phases"].get("fixed")
        if fixed and fixed["latency_ms"].get("p99") is not None:
            p99 = fixed["latency_ms"]["p99"]
            out.append(
                (
                    f"[{run['config']}] p99 submit-to-decision < {E2E_P99_TARGET_MS:.0f} ms at "
                    f"{fixed['offered_rate']:.0f}/s",
                    f"{p99:.0f} ms",
                    p99 < E2E_P99_TARGET_MS,
                )
            )
    return out


def render(report: dict[str, Any]) -> str:
    parts = [
        f"machine: {report['machine']['cpus']} CPUs ({report['machine']['cpu']}), Python "
        f"{report['machine']['python']}, load average at start {report['machine']['load_avg']}"
    ]
    if report.get("filters"):
        parts += ["", "== filters ==", filters_table(report["filters"])]
    if report.get("e2e"):
        parts += ["", "== end to end ==", e2e_table(report["e2e"])]
    v = verdicts(report)
    if v:
        parts += ["", "== targets =="]
        parts += [f"{'MET ' if ok else 'MISS'}  {target}: {measured}" for target, measured, ok in v]
    return "\n".join(parts)


def save(report: dict[str, Any], path: Path | None = None) -> Path:
    if path is None:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def new_report(command: str) -> dict[str, Any]:
    return {"command": command, "started_at": datetime.now(UTC).isoformat(), "machine": machine()}


def _flatten(prefix: str, value: Any, out: dict[str, float]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        out[prefix] = float(value)


def _comparable(report: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    if report.get("filters"):
        for length, row in report["filters"]["lengths"].items():
            _flatten(
                f"filters.{length}ch", {k: row[k] for k in ("pipeline", "normalize", "better_profanity")}, out
            )
            _flatten(f"filters.{length}ch.check", row["checks"], out)
        _flatten(
            "filters.memory", {k: report["filters"]["memory"][k] for k in ("pipeline_kib", "growth_kib")}, out
        )
    for run in (report.get("e2e") or {}).get("runs", []):
        key = f"e2e.{run['backend']}.{run['config']}"
        if run.get("noop_per_s") is not None:
            out[f"{key}.noop_per_s"] = float(run["noop_per_s"])
        for name, phase in run["phases"].items():
            fields = ("accepted_per_s", "decided_per_s", "errors", "left_pending")
            _flatten(f"{key}.{name}", {k: phase[k] for k in fields}, out)
            _flatten(f"{key}.{name}.latency_ms", phase["latency_ms"], out)
            _flatten(f"{key}.{name}.cpu_ms", phase.get("cpu_ms", {}), out)
    return out


def compare(a: dict[str, Any], b: dict[str, Any]) -> str:
    """Every figure both runs have, side by side, with B/A."""
    fa, fb = _comparable(a), _comparable(b)
    rows = [[k, fa[k], fb[k], (fb[k] / fa[k]) if fa[k] else None] for k in fa if k in fb]
    header = (
        f"A: {a.get('started_at')} ({a['machine'].get('commit')})   "
        f"B: {b.get('started_at')} ({b['machine'].get('commit')})"
    )
    return header + "\n" + table(["figure", "A", "B", "B/A"], rows)

"""``python -m bench filters | e2e | all | compare A.json B.json`` (also ``moderation bench``)."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from bench import report as rep

app = typer.Typer(
    name="bench",
    help="Benchmarks of the moderation service (issue 7). See the README, section Performance.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Defaults without --full: `python -m bench all` must finish in under 5 minutes on 2 cores.
FIXED_SECONDS = 5.0
SATURATION_SECONDS = 6.0
DRAIN_MAX = 10.0
NOOP_TASKS = 2000

Quick = Annotated[bool, typer.Option(help="Shorter timing rounds and 10,000 comments for memory.")]
Full = Annotated[
    bool,
    typer.Option(help="Issue 7's full durations: 60 s saturation, 30 s fixed rate, drains up to 90 s."),
]
Backends = Annotated[list[str] | None, typer.Option("--backend", help="postgres and/or sqlite (repeatable).")]
Configs = Annotated[
    list[str] | None,
    typer.Option(
        "--config",
        help="Services as api<N>/<pool><concurrency>, repeatable (api1/prefork2, api2/threads4).",
    ),
]


def _sigterm_raises() -> None:
    """Let ``timeout``/``kill`` unwind normally, so the services the run started are stopped."""

    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def _finish(report: dict[str, Any], started: float, output: Path | None) -> None:
    report["elapsed_s"] = round(time.monotonic() - started, 1)
    path = rep.save(report, output)
    typer.echo(rep.render(report))
    typer.echo(f"\nwritten to {path} in {report['elapsed_s']:.0f} s")


def _e2e(
    backends: list[str] | None,
    configs: list[str] | None,
    full: bool,
    fixed_rate: float,
    fixed_seconds: float | None,
    saturation_seconds: float | None,
    clients: int,
    connections: int,
    log_level: str,
    profile: bool,
) -> dict[str, Any]:
    from bench import e2e

    stamp = time.strftime("%Y%m%dT%H%M%S")
    opts = e2e.Options(
        fixed_rate=fixed_rate,
        fixed_seconds=fixed_seconds if fixed_seconds is not None else (30.0 if full else FIXED_SECONDS),
        saturation_seconds=(
            saturation_seconds if saturation_seconds is not None else (60.0 if full else SATURATION_SECONDS)
        ),
        # The defaults must finish in under 5 minutes (issue 7), so they stop waiting for a
        # backlog after DRAIN_MAX s; what is still pending then is reported as left pending.
        drain_max=90.0 if full else DRAIN_MAX,
        noop_tasks=8000 if full else NOOP_TASKS,
        clients=clients,
        connections=connections,
        log_level=log_level,
        profile=profile,
        out_dir=rep.RESULTS / stamp,
    )
    parsed = [e2e.ServiceConfig.parse(c) for c in (configs or ["api1/prefork2"])]
    return e2e.run(backends or ["postgres", "sqlite"], parsed, opts)


@app.command()
def filters(
    quick: Quick = False, output: Annotated[Path | None, typer.Option(help="JSON path.")] = None
) -> None:
    """Comments per second per core of the pure pipeline and of each check, and memory."""
    from bench import filters as fb

    started = time.monotonic()
    report = rep.new_report("filters")
    report["filters"] = fb.run(quick=quick)
    _finish(report, started, output)


@app.command()
def e2e(
    backend: Backends = None,
    config: Configs = None,
    full: Full = False,
    fixed_rate: Annotated[
        float, typer.Option(help="Offered comments per second in the fixed phase.")
    ] = 300.0,
    fixed_seconds: Annotated[float | None, typer.Option(help="Fixed-rate phase length (0 skips it).")] = None,
    saturation_seconds: Annotated[
        float | None, typer.Option(help="Saturation phase length (0 skips it).")
    ] = None,
    clients: Annotated[int, typer.Option(help="Load-generator processes.")] = 2,
    connections: Annotated[int, typer.Option(help="Keep-alive connections per client process.")] = 24,
    log_level: Annotated[str, typer.Option(help="Log level of the API and the worker.")] = "INFO",
    profile: Annotated[bool, typer.Option(help="py-spy the API and the worker during each phase.")] = False,
    output: Annotated[Path | None, typer.Option(help="JSON path.")] = None,
) -> None:
    """Real API + worker processes under HTTP load, on PostgreSQL + Redis and embedded SQLite."""
    _sigterm_raises()
    started = time.monotonic()
    report = rep.new_report("e2e")
    report["e2e"] = _e2e(
        backend,
        config,
        full,
        fixed_rate,
        fixed_seconds,
        saturation_seconds,
        clients,
        connections,
        log_level,
        profile,
    )
    _finish(report, started, output)


@app.command("all")
def all_(
    full: Full = False,
    backend: Backends = None,
    config: Configs = None,
    log_level: Annotated[str, typer.Option(help="Log level of the API and the worker.")] = "INFO",
    profile: Annotated[bool, typer.Option(help="py-spy the API and the worker during each phase.")] = False,
    output: Annotated[Path | None, typer.Option(help="JSON path.")] = None,
) -> None:
    """filters then e2e with the defaults: under 5 minutes (``--full``: issue 7's 60 s runs)."""
    from bench import filters as fb

    _sigterm_raises()
    started = time.monotonic()
    report = rep.new_report("all --full" if full else "all")
    typer.echo("-- filters", err=False)
    report["filters"] = fb.run(quick=not full)
    report["e2e"] = _e2e(backend, config, full, 300.0, None, None, 2, 24, log_level, profile)
    _finish(report, started, output)


@app.command()
def compare(a: Path, b: Path) -> None:
    """Compare two result files figure by figure (B/A)."""
    typer.echo(rep.compare(json.loads(a.read_text()), json.loads(b.read_text())))


@app.command("_memory", hidden=True)
def memory(comments: Annotated[int, typer.Option()] = 100_000) -> None:
    """Internal: the memory probe, run in a fresh interpreter by ``filters``."""
    from bench import filters as fb

    typer.echo(json.dumps(fb.memory_probe(comments)))

"""Process commands: ``serve`` (all in one), ``api``, ``worker``, ``beat``, ``migrate``."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import signal
import subprocess
import sys
from typing import Annotated

import typer

from moderation.logs import configure
from moderation.settings import get_settings

log = logging.getLogger("moderation.serve")


def migrate_command() -> None:
    """Apply database migrations (Alembic) and seed the demo article."""
    from moderation.db import get_engine
    from moderation.migrate import upgrade

    upgrade(get_engine())
    typer.echo(f"database is up to date: {_redacted(get_settings().resolved_database_url)}")


def api_command(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Uvicorn worker processes.")] = 1,
) -> None:
    """Run the HTTP API only (pair it with `moderation worker`)."""
    import uvicorn

    settings = get_settings()
    configure(settings.log_level, settings.log_format)
    uvicorn.run(
        "moderation.api.main:app",
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


def worker_command(
    concurrency: Annotated[int | None, typer.Option(help="Worker processes (default: CPU count).")] = None,
    pool: Annotated[str, typer.Option(help="Celery pool: prefork, threads or solo.")] = "prefork",
    loglevel: Annotated[str, typer.Option(help="Log level.")] = "INFO",
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Also serve this host's /metrics on this port (multi-host deployments)."),
    ] = None,
) -> None:
    """Run a Celery worker consuming the moderation queue (scale by running more)."""
    from workers.app import QUEUE, celery_app

    settings = get_settings()
    configure(settings.log_level, settings.log_format)
    if metrics_port:
        import threading

        from moderation import metrics

        server = metrics.exporter(settings, "0.0.0.0", metrics_port)  # noqa: S104 (scraped by Prometheus)
        threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    argv = [
        "worker",
        "-Q",
        QUEUE,
        f"--loglevel={loglevel}",
        f"--pool={pool}",
        "--without-gossip",
        "--without-mingle",
    ]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    celery_app.worker_main(argv)


def beat_command(loglevel: Annotated[str, typer.Option(help="Log level.")] = "INFO") -> None:
    """Run Celery beat, the scheduler of the cleanup jobs (run exactly one)."""
    from workers.app import celery_app

    settings = get_settings()
    configure(settings.log_level, settings.log_format)
    schedule = settings.data_dir / "celerybeat-schedule"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    celery_app.Beat(loglevel=loglevel, schedule=str(schedule)).run()


def _die_with_parent() -> None:
    # Linux: the child gets SIGTERM if `moderation serve` dies, even by SIGKILL.
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _spawn(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "moderation", *args], preexec_fn=_die_with_parent
    )


def serve_command(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    concurrency: Annotated[int, typer.Option(help="Worker processes.")] = 2,
) -> None:
    """Run everything on one machine: migrations, API, a Celery worker and beat.

    With no configuration it needs no external services (SQLite database, SQLite broker).
    Ctrl-C or SIGTERM stops all three processes.
    """
    import uvicorn

    settings = get_settings()
    configure(settings.log_level, settings.log_format)
    migrate_command()
    from moderation import metrics

    metrics.reset(settings)  # this host's worker metric files from an earlier run
    children = [
        _spawn("worker", f"--concurrency={concurrency}"),
        _spawn("beat"),
    ]
    base = f"http://{host}:{port}"
    typer.echo(
        f"\nmoderation is listening on {base}  (API docs: {base}/docs)\n"
        f"  database: {_redacted(settings.resolved_database_url)}\n"
        f"  broker:   {_redacted(settings.resolved_broker_url)}\n"
        "Submit a first comment:\n"
        f"  curl -s -X POST {base}/api/v1/articles/ketamine-infusion-therapy/comments \\\n"
        "       -H 'Content-Type: application/json' \\\n"
        '       -d \'{"author_name": "Sam", "body": "My clinic monitored me closely. It helped."}\'\n'
        f"then follow it at {base}/api/v1/comments/<id>\n"
    )
    server = uvicorn.Server(
        uvicorn.Config("moderation.api.main:app", host=host, port=port, log_config=None, access_log=False)
    )
    # uvicorn re-raises the signal that stopped it once it is done; with these handlers in
    # place that no longer kills us before the children are stopped.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
    try:
        server.run()  # returns on SIGINT/SIGTERM
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        typer.echo("moderation stopped")


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url.replace("sqla+", "", 1)).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]

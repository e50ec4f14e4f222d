"""``moderation jobs``: list the scheduled cleanup jobs and run one by hand."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from sqlalchemy import select

from moderation.db import get_sessionmaker
from moderation.jobs.models import JobRun
from moderation.jobs.registry import JOBS
from moderation.settings import get_settings

app = typer.Typer(help="Scheduled cleanup jobs (run by beat; runnable by hand).", no_args_is_help=True)


def _last_run_text(run: JobRun | None) -> str:
    if run is None:
        return "never run"
    when = run.started_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    if run.finished_at is None:
        return f"{when}  running (or crashed)"
    seconds = (run.finished_at - run.started_at).total_seconds()
    state = f"FAILED {run.error}" if run.error else json.dumps(run.counts, sort_keys=True)
    dry = " (dry run)" if run.dry_run else ""
    return f"{when}  {seconds:.2f}s{dry}  {state}"


@app.command("list")
def list_jobs() -> None:
    """Each job, its schedule and its last run (counts, duration)."""
    settings = get_settings()
    with get_sessionmaker()() as session:
        for job in JOBS.values():
            last = session.scalar(
                select(JobRun).where(JobRun.name == job.name).order_by(JobRun.id.desc()).limit(1)
            )
            typer.echo(f"{job.name:<15} {job.describe_schedule(settings):<18} {_last_run_text(last)}")
            typer.echo(f"{'':<15} {job.description}")


@app.command("run")
def run(
    name: Annotated[str, typer.Argument(help="Job name (see `moderation jobs list`).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would change; change nothing.")
    ] = False,
) -> None:
    """Run one job now (under the same lock as beat's runs) and print what it did."""
    from moderation.jobs.runner import run_job
    from moderation.queue import publisher
    from workers.app import celery_app

    if name not in JOBS:
        typer.echo(f"error: unknown job {name!r}; known: {', '.join(JOBS)}", err=True)
        raise typer.Exit(2)

    def notify(payload: dict[str, Any]) -> None:
        from workers.tasks_jobs import TASK_NOTIFY_CRISIS

        celery_app.send_task(TASK_NOTIFY_CRISIS, args=[payload], retry=False)

    try:
        record, result = run_job(
            name,
            sessions=get_sessionmaker(),
            settings=get_settings(),
            dry_run=dry_run,
            publish=publisher(celery_app),
            notify=notify,
        )
    except Exception as exc:
        typer.echo(f"error: {name} failed: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(1) from None
    for line in result.changes:
        typer.echo(("would " if dry_run and not line.startswith("would") else "") + line)
    label = "dry run, nothing changed" if dry_run else "done"
    typer.echo(f"{name}: {label}: {json.dumps(result.counts, sort_keys=True)} (run #{record.id})")

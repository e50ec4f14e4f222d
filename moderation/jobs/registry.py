"""The jobs: name, description, default schedule (from settings) and the service function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery.schedules import crontab

from moderation.jobs import anonymise, claims, escalate, purge, requeue, retrain
from moderation.jobs.base import JobContext, JobResult
from moderation.settings import Settings

TASK_RUN_JOB = "moderation.run_job"
TASK_RETRAIN = "moderation.retrain_models"


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    description: str
    run: Callable[[JobContext], JobResult]
    interval_setting: str | None = None  # a Settings field: seconds between runs, 0 = off
    daily_hour_setting: str | None = None  # a Settings field: UTC hour, -1 = off
    # The Celery task beat sends; long jobs get their own (acked early, longer time limit).
    task: str = TASK_RUN_JOB
    time_limit_setting: str = "jobs_time_limit"

    def time_limit(self, settings: Settings) -> int:
        return int(getattr(settings, self.time_limit_setting))

    def schedule(self, settings: Settings) -> Any | None:
        """A Celery beat schedule (timedelta or crontab), or None if not scheduled."""
        if self.interval_setting:
            seconds = int(getattr(settings, self.interval_setting))
            return timedelta(seconds=seconds) if seconds > 0 else None
        if self.daily_hour_setting:
            hour = int(getattr(settings, self.daily_hour_setting))
            return crontab(minute=0, hour=hour) if hour >= 0 else None
        return None

    def describe_schedule(self, settings: Settings) -> str:
        if self.interval_setting:
            seconds = int(getattr(settings, self.interval_setting))
            return f"every {_duration(seconds)}" if seconds > 0 else "by hand only"
        if self.daily_hour_setting:
            hour = int(getattr(settings, self.daily_hour_setting))
            return f"daily {hour:02d}:00 UTC" if hour >= 0 else "by hand only"
        return "by hand only"


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}min"
    return f"{seconds}s"


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job(
            requeue.NAME,
            "Publish again comments pending too long; flag them processing_failed after N attempts.",
            lambda c: requeue.requeue_stuck(
                sessions=c.sessions, now=c.now, dry_run=c.dry_run, settings=c.settings, publish=c.publish
            ),
            interval_setting="jobs_requeue_stuck_interval",
        ),
        Job(
            claims.NAME,
            "Release moderator claims past their expiry.",
            lambda c: claims.release_claims(
                sessions=c.sessions, now=c.now, dry_run=c.dry_run, settings=c.settings
            ),
            interval_setting="jobs_release_claims_interval",
        ),
        Job(
            escalate.NAME,
            "Raise flagged comments waiting past the review target; notify on waiting crisis items.",
            lambda c: escalate.escalate(
                sessions=c.sessions, now=c.now, dry_run=c.dry_run, settings=c.settings, notify=c.notify
            ),
            interval_setting="jobs_escalate_interval",
        ),
        Job(
            purge.NAME,
            "Delete rejected comments past retention (spam first) leaving tombstones; old job runs.",
            lambda c: purge.purge(sessions=c.sessions, now=c.now, dry_run=c.dry_run, settings=c.settings),
            interval_setting="jobs_purge_interval",
        ),
        Job(
            anonymise.NAME,
            "Replace author email, IP and user agent past PII retention with keyed hashes.",
            lambda c: anonymise.anonymise(
                sessions=c.sessions, now=c.now, dry_run=c.dry_run, settings=c.settings
            ),
            interval_setting="jobs_anonymise_interval",
        ),
        Job(
            retrain.NAME,
            "Rebuild the spam and abuse models with moderator labels; promote if not worse.",
            lambda c: retrain.retrain(sessions=c.sessions, now=c.now, dry_run=c.dry_run, settings=c.settings),
            daily_hour_setting="jobs_retrain_hour",
            task=TASK_RETRAIN,
            time_limit_setting="jobs_retrain_time_limit",
        ),
    )
}


class UnknownJobError(KeyError):
    pass


def get_job(name: str) -> Job:
    try:
        return JOBS[name]
    except KeyError:
        raise UnknownJobError(f"unknown job {name!r}; known: {', '.join(JOBS)}") from None


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """Celery ``beat_schedule``: one entry per scheduled job, all through ``moderation.run_job``."""
    schedule: dict[str, dict[str, Any]] = {}
    for job in JOBS.values():
        every = job.schedule(settings)
        if every is not None:
            schedule[job.name] = {
                "task": job.task,
                "schedule": every,
                "args": [job.name] if job.task == TASK_RUN_JOB else [],
                # A run that waited longer than its interval is superseded by the next one.
                "options": {"expires": max(30, int(every.total_seconds()))}
                if isinstance(every, timedelta)
                else {},
            }
    return schedule

"""Thin Celery tasks of the scheduled jobs: beat fires ``moderation.run_job`` with a job name."""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx

from moderation.db import get_sessionmaker
from moderation.jobs.notify import RetryableWebhookError, deliver, webhook_secret
from moderation.jobs.registry import TASK_RETRAIN, TASK_RUN_JOB
from moderation.jobs.runner import run_job as run_job_service
from moderation.queue import publisher
from moderation.settings import get_settings
from workers.app import celery_app

log = logging.getLogger(__name__)
_settings = get_settings()
TASK_NOTIFY_CRISIS = "moderation.notify_crisis"


def _notify(payload: dict[str, Any]) -> None:
    celery_app.send_task(TASK_NOTIFY_CRISIS, args=[payload], retry=False)


@celery_app.task(
    name=TASK_RUN_JOB,
    acks_late=True,
    ignore_result=True,
    # Below the visibility timeout (see workers/app.py): a running job is never redelivered.
    time_limit=min(_settings.jobs_time_limit, _settings.visibility_timeout - 10),
    soft_time_limit=min(_settings.jobs_time_limit, _settings.visibility_timeout - 10) - 5,
)
def run_job(name: str) -> None:
    """Run one cleanup job by name. Triggered by beat (or by hand with send_task). Safe to
    deliver twice: the job lock lets one run through, the other records a skip. Must not
    hold ORM objects across batches or publish before a batch commits."""
    settings = get_settings()
    run_job_service(
        name,
        sessions=get_sessionmaker(),
        settings=settings,
        publish=publisher(celery_app),
        notify=_notify,
    )


@celery_app.task(
    name=TASK_RETRAIN,
    # Minutes of CPU: acknowledged on receipt (not late), so the broker never hands it to a
    # second worker while it runs; a lost run is simply tomorrow's. The job lock still holds.
    acks_late=False,
    ignore_result=True,
    time_limit=_settings.jobs_retrain_time_limit,
    soft_time_limit=_settings.jobs_retrain_time_limit - 30,
)
def retrain_models() -> None:
    """Rebuild the spam and abuse models (the ``retrain`` job). Triggered nightly by beat.
    Must not replace a model that is worse on the held-out sets (the learning code checks)."""
    run_job_service("retrain", sessions=get_sessionmaker(), settings=get_settings())


@celery_app.task(
    name=TASK_NOTIFY_CRISIS,
    acks_late=True,
    autoretry_for=(httpx.TransportError, RetryableWebhookError),
    retry_backoff=True,
    # Below the visibility timeout, or Redis hands the waiting message to a second worker.
    retry_backoff_max=max(1, get_settings().visibility_timeout // 2),
    retry_jitter=True,
    max_retries=_settings.jobs_webhook_max_retries,
    ignore_result=True,
)
def notify_crisis(payload: dict[str, Any]) -> None:
    """POST one crisis notification to ``jobs_webhook_url``, signed at send time. Triggered
    by the escalate job once per waiting crisis item; retried with backoff on network errors,
    5xx, 408 and 429. Must not touch the database."""
    settings = get_settings()
    if not settings.jobs_webhook_url:
        log.warning("crisis webhook dropped: MODERATION_JOBS_WEBHOOK_URL is not set", extra=payload)
        return
    with httpx.Client(timeout=settings.jobs_webhook_timeout) as client:
        status = deliver(
            client=client,
            url=settings.jobs_webhook_url,
            payload=payload,
            secret=webhook_secret(settings),
            timestamp=int(time.time()),
        )
    log.info("crisis webhook delivered", extra={"comment_id": payload.get("comment_id"), "status": status})

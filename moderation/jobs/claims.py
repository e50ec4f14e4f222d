"""release-claims: moderator claims past their expiry are released.

The claim model and its rules belong to the moderator review code; this job only calls
``release_expired_claims(*, session, now) -> int`` from ``moderation.review.queue_service``
(imported when the job runs, so the jobs package does not depend on the review UI code).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from datetime import datetime
from typing import cast

from sqlalchemy.orm import Session, sessionmaker

from moderation.jobs.base import JobResult, JobUnavailableError, progress
from moderation.settings import Settings

NAME = "release-claims"
MODULES = ("moderation.review.queue_service", "moderation.accounts.service")

ReleaseFn = Callable[..., int]


def _release_function() -> ReleaseFn:
    for module_name in MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise  # the module exists but one of its own imports is broken
            continue
        function = getattr(module, "release_expired_claims", None)
        if function is not None:
            return cast(ReleaseFn, function)
    raise JobUnavailableError(
        "release-claims needs release_expired_claims(*, session, now) in one of "
        + ", ".join(MODULES)
        + " (moderator review, issue 4), which is not there yet"
    )


def release_claims(
    *, sessions: sessionmaker[Session], now: datetime, dry_run: bool, settings: Settings
) -> JobResult:
    """Release expired claims, one committed transaction per batch; a dry run rolls back.

    Triggered by beat every ``jobs_release_claims_interval`` seconds and by hand.
    """
    release = _release_function()
    batched = "batch_size" in inspect.signature(release).parameters
    result = JobResult()
    if dry_run:
        limit = settings.jobs_batch_size * settings.jobs_max_batches
        with sessions() as session:
            try:
                kwargs = {"batch_size": limit} if batched else {}
                result.add("would_release", release(session=session, now=now, **kwargs))
            finally:
                session.rollback()
        return result
    for batch in range(1, settings.jobs_max_batches + 1):
        with sessions() as session, session.begin():
            kwargs = {"batch_size": settings.jobs_batch_size} if batched else {}
            released = release(session=session, now=now, **kwargs)
        result.add("released", released)
        progress(NAME, batch, result, dry_run=dry_run)
        if not batched or released < settings.jobs_batch_size:
            break
    return result

"""retrain: the nightly rebuild of the spam and abuse models (``moderation.learning``).

Moderator labels (``labeled_examples``) are added to the public training sets; a candidate
model is promoted to ``<data_dir>/models`` only if it is not worse on the held-out sets (the
learning code decides). Workers pick up a promoted model when they restart.
"""

from __future__ import annotations

import importlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from moderation.jobs.base import JobResult, JobUnavailableError
from moderation.models import LabeledExample
from moderation.settings import Settings

NAME = "retrain"


def retrain(
    *, sessions: sessionmaker[Session], now: datetime, dry_run: bool, settings: Settings
) -> JobResult:
    """Train candidates from the shared data plus moderator labels; promote the ones not worse.

    Triggered by beat daily at ``jobs_retrain_hour`` UTC and by hand. A dry run only counts
    the labels it would use. Fails with a clear error if the learning code or data is absent.
    """
    try:
        pinned = importlib.import_module("moderation.learning.pinned")
        data_module = importlib.import_module("moderation.learning.data")
    except ModuleNotFoundError as exc:
        raise JobUnavailableError(f"retrain needs moderation.learning ({exc})") from exc
    with sessions() as session:
        labels = [
            (text, label)
            for text, label in session.execute(select(LabeledExample.text, LabeledExample.label))
        ]
    result = JobResult()
    result.add("labels", len(labels))
    data_dir = data_module.default_data_dir()
    if not data_module.has_shared_data(data_dir):
        raise JobUnavailableError(f"retrain needs the training data sets in {data_dir}")
    if dry_run:
        result.note(f"would train on {data_dir} plus {len(labels)} moderator labels")
        return result
    output = settings.data_dir / "models"
    output.mkdir(parents=True, exist_ok=True)
    # In a child interpreter with pinned kernels (moderation.learning.pinned), as the CLI does.
    report = pinned.train_pinned(
        data_dir=data_dir, output=output, labels=labels, date=now.strftime("%Y.%m.%d")
    )
    for model in report:
        result.add(f"promoted_{model['kind']}", int(model["promoted"]))
        result.note(
            f"{model['kind']}: candidate {model['candidate_version']} "
            f"{'promoted to ' + str(model['path']) if model['promoted'] else 'kept the current model'}"
        )
    return result

"""Fault 7: the settings every guarantee rests on, asserted so nobody turns one off by accident.

- acks_late + reject_on_worker_lost: a message is acknowledged after its task ran, and a
  worker process that dies puts it back (at-least-once);
- every time limit below the Redis visibility timeout, and so is the longest a prefetched
  message can wait in a worker's buffer: otherwise Redis hands a message that is still
  being (or about to be) worked on to a second worker;
- a retry countdown below the visibility timeout: an ETA message waits unacknowledged in the
  worker, and one that waits longer is redelivered (and may then run twice, or multiply).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from pydantic import ValidationError

from moderation.settings import Settings
from tests.faults.conftest import FAULT_TIMEOUTS
from tests.helpers import REPO

pytestmark = pytest.mark.faults
REDIS = "redis://127.0.0.1:6379/0"

# Tasks of other areas that break a rule below today, with why. The check is a ratchet: a
# new offender fails it, and so does fixing one (remove it here then).
KNOWN_LONG_RETRIES: set[str] = set()  # notify_crisis and deliver_webhook now cap their backoff

# Acknowledged on receipt on purpose: minutes of CPU that must not run twice; a lost run is
# the next night's (workers/tasks_jobs.py). Time limits do not matter for it: once acked,
# the visibility timeout no longer applies.
KNOWN_EARLY_ACK = {"moderation.retrain_models"}

# moderation.run_job: time_limit=min(jobs_time_limit, visibility_timeout - 10), so with the
# fault tests' 12 s visibility timeout its hard limit is 2 s and its soft limit -3 s.
KNOWN_BAD_LIMITS = {"defaults": set(), "fault-tests": {"moderation.run_job"}}

# Run in a fresh interpreter: the task modules read get_settings() at import, so the
# registered task options and make_celery's conf must come from the same environment.
_PROBE = """
import json
from moderation.settings import get_settings
from workers.app import make_celery
app = make_celery(get_settings())
app.loader.import_default_modules()
conf = app.conf
tasks = {}
for name, task in app.tasks.items():
    if name.startswith("moderation."):
        tasks[name] = {
            "acks_late": task.acks_late,
            "reject_on_worker_lost": task.reject_on_worker_lost,
            "time_limit": task.time_limit,
            "soft_time_limit": task.soft_time_limit,
            "autoretry_for": [e.__name__ for e in getattr(task, "autoretry_for", ())],
            "retry_backoff": getattr(task, "retry_backoff", False),
            "retry_backoff_max": getattr(task, "retry_backoff_max", None),
            "default_retry_delay": task.default_retry_delay,
            "max_retries": task.max_retries,
        }
print(json.dumps({
    "visibility_setting": get_settings().visibility_timeout,
    "acks_late": conf.task_acks_late,
    "reject_on_worker_lost": conf.task_reject_on_worker_lost,
    "time_limit": conf.task_time_limit,
    "soft_time_limit": conf.task_soft_time_limit,
    "prefetch": conf.worker_prefetch_multiplier,
    "transport": conf.broker_transport_options,
    "tasks": tasks,
}))
"""


@pytest.fixture(scope="module", params=["defaults", "fault-tests"])
def probe(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The Celery configuration as a worker process would build it from its environment."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
    env |= {"MODERATION_BROKER_URL": REDIS, "MODERATION_DATA_DIR": str(tmp_path_factory.mktemp("probe"))}
    if request.param == "fault-tests":  # the short timeouts of tests/faults/conftest.py
        env |= {f"MODERATION_{k.upper()}": str(v) for k, v in FAULT_TIMEOUTS.items()}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, cwd=REPO, capture_output=True, text=True, check=True
    )
    result: dict = json.loads(out.stdout.strip().splitlines()[-1])
    result["config"] = request.param
    assert "moderation.moderate_comment" in result["tasks"]
    return result


def test_acknowledged_late_and_requeued_when_the_worker_dies(probe):
    assert probe["acks_late"] is True
    assert probe["reject_on_worker_lost"] is True
    moderate = probe["tasks"]["moderation.moderate_comment"]
    assert moderate["acks_late"] is True
    assert moderate["reject_on_worker_lost"] is True
    early = {name for name, task in probe["tasks"].items() if task["acks_late"] is not True}
    assert early == KNOWN_EARLY_ACK, "a task acknowledging early (a crash would lose it), or one fixed"


def test_time_limits_and_prefetch_below_the_visibility_timeout(probe):
    visibility = probe["transport"]["visibility_timeout"]
    assert visibility == probe["visibility_setting"]
    assert probe["time_limit"] < visibility
    assert probe["soft_time_limit"] < probe["time_limit"]
    # The longest a reserved message can sit in a worker before it starts: every message
    # ahead of it in the same process running to the hard limit.
    assert probe["prefetch"] * probe["time_limit"] < visibility
    bad = set()
    for name, task in probe["tasks"].items():
        if not task["acks_late"]:
            continue
        limit = task["time_limit"] if task["time_limit"] is not None else probe["time_limit"]
        soft = task["soft_time_limit"]
        if not (0 < limit < visibility) or not (soft is None or 0 < soft < limit):
            bad.add(name)
    assert "moderation.moderate_comment" not in bad
    assert bad == KNOWN_BAD_LIMITS[probe["config"]], "fixed one? remove it from KNOWN_BAD_LIMITS"
    # An abandoned message comes back about one visibility timeout later, not 100 s on top.
    sweep = probe["transport"]["unacked_restore_interval"] * probe["transport"]["unacked_restore_throttle"]
    assert sweep <= max(1, visibility // 5)


def test_retries_are_for_transient_database_errors_with_bounded_backoff(probe):
    visibility = probe["transport"]["visibility_timeout"]
    moderate = probe["tasks"]["moderation.moderate_comment"]
    assert "OperationalError" in moderate["autoretry_for"]
    assert moderate["retry_backoff"]
    assert moderate["max_retries"] is not None  # finite: requeue-stuck takes over after
    long_waits = set()
    for name, task in probe["tasks"].items():
        if not task["autoretry_for"] or not task["acks_late"]:
            continue
        longest = task["retry_backoff_max"] if task["retry_backoff"] else task["default_retry_delay"]
        if longest >= visibility:
            long_waits.add(name)
    # An ETA retry waits unacknowledged in the worker; past the visibility timeout Redis hands
    # it to a second worker as well. Never for the moderation task itself.
    assert "moderation.moderate_comment" not in long_waits
    assert long_waits <= KNOWN_LONG_RETRIES, (
        f"new task(s) retrying beyond the visibility timeout: {long_waits}"
    )


def test_settings_refuse_a_time_limit_at_or_above_the_visibility_timeout(tmp_path):
    with pytest.raises(ValidationError, match="visibility_timeout"):
        Settings(broker_url=REDIS, data_dir=tmp_path, visibility_timeout=60, task_time_limit=60)

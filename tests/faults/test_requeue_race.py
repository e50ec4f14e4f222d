"""Fault 6: two workers and two requeue-stuck runs racing over 2,000 stuck rows.

The rows were committed but their messages lost. Two requeue-stuck runs start at the same
moment without the job lock (the lock is a first line; the row-level claim is what must
hold): together they publish each row once, and two worker processes decide each once, on
PostgreSQL (``FOR UPDATE SKIP LOCKED``) and on SQLite (conditional updates).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.orm import sessionmaker

from tests.conftest import Backend
from tests.faults.conftest import REQUEUE_AFTER, fault_env, fault_settings, run_requeue_stuck
from tests.faults.helpers import OwnRedis, create_pending, pipeline_decisions, queue_length, tally
from tests.helpers import running_worker
from workers.app import make_celery

pytestmark = [pytest.mark.faults, pytest.mark.redis]
N = 2000


def test_two_workers_and_two_requeue_runs_decide_each_row_once(
    backend: Backend, own_redis: OwnRedis, tmp_path: Path
):
    settings = fault_settings(backend, own_redis.url())
    ids = create_pending(sessionmaker(bind=backend.engine, expire_on_commit=False), N, publish=None)
    time.sleep(REQUEUE_AFTER + 0.2)  # now they are stuck
    env = backend.env(**fault_env(own_redis.url(), backend.url))
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    with running_worker(env, logs[0], "--concurrency=1"), running_worker(env, logs[1], "--concurrency=1"):
        results: list[dict[str, int]] = []
        barrier = threading.Barrier(2)

        def one_run() -> None:
            celery = make_celery(settings)  # each run its own broker connections, as two beats
            barrier.wait()
            results.append(run_requeue_stuck(settings, celery, use_lock=False))

        runs = [threading.Thread(target=one_run) for _ in range(2)]
        started = time.monotonic()
        for run in runs:
            run.start()
        for run in runs:
            run.join(120)
        broker = own_redis.client()
        # Then requeue-stuck again whenever the queue is empty but comments are still pending,
        # as beat would: a task that failed on its time limit (a long SQLite lock wait on a
        # loaded machine) was acknowledged, so only requeue-stuck brings it back.
        beat: list[dict[str, int]] = []
        deadline = time.monotonic() + 240
        while tally(backend.engine, ids).pending or queue_length(broker):
            assert time.monotonic() < deadline, f"{tally(backend.engine, ids)}; beat runs {beat}"
            time.sleep(1)
            if not queue_length(broker) and tally(backend.engine, ids).pending:
                time.sleep(REQUEUE_AFTER + 1)  # a task may still be running; then it is stuck
                if not queue_length(broker):
                    beat.append(run_requeue_stuck(settings, make_celery(settings)))
        elapsed = time.monotonic() - started
    final = tally(backend.engine, ids)
    per_worker = [p.read_text().count("succeeded in") for p in logs]
    print(
        f"\n{backend.name}: racing requeue runs {results}; later runs {beat}; "
        f"tasks per worker {per_worker}; {elapsed:.1f}s; {final}"
    )
    assert sum(r.get("requeued", 0) for r in results) == N  # each row published once, not twice
    assert all(per_worker)  # both workers took part
    assert final.accepted == final.decided == N
    assert final.decided_twice == 0
    assert final.lost == 0
    assert final.gave_up == 0
    assert set(pipeline_decisions(backend.engine, ids).values()) == {1}

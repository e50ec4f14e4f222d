"""The worker's CPU per decided comment, without the API, next to Celery's own floor at the same pace.

``python -m bench.worker_cost [N]`` (issue 7): stores N pending comments directly in the bench
database, starts ``moderation worker --concurrency 2``, publishes N tasks and reads the CPU of
the worker's process group from /proc until every comment is decided; then runs a bare Celery
task (same broker, late acks, prefetch 4, time limits, INFO logging) that sleeps as long as a
moderation task waits on PostgreSQL and Redis, so the comparison is at the same pace. A task
that returns at once (``bench/noop.py``) lets Celery batch its work and understates the floor.

Prints CPU ms per message for the main process and each pool process. Takes the bench lock.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from celery import Celery

from bench import corpus
from bench.e2e import machine_lock
from bench.measure import cpu_seconds, family
from bench.stack import Backend, setup_postgres, start, stop

REPO = Path(__file__).resolve().parents[1]
QUEUE = "bench-paced"
app = Celery("bench-paced", broker=os.environ.get("BENCH_NOOP_BROKER", "redis://127.0.0.1:6379/9"))
app.conf.update(
    task_default_queue=QUEUE,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    task_time_limit=60,
    task_soft_time_limit=55,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    worker_prefetch_multiplier=4,
    worker_send_task_events=False,
    broker_connection_retry_on_startup=True,
)


@app.task(name="bench.paced", ignore_result=True, acks_late=True)  # type: ignore[untyped-decorator]
def paced(seconds: float) -> None:
    """Waits like a moderation task waits on its round trips, and does nothing else."""
    time.sleep(seconds)


def _until(done: Callable[[], bool], timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        time.sleep(0.02)


def _per_process(pids: list[int], before: dict[int, float], n: int) -> list[float]:
    return [round(1000 * (cpu_seconds([p]) - before[p]) / n, 3) for p in pids]


def moderation_worker(backend: Backend, n: int) -> tuple[float, list[float], float]:
    import sqlalchemy as sa

    engine = sa.create_engine(backend.database_url)
    with engine.begin() as conn:
        article = conn.execute(sa.text("SELECT id FROM articles ORDER BY id LIMIT 1")).scalar()
    ids = [uuid.uuid4() for _ in range(n + 1)]
    now = datetime.now(UTC)
    rows = [
        {"id": i, "a": article, "n": f"reader-{k % 97}", "b": body, "t": now}
        for k, (i, body) in enumerate(zip(ids, corpus.mixed_lengths(n + 1, seed=3), strict=True))
    ]
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO comments (id, article_id, author_name, client_ip, body, status, priority,"
                " created_at, updated_at, attempts, version) VALUES (:id, :a, :n, '10.0.0.1', :b,"
                " 'pending', 'normal', :t, :t, 0, 1)"
            ),
            rows,
        )

    def pending() -> int:
        with engine.connect() as conn:
            return int(
                conn.execute(sa.text("SELECT count(*) FROM comments WHERE status = 'pending'")).scalar_one()
            )

    env = backend.env("INFO")
    worker = start(
        [sys.executable, "-m", "moderation", "worker", "--concurrency", "2"], env, backend.data_dir / "w.log"
    )
    # A client of its own: the worker's settings come from its environment, not this process's.
    celery_app = Celery("bench-publisher", broker=backend.broker_url)
    celery_app.conf.update(task_default_queue="moderation", task_serializer="json")

    try:
        with celery_app.producer_or_acquire() as producer:
            celery_app.send_task("moderation.moderate_comment", args=[str(ids[0])], producer=producer)
            _until(lambda: pending() == n, 90)
            time.sleep(1)
            pids = family(worker.pid)
            before = {p: cpu_seconds([p]) for p in pids}
            started = time.perf_counter()
            for i in ids[1:]:
                celery_app.send_task("moderation.moderate_comment", args=[str(i)], producer=producer)
            _until(lambda: pending() == 0)
            wall = time.perf_counter() - started
            split = _per_process(pids, before, n)
    finally:
        stop(worker)
        engine.dispose()
    return sum(split), split, n / wall


def paced_noop(backend: Backend, n: int, seconds: float) -> tuple[float, list[float], float]:
    import redis

    client = redis.Redis.from_url(backend.broker_url)
    client.delete(QUEUE)
    env = backend.env("INFO", BENCH_NOOP_BROKER=backend.broker_url)
    args = ["-A", "bench.worker_cost", "worker", "-Q", QUEUE, "--pool=prefork", "--concurrency=2"]
    worker = start(
        [sys.executable, "-m", "celery", *args, "--without-gossip", "--without-mingle", "--loglevel=INFO"],
        env,
        backend.data_dir / "paced.log",
    )
    app.conf.broker_url = backend.broker_url

    def drained() -> bool:
        return client.llen(QUEUE) == 0 and client.hlen("unacked") == 0

    try:
        with app.producer_or_acquire() as producer:
            app.send_task("bench.paced", args=[0], producer=producer)
            _until(drained, 60)
            time.sleep(0.5)
            pids = family(worker.pid)
            before = {p: cpu_seconds([p]) for p in pids}
            started = time.perf_counter()
            for _ in range(n):
                app.send_task("bench.paced", args=[seconds], producer=producer)
            _until(drained)
            wall = time.perf_counter() - started
            split = _per_process(pids, before, n)
    finally:
        stop(worker)
    return sum(split), split, n / wall


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    data_dir = REPO / "bench" / "results" / "worker-cost"
    data_dir.mkdir(parents=True, exist_ok=True)
    with machine_lock():
        backend = setup_postgres(data_dir)
        total, split, rate = moderation_worker(backend, n)
        print(f"moderation worker: {total:.2f} ms CPU/comment (main, pool: {split}), {rate:.0f}/s")
        for seconds in (0.0, 0.005):
            total, split, rate = paced_noop(backend, n, seconds)
            print(
                f"no-op sleeping {1000 * seconds:.0f} ms: {total:.2f} ms CPU/task"
                f" (main, pool: {split}), {rate:.0f}/s"
            )


if __name__ == "__main__":
    main()

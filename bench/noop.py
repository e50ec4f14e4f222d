"""A bare Celery app with one no-op task: the ceiling the moderation worker is compared to.

Same broker, same delivery settings as ``workers.app`` (late acks, prefetch, JSON, results
ignored), its own queue. The broker URL comes from ``BENCH_NOOP_BROKER`` because this app
runs in a worker started by the benchmark, outside the moderation settings.
"""

from __future__ import annotations

import os

from celery import Celery

QUEUE = "bench-noop"

app = Celery("bench-noop", broker=os.environ.get("BENCH_NOOP_BROKER", "redis://127.0.0.1:6379/9"))
app.conf.update(
    task_default_queue=QUEUE,
    task_acks_late=True,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    worker_prefetch_multiplier=int(os.environ.get("BENCH_NOOP_PREFETCH", "4")),
    worker_hijack_root_logger=False,
    worker_send_task_events=False,
    broker_connection_retry_on_startup=True,
)


@app.task(name="bench.noop", ignore_result=True, acks_late=True)  # type: ignore[untyped-decorator]
def noop() -> None:
    """Does nothing: the task's cost is Celery's and the broker's alone."""

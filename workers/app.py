"""The Celery application. Configuration comes from ``moderation.settings`` only.

Delivery guarantees (see README "Guarantees"): tasks are acknowledged after they run
(``acks_late``) and re-queued if the worker process dies (``task_reject_on_worker_lost``);
the Redis visibility timeout is longer than the hard time limit, so a slow task is never
handed to a second worker while the first still runs. The database, not the broker, is the
source of truth: a comment stays ``pending`` until a task decides it, and the
``requeue-stuck`` job publishes again whatever the broker lost.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, bootsteps
from celery.signals import worker_process_init
from kombu.transport import sqlalchemy as kombu_sqla

from moderation.jobs.registry import beat_schedule
from moderation.queue import _reuse_redis_client as reuse_redis_client
from moderation.settings import Settings, get_settings

QUEUE = "moderation"


def make_celery(settings: Settings) -> Celery:
    app = Celery(
        "moderation",
        broker=settings.resolved_broker_url,
        include=["workers.tasks", "workers.tasks_jobs", "workers.tasks_webhooks"],
    )
    transport_options: dict[str, Any]
    if settings.embedded:
        # kombu's SQLAlchemy transport hands its options to create_engine(); poll faster than 1 s.
        kombu_sqla.Transport.polling_interval = 0.1
        transport_options = {"connect_args": {"timeout": 30}}
    else:
        transport_options = {
            "visibility_timeout": settings.visibility_timeout,
            # kombu sweeps for expired unacked messages only every interval x throttle seconds
            # (100 s by default): scale it to the visibility timeout, so a message held by a
            # SIGKILLed worker is redelivered about one visibility timeout later.
            "unacked_restore_interval": max(1, settings.visibility_timeout // 10),
            "unacked_restore_throttle": 1,
            "socket_connect_timeout": 2,
            "socket_timeout": 5,
        }
    app.conf.update(
        task_default_queue=QUEUE,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        task_time_limit=settings.task_time_limit,
        task_soft_time_limit=max(1, settings.task_time_limit - 5),
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=settings.worker_prefetch_multiplier,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=settings.publish_timeout,
        timezone="UTC",
        enable_utc=True,
        # Cleanup jobs (moderation/jobs): intervals from settings, 0 leaves a job out.
        beat_schedule=beat_schedule(settings),
    )
    app.steps["consumer"].add(ReuseRedisClient)
    return app


class ReuseRedisClient(bootsteps.StartStopStep):  # type: ignore[misc]  # celery is untyped
    """The consumer's channel records, acknowledges and restores messages through one Redis
    client. kombu builds a ``redis.Redis`` for each of those (two per message: the unacked
    record on delivery, its removal on ack), ~0.1 ms of CPU each in redis-py 8 (issue 7).
    The commands, and so the delivery guarantees, are unchanged; after a reconnection the
    new channel gets a client of its own (this step starts again with the consumer)."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def start(self, c: Any) -> None:
        if c.task_consumer is not None:
            reuse_redis_client(c.task_consumer.channel)


celery_app = make_celery(get_settings())


@worker_process_init.connect
def _after_fork(**_: Any) -> None:
    """Each forked worker process gets its own connections and loads the pipeline once."""
    from moderation.db import get_engine
    from moderation.review.pipeline import get_pipeline
    from workers.engine import decision_engine

    get_engine().dispose(close=False)
    decision_engine().dispose(close=False)
    get_pipeline()

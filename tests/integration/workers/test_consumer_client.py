"""The worker's consumer channel reuses one Redis client, and still records and acks for real."""

from __future__ import annotations

import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
from kombu import Consumer, Producer, Queue  # type: ignore[attr-defined]

from moderation.settings import Settings
from tests.helpers import slot_redis_url
from workers.app import ReuseRedisClient, make_celery

REDIS_URL = slot_redis_url()


def test_consumer_channel_records_and_acks_through_one_client(tmp_path: Path) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    app = make_celery(Settings(data_dir=tmp_path, broker_url=REDIS_URL))
    assert ReuseRedisClient in app.steps["consumer"]
    queue = Queue(f"test-reuse-{uuid.uuid4().hex}")
    received: list = []
    with app.connection_for_read() as conn:
        channel = conn.channel()
        consumer = Consumer(
            channel, queues=[queue], accept=["json"], callbacks=[lambda _, m: received.append(m)]
        )
        ReuseRedisClient(SimpleNamespace()).start(SimpleNamespace(task_consumer=consumer))
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second
        with consumer:
            Producer(conn.channel()).publish(
                {"n": 1}, routing_key=queue.name, declare=[queue], serializer="json"
            )
            conn.drain_events(timeout=5)
            [message] = received
            tag = message.delivery_tag
            # Delivered, not yet acknowledged: recorded as unacked (what redelivery relies on).
            assert client.hexists("unacked", tag)
            message.ack()
            assert not client.hexists("unacked", tag)
        channel.queue_delete(queue.name)

"""Publishing moderation tasks by name, so the API never imports task code.

A publish must never hold a submission up: the comment is already committed as ``pending``
and requeue-stuck publishes whatever was not. So a publish tries the broker once (kombu
would otherwise sleep 2 s between connection attempts), and after a failure the broker is
considered down for ``BROKER_COOLDOWN`` seconds: publishes fail at once without touching it,
so even a hung broker (one that accepts connections and never answers) costs at most one
socket timeout per cooldown, not one per request.

Each thread keeps one producer (kombu channels are not thread-safe) instead of taking a
connection from the pool per message, and on Redis its channel reuses one client: kombu
builds a new ``redis.Redis`` per message, which redis-py 8 makes cost ~0.3 ms of CPU
(argument inspection in its constructor), as much as the rest of the publish (issue 7).
A failed publish drops the thread's producer, so the next one after the cooldown connects
afresh.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from celery import Celery

TASK_MODERATE = "moderation.moderate_comment"
BROKER_COOLDOWN = 2.0  # seconds a failed broker is left alone


class BrokerUnavailableError(ConnectionError):
    """The broker failed moments ago; the publish was not attempted."""


def publisher(app: Celery, cooldown: float = BROKER_COOLDOWN) -> Callable[[uuid.UUID], None]:
    """A ``publish(comment_id)`` function bound to ``app``; raises if the broker is down."""
    lock = threading.Lock()
    down_until = 0.0
    local = threading.local()

    # A submission waits on the broker at most broker_connection_timeout (the settings'
    # publish_timeout), for an answer as for a connection: the workers' longer socket timeout
    # would hold it for seconds on a broker that accepts connections and never answers.
    timeout = app.conf.broker_connection_timeout
    options = {**(app.conf.broker_transport_options or {})}
    if "socket_timeout" in options and timeout:
        options["socket_timeout"] = min(options["socket_timeout"], timeout)

    def producer() -> Any:
        current = getattr(local, "producer", None)
        if current is None:
            conn = app.connection_for_write(transport_options=options)
            try:
                # One connection attempt, no sleeping retry loop.
                conn.ensure_connection(max_retries=0)
                current = app.amqp.Producer(conn)
                _reuse_redis_client(current.channel)
            except BaseException:
                conn.release()
                raise
            local.producer = current
        return current

    def discard() -> None:
        current = getattr(local, "producer", None)
        local.producer = None
        if current is not None:
            with contextlib.suppress(Exception):
                current.connection.release()

    def publish(comment_id: uuid.UUID) -> None:
        nonlocal down_until
        if time.monotonic() < down_until:
            raise BrokerUnavailableError("broker unavailable; requeue-stuck will publish later")
        try:
            args = [str(comment_id)]
            # argsrepr/kwargsrepr given: Celery would otherwise build them with its saferepr,
            # ~7 % of the API's CPU per submission (issue 7).
            app.send_task(
                TASK_MODERATE,
                args=args,
                argsrepr=repr(args),
                kwargsrepr="{}",
                retry=False,
                producer=producer(),
            )
        except Exception:
            discard()
            with lock:
                down_until = time.monotonic() + cooldown
            raise

    return publish


def _reuse_redis_client(channel: Any) -> None:
    """Make a kombu Redis channel publish through one client (on its own connection pool)
    instead of constructing a client per message; other transports are left alone."""
    from kombu.transport import redis as kombu_redis

    if not isinstance(channel, kombu_redis.Channel):
        return
    redis_channel: Any = channel  # kombu is untyped; isinstance narrowed it to its class
    shared = redis_channel._create_client()  # kombu's own construction (credentials, pool)

    @contextlib.contextmanager
    def conn_or_acquire(client: Any = None) -> Iterator[Any]:
        yield client or shared

    redis_channel.conn_or_acquire = conn_or_acquire

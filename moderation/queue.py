"""Publishing moderation tasks by name, so the API never imports task code.

A publish must never hold a submission up: the comment is already committed as ``pending``
and requeue-stuck publishes whatever was not. So a publish tries the broker once (kombu
would otherwise sleep 2 s between connection attempts), and after a failure the broker is
considered down for ``BROKER_COOLDOWN`` seconds: publishes fail at once without touching it,
so even a hung broker (one that accepts connections and never answers) costs at most one
socket timeout per cooldown, not one per request.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

from celery import Celery

TASK_MODERATE = "moderation.moderate_comment"
BROKER_COOLDOWN = 2.0  # seconds a failed broker is left alone


class BrokerUnavailableError(ConnectionError):
    """The broker failed moments ago; the publish was not attempted."""


def publisher(app: Celery, cooldown: float = BROKER_COOLDOWN) -> Callable[[uuid.UUID], None]:
    """A ``publish(comment_id)`` function bound to ``app``; raises if the broker is down."""
    lock = threading.Lock()
    down_until = 0.0

    def publish(comment_id: uuid.UUID) -> None:
        nonlocal down_until
        if time.monotonic() < down_until:
            raise BrokerUnavailableError("broker unavailable; requeue-stuck will publish later")
        try:
            with app.pool.acquire(block=True, timeout=cooldown) as conn:
                # One connection attempt, no sleeping retry loop.
                conn.ensure_connection(max_retries=0)
                app.send_task(TASK_MODERATE, args=[str(comment_id)], retry=False, connection=conn)
        except Exception:
            with lock:
                down_until = time.monotonic() + cooldown
            raise

    return publish

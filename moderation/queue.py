"""Publishing moderation tasks by name, so the API never imports task code."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from celery import Celery

TASK_MODERATE = "moderation.moderate_comment"


def publisher(app: Celery) -> Callable[[uuid.UUID], None]:
    """A ``publish(comment_id)`` function bound to ``app``; raises if the broker is down."""

    def publish(comment_id: uuid.UUID) -> None:
        app.send_task(TASK_MODERATE, args=[str(comment_id)], retry=False)

    return publish

"""``GET /metrics``: Prometheus exposition of the API's and the workers' metrics."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import func, select

from moderation import metrics
from moderation.models import Comment, CommentStatus
from moderation.settings import Settings
from workers.app import QUEUE

router = APIRouter(tags=["operations"])
log = logging.getLogger(__name__)


def _pending(request: Request) -> metrics.QueueProbe:
    def probe() -> Iterator[tuple[str, dict[str, str], float]]:
        with request.app.state.sessionmaker() as session:
            rows = session.execute(
                select(Comment.priority, func.count())
                .where(Comment.status == CommentStatus.PENDING)
                .group_by(Comment.priority)
            ).all()
        counts = {priority.value: count for priority, count in rows}
        for priority in ("urgent", "high", "normal", "low"):
            yield "moderation_comments_pending", {"priority": priority}, float(counts.get(priority, 0))

    return probe


def _queue_client(request: Request) -> Any | None:
    """The app's one Redis client for the queue-length gauge (None when the broker is not
    Redis): built on the first scrape, then reused, with its connection pool."""
    state = request.app.state
    client = getattr(state, "metrics_queue_client", None)
    if client is None:
        url: str = state.settings.resolved_broker_url
        if not url.startswith(("redis://", "rediss://")):
            return None
        import redis

        client = state.metrics_queue_client = redis.Redis.from_url(
            url, socket_timeout=1, socket_connect_timeout=1
        )
    return client


def _redis_queue(request: Request) -> metrics.QueueProbe:
    def probe() -> Iterator[tuple[str, dict[str, str], float]]:
        client = _queue_client(request)
        if client is None:
            return
        import redis

        try:
            length = client.llen(QUEUE)
        except redis.RedisError as exc:
            log.warning("queue length unavailable: %s", exc.__class__.__name__)
            return
        yield "moderation_queue_length", {"queue": QUEUE}, float(length)

    return probe


@router.get("/metrics", include_in_schema=False)
def get_metrics(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    metrics.configure(settings)  # no-op after the first call in this process
    probes = [_pending(request), _redis_queue(request)]
    body, content_type = metrics.render(settings.resolved_metrics_dir, probes)
    return Response(body, media_type=content_type)

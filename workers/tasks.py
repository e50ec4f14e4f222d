"""Thin Celery tasks: take IDs, open one session, call a service function, store the result."""

from __future__ import annotations

import logging
import uuid
from functools import lru_cache

from sqlalchemy.exc import InterfaceError, OperationalError

from moderation.clients.behaviour import make_store
from moderation.hooks import AfterDecision, after_decision
from moderation.logs import bound
from moderation.review import service
from moderation.review.decide import FactsProvider, decide
from moderation.review.pipeline import get_pipeline
from moderation.settings import get_settings
from moderation.webhooks.service import celery_sender
from workers.app import celery_app
from workers.engine import decision_engine

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _facts() -> FactsProvider:
    return service.behaviour_facts(make_store(get_settings().redis_url))


@lru_cache(maxsize=1)
def _after_decision() -> AfterDecision:
    return after_decision(celery_sender(celery_app))


@celery_app.task(
    name="moderation.moderate_comment",
    acks_late=True,
    reject_on_worker_lost=True,
    # Transient database errors only: an IntegrityError would fail the same way every time.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    # A retry waits as an unacknowledged ETA message in the worker: past the visibility
    # timeout Redis would hand it to a second worker too (tests/faults/test_delivery_config.py).
    retry_backoff_max=min(60, get_settings().visibility_timeout // 2),
    max_retries=12,
    ignore_result=True,
)
def moderate_comment(comment_id: str) -> None:
    """Decide one pending comment. Triggered after the submitting transaction commits and by
    requeue-stuck. Idempotent: a comment already decided (by a duplicate delivery or by a
    moderator) is left alone. Must not publish anything else or touch other comments
    (webhook deliveries are published by the decision hook, after commit).

    "Thin" holds: the statements are :func:`moderation.review.decide.decide`'s; the unit of
    work is ``engine.begin()`` (on PostgreSQL an autocommit connection, see workers/engine.py)."""
    with bound(comment_id=comment_id):
        engine = decision_engine()
        with engine.begin() as conn:
            decided = decide(conn, uuid.UUID(comment_id), get_pipeline(), _facts())
        if decided is None:
            log.info("comment already decided or gone; nothing to do")
            return
        _after_decision()(engine, decided)  # metrics, log line, webhooks: after the commit

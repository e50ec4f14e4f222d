"""Thin Celery tasks: take IDs, open one session, call a service function, store the result."""

from __future__ import annotations

import logging
import uuid
from functools import lru_cache

from sqlalchemy.exc import InterfaceError, OperationalError

from moderation.clients.behaviour import BehaviourStore, make_store
from moderation.db import session_scope
from moderation.hooks import decision_hook
from moderation.logs import bound
from moderation.review import service
from moderation.review.pipeline import get_pipeline
from moderation.settings import get_settings
from moderation.webhooks.service import celery_sender
from workers.app import celery_app

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _behaviour_store() -> BehaviourStore:
    return make_store(get_settings().redis_url)


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
    (webhook deliveries are published by the decision hook, after commit)."""
    with bound(comment_id=comment_id):
        log.debug("moderating comment")
        with session_scope() as session:
            decision = service.moderate_comment(
                session=session,
                comment_id=uuid.UUID(comment_id),
                pipeline=get_pipeline(),
                facts=service.behaviour_facts(_behaviour_store()),
                on_decided=decision_hook(celery_sender(celery_app)),
            )
        if decision is None:  # the decision hook logs the decision itself
            log.info("comment already decided or gone; nothing to do")

"""Reader reports: ``POST /api/v1/comments/{id}/reports`` (public, rate limited per address)."""

from __future__ import annotations

import logging
import uuid

from fastapi import APIRouter, HTTPException, Request, status

from moderation.accounts.service import keyed_hash
from moderation.api.deps import SessionDep, SettingsDep
from moderation.api.schemas import ErrorBody
from moderation.api.schemas_moderation import ReportAccepted, ReportCreate
from moderation.clients.ratelimit import Limit, RateLimiter
from moderation.review.reports import report_comment

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["comments"])


def _limiter(request: Request) -> RateLimiter:
    # The app's shared limiter: Redis when configured, else in-process (create_app sets it).
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


@router.post(
    "/comments/{comment_id}/reports",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReportAccepted,
    responses={code: {"model": ErrorBody} for code in (404, 413, 415, 422, 429)},
    summary="Report a published comment to the moderators",
)
def report(
    comment_id: uuid.UUID, payload: ReportCreate, request: Request, session: SessionDep, settings: SettingsDep
) -> ReportAccepted:
    """Each reader (by address) counts once per comment. Once the open reports reach
    ``MODERATION_REPORT_THRESHOLD`` the comment is unpublished and queued for a moderator."""
    address = request.client.host if request.client else "unknown"
    reporter = keyed_hash(settings.resolved_secret_key(), "reporter|" + address)
    try:
        verdict = _limiter(request).hit(
            "reports", reporter, Limit(settings.report_rate_limit, settings.report_rate_window_seconds)
        )
    except Exception:  # the limiter's store is down: fail open, as submissions do
        log.warning("rate limiter unavailable; allowing the report", exc_info=True)
        verdict = None
    if verdict is not None and not verdict.allowed:
        raise HTTPException(
            429,
            "Too many reports from your address; try again later.",
            {"Retry-After": str(verdict.retry_after)},
        )
    report_comment(
        session=session,
        comment_id=comment_id,
        reason=payload.reason,
        note=payload.note,
        reporter_hash=reporter,
        threshold=settings.report_threshold,
    )
    return ReportAccepted()

"""Request and response bodies of the moderator API (``/api/v1/moderation``) and reports."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from moderation.accounts.models import Role
from moderation.models import CommentStatus, DecisionSource
from moderation.review.policy import Priority
from moderation.review.queue_service import Action, RejectReason
from moderation.review.reports import ReportReason


class _Decide(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Action
    reason: RejectReason | None = Field(None, description="Required to reject.")
    note: str | None = Field(None, max_length=2000, description="Kept in the audit trail.")

    @model_validator(mode="after")
    def _reason_for_reject(self) -> _Decide:
        if self.action is Action.REJECT and self.reason is None:
            raise ValueError("reason is required to reject (spam, abuse, unsafe_medical, off_topic, other)")
        return self


class DecisionCreate(_Decide):
    version: int = Field(ge=1, description="The comment version the moderator loaded.")


class BulkItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment_id: uuid.UUID
    version: int = Field(ge=1)


class BulkDecisionCreate(_Decide):
    items: list[BulkItem] = Field(min_length=1, max_length=200)


class AuthorDecisionCreate(_Decide):
    pass


class ReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: ReportReason
    note: str | None = Field(None, max_length=1000)


class ReportAccepted(BaseModel):
    received: bool = True
    message: str = "Thank you. A moderator will look at this comment."


class ClaimRead(BaseModel):
    moderator: str
    claimed_at: datetime
    expires_at: datetime
    mine: bool


class CommentStateRead(BaseModel):
    id: uuid.UUID
    status: CommentStatus
    priority: Priority
    version: int
    decided_at: datetime | None
    updated_at: datetime


class QueueItemRead(BaseModel):
    id: uuid.UUID
    article: str
    author_name: str
    excerpt: str
    status: CommentStatus
    priority: Priority
    categories: list[str]
    crisis: bool
    open_reports: int
    created_at: datetime
    version: int
    claim: ClaimRead | None


class CountsRead(BaseModel):
    views: dict[str, int] = Field(description="Items per tab: urgent, flagged, reported, pending, ...")
    categories: dict[str, int] = Field(description="Flagged items per category.")


class QueuePage(BaseModel):
    view: str
    items: list[QueueItemRead]
    next_cursor: str | None
    counts: CountsRead


class ReasonRead(BaseModel):
    code: str
    category: str
    rule_id: str = ""
    span: list[int] | None = None
    detail: str = ""
    score: float = 1.0
    matched: str | None = Field(None, description="The text the span covers.")


class DecisionRead(BaseModel):
    id: int
    source: DecisionSource
    decision: CommentStatus
    priority: Priority
    categories: list[str]
    reasons: list[ReasonRead]
    scores: dict[str, float]
    versions: dict[str, str]
    actor: str | None
    note: str | None
    created_at: datetime


class ReportRead(BaseModel):
    id: int
    reason: str
    note: str | None
    created_at: datetime
    resolved_at: datetime | None


class AuditRead(BaseModel):
    id: int
    created_at: datetime
    actor: str
    action: str
    comment_id: uuid.UUID | None
    from_status: str | None
    to_status: str | None
    reason: str | None
    note: str | None
    details: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditRead]
    next_cursor: str | None


class SegmentRead(BaseModel):
    text: str
    categories: list[str]
    codes: list[str]


class AuthorRead(BaseModel):
    name: str
    email: str | None
    url: str | None
    ip: str | None
    user_agent: str | None


class RecentRead(BaseModel):
    id: uuid.UUID
    excerpt: str
    status: CommentStatus
    created_at: datetime


class SupportRead(BaseModel):
    message: str
    resources: list[str]


class CommentDetail(BaseModel):
    id: uuid.UUID
    article: str
    article_title: str
    body: str
    censored_body: str | None
    author: AuthorRead
    status: CommentStatus
    priority: Priority
    version: int
    created_at: datetime
    decided_at: datetime | None
    crisis: bool
    support: SupportRead | None = Field(None, description="What the reader was shown, for crisis items.")
    highlights: list[SegmentRead]
    decisions: list[DecisionRead]
    reports: list[ReportRead]
    audit: list[AuditRead]
    claim: ClaimRead | None
    author_recent: list[RecentRead]


class BulkResultItem(BaseModel):
    comment_id: uuid.UUID
    outcome: str = Field(description="decided, conflict, claimed or not_found")
    status: CommentStatus | None
    version: int | None
    message: str


class BulkResult(BaseModel):
    decided: int
    results: list[BulkResultItem]


class ModeratorRead(BaseModel):
    name: str
    role: Role
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None

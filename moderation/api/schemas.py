"""Request and response bodies of the public API. Internal scores never appear here."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, HttpUrl, field_validator

from moderation.models import CommentStatus
from moderation.settings import get_settings


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Annotated[str, AfterValidator(_not_blank)] = Field(
        description="The comment text (at most MODERATION_MAX_BODY_CHARS characters)."
    )
    author_name: Annotated[str, AfterValidator(_not_blank)] = Field(
        "Anonymous", max_length=80, description="Display name."
    )
    author_email: EmailStr | None = Field(None, max_length=320, description="Never published.")
    author_url: HttpUrl | None = Field(None, description="Optional website (http or https).")
    parent_id: uuid.UUID | None = Field(None, description="The comment this one replies to.")

    @field_validator("body")
    @classmethod
    def _body_length(cls, value: str) -> str:
        limit = get_settings().max_body_chars
        if len(value) > limit:
            raise ValueError(f"must be at most {limit} characters (got {len(value)})")
        return value

    @field_validator("author_url")
    @classmethod
    def _url_length(cls, value: HttpUrl | None) -> HttpUrl | None:
        if value is not None and len(str(value)) > 2048:
            raise ValueError("must be at most 2048 characters")
        return value


class Support(BaseModel):
    """Shown at once to a reader whose comment reads as a crisis."""

    message: str
    resources: list[str]


class CommentAccepted(BaseModel):
    id: uuid.UUID
    article: str
    status: CommentStatus
    created_at: datetime
    status_url: str
    support: Support | None = None


class CommentStatusRead(BaseModel):
    id: uuid.UUID
    article: str
    status: CommentStatus
    message: str = Field(description="What the reader sees about the outcome.")
    created_at: datetime
    decided_at: datetime | None
    body: str | None = Field(None, description="The published text, once approved.")
    support: Support | None = None


class PublishedComment(BaseModel):
    id: uuid.UUID
    parent_id: uuid.UUID | None
    author_name: str
    author_url: str | None
    body: str
    created_at: datetime
    replies: list[PublishedComment] = Field(default_factory=list)


class CommentPage(BaseModel):
    article: str
    title: str
    items: list[PublishedComment]
    next_cursor: str | None


class ArticleRead(BaseModel):
    slug: str
    title: str
    summary: str


class ErrorBody(BaseModel):
    error: str
    message: str

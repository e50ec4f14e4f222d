"""Typed dependencies: one session per request, committed by the dependency."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from moderation.db import session_scope
from moderation.review.pipeline import Pipeline
from moderation.settings import Settings


def get_session(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.sessionmaker) as session:
        yield session


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_publish(request: Request) -> Callable[[uuid.UUID], None]:
    publish: Callable[[uuid.UUID], None] = request.app.state.publish
    return publish


def get_pipeline_dep(request: Request) -> Pipeline:
    pipeline: Pipeline = request.app.state.pipeline()
    return pipeline


# scope="function": the transaction commits when the endpoint returns, BEFORE the response is
# sent (FastAPI's default runs the exit code after sending it). A commit that fails is then a
# 503, not a 202 for a comment that was never stored (tests/faults/test_database_down.py).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
PublishDep = Annotated[Callable[[uuid.UUID], None], Depends(get_publish)]
PipelineDep = Annotated[Pipeline, Depends(get_pipeline_dep)]

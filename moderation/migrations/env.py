"""Alembic environment: the connection comes from ``moderation.migrate`` (or the settings)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from moderation.all_models import metadata
from moderation.db import make_engine
from moderation.settings import get_settings


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTER TABLE support
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(
        context.config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url
    )
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()

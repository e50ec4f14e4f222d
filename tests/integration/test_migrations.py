"""Models and Alembic migrations must not drift, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from moderation.all_models import metadata
from moderation.migrate import alembic_config


def test_models_match_migrations(backend):
    with backend.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_database_is_at_every_head(backend):
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    with backend.engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    assert current == heads

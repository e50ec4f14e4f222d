"""The database engine the moderation task decides with.

On PostgreSQL the worker keeps an engine of its own, in autocommit mode and without a
pre-ping: deciding a comment is one ``SELECT`` and one statement that both updates the comment
and inserts its decision (:mod:`moderation.review.decide`), which is atomic by itself, so
``BEGIN``, ``COMMIT`` and the ping would be three extra round trips per comment. A connection
that died (database restarted, network cut) fails its statement with ``OperationalError``;
SQLAlchemy then discards the pool's connections and the task is retried with backoff, as
for any transient database error. SQLite keeps the shared engine, whose transactions take
the write lock up front (``BEGIN IMMEDIATE``, :func:`moderation.db.make_engine`).
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine

from moderation.db import get_engine, make_engine
from moderation.settings import get_settings


@lru_cache(maxsize=1)
def decision_engine() -> Engine:
    url = get_settings().resolved_database_url
    if not url.startswith("postgresql"):
        return get_engine()
    # One task at a time per process (prefork), a few for the threads pool.
    return make_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=False, pool_size=2, max_overflow=8)

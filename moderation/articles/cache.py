"""What a submission needs of an article, cached per API process for a few seconds.

Every submission needs the article's id and its submission rules (``closes_at``,
``max_length``); reading them costs a query per comment although they change rarely. The
API keeps them in an :class:`ArticleCache` (one per app) for :data:`ARTICLE_CACHE_SECONDS`:

* a policy change made through this process's admin API is applied at once (the route drops
  the entry after its commit);
* a change made anywhere else (the CLI, another API process or host) is applied within
  :data:`ARTICLE_CACHE_SECONDS`;
* an unknown slug is never cached: an article created a moment ago is found at once.

Articles are never deleted by the service; should one be removed by hand, the insert of a
comment for it fails on the foreign key and the caller drops the entry (:meth:`forget`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from cachetools import TTLCache
from sqlalchemy import Connection, bindparam, select

from moderation.articles.policy import SubmissionRules, submission_rules
from moderation.models import Article

# The longest a submission goes on using an article's rules after they changed elsewhere.
ARTICLE_CACHE_SECONDS = 5.0
# More distinct articles than this within ARTICLE_CACHE_SECONDS: the least recently used go.
ARTICLE_CACHE_SIZE = 10_000

_BY_SLUG = select(Article.id, Article.slug, Article.policy).where(Article.slug == bindparam("slug"))


@dataclass(frozen=True, slots=True)
class ArticleRef:
    """The columns a submission needs: the id, the slug and the parsed submission rules."""

    id: int
    slug: str
    rules: SubmissionRules


class ArticleCache:
    """slug → :class:`ArticleRef`, each entry read at most ``ttl`` seconds ago."""

    def __init__(
        self, ttl: float = ARTICLE_CACHE_SECONDS, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._entries: TTLCache[str, ArticleRef] = TTLCache(ARTICLE_CACHE_SIZE, ttl, timer=clock)
        # cachetools caches are not thread-safe; the API's submissions run on a thread pool.
        self._lock = threading.Lock()

    @property
    def ttl(self) -> float:
        return float(self._entries.ttl)

    def get(self, conn: Connection, slug: str) -> ArticleRef | None:
        """The article's ref from the cache, else from ``conn``; ``None`` if there is none."""
        with self._lock:
            ref = self._entries.get(slug)
        if ref is not None:
            return ref
        row = conn.execute(_BY_SLUG, {"slug": slug}).first()
        if row is None:
            return None
        ref = ArticleRef(row.id, row.slug, submission_rules(row.policy))
        with self._lock:
            self._entries[slug] = ref
        return ref

    def forget(self, slug: str) -> None:
        with self._lock:
            self._entries.pop(slug, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

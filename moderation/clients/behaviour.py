"""Behaviour state for spam signals: duplicates, floods and first comments, with expiry.

Two implementations of one small interface, :class:`BehaviourStore`:

* :class:`RedisBehaviourStore` keeps one sorted set per key (member = comment, score = time)
  and counts the members inside the window in a single pipelined round trip; every key
  expires with its window, so nothing needs cleaning.
* :class:`MemoryBehaviourStore` is the fallback for the embedded, Redis-less deployment: the
  same sliding windows in a dict, guarded by a lock. It is per process, which matches the
  embedded mode (one process runs the pipeline); it was preferred over SQL queries because
  the comment table's indexes are not this module's to rely on, and a duplicate check
  should not add a query per comment to SQLite.

Keys never contain raw personal data: author, e-mail, IP and text are hashed (sha256,
truncated) after normalisation.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from moderation.filters.normalize import normalize
from moderation.filters.types import AuthorFacts

_NON_WORD = re.compile(r"[\W_]+")
_DIGITS = re.compile(r"\d+")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_PUNCT = re.compile(r"[^\w\s@$|]+")


@dataclass(frozen=True, slots=True)
class Windows:
    duplicate_seconds: int = 3600
    flood_seconds: int = 600
    # How long an author counts as "seen" (a later comment is no longer a first comment).
    seen_seconds: int = 180 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Sighting:
    """One incoming comment, as the behaviour store sees it."""

    text: str
    author: str = ""
    email: str | None = None
    ip: str | None = None
    comment_id: str | None = None


def text_keys(text: str) -> tuple[str, ...]:
    """Hashes under which "the same or nearly the same text" collides.

    The first ignores case, accents, leetspeak, punctuation, spacing and numbers ("Check my
    channel!!! 1" == "check my channel 2"); the second also ignores word order and repeats
    (bag of words of three letters or more), which catches lightly shuffled spam.
    """
    # Punctuation goes first, or the normaliser would read "channel!!!" as leetspeak.
    folded = _URL.sub(" u ", normalize(_PUNCT.sub(" ", _URL.sub(" u ", text))).folded.text)
    skeleton = _NON_WORD.sub("", _DIGITS.sub("", folded))
    words = sorted({w for w in _NON_WORD.split(_DIGITS.sub(" ", folded)) if len(w) >= 3})
    keys = [_h("t", skeleton)] if skeleton else []
    if len(words) >= 3:
        keys.append(_h("w", " ".join(words)))
    return tuple(keys)


def _h(kind: str, value: str) -> str:
    return kind + ":" + hashlib.sha256(value.encode()).hexdigest()[:24]


def identity_keys(s: Sighting) -> tuple[list[str], list[str]]:
    """(author keys, ip keys). Author means the display name and, separately, the e-mail."""
    author = [_h("a", s.author.strip().casefold())] if s.author.strip() else []
    if s.email:
        author.append(_h("e", s.email.strip().casefold()))
    ip = [_h("i", s.ip.strip())] if s.ip else []
    return author, ip


class BehaviourStore(Protocol):
    def observe(self, sighting: Sighting) -> AuthorFacts:
        """Record a comment and return facts about what came *before* it."""
        ...


class RedisBehaviourStore:
    """Sliding windows in Redis sorted sets. ``redis`` is an injected ``redis.Redis``."""

    def __init__(
        self,
        redis: Any,
        *,
        windows: Windows | None = None,
        prefix: str = "moderation:behaviour:",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = redis
        self.windows = windows or Windows()
        self.prefix = prefix
        self.clock = clock

    def observe(self, sighting: Sighting) -> AuthorFacts:
        now = self.clock()
        member = sighting.comment_id or uuid.uuid4().hex
        texts = text_keys(sighting.text)
        authors, ips = identity_keys(sighting)
        counted: list[tuple[str, str, int]] = [("dup", k, self.windows.duplicate_seconds) for k in texts]
        counted += [("author", k, self.windows.flood_seconds) for k in authors]
        counted += [("ip", k, self.windows.flood_seconds) for k in ips]
        pipe = self.redis.pipeline(transaction=True)
        for _, key, window in counted:
            full = self.prefix + key
            pipe.zremrangebyscore(full, "-inf", now - window)
            pipe.zcard(full)
            pipe.zadd(full, {member: now})
            pipe.expire(full, window)
        for key in authors:
            # SET NX answers "first time we see this author" and marks them in one command.
            pipe.set(self.prefix + "seen:" + key, 1, nx=True, ex=self.windows.seen_seconds)
        results = pipe.execute()
        counts: dict[str, int] = {"dup": 0, "author": 0, "ip": 0}
        for i, (kind, _, _) in enumerate(counted):
            counts[kind] = max(counts[kind], int(results[4 * i + 1]))
        seen_results = results[4 * len(counted) :]
        return AuthorFacts(
            # First comment only if every identity (name, e-mail) is new.
            is_first_comment=bool(seen_results) and all(bool(r) for r in seen_results),
            recent_from_author=counts["author"],
            recent_from_ip=counts["ip"],
            recent_same_text=counts["dup"],
        )


class MemoryBehaviourStore:
    """The same windows in process memory, for deployments without Redis."""

    def __init__(
        self,
        *,
        windows: Windows | None = None,
        clock: Callable[[], float] = time.time,
        max_keys: int = 100_000,
    ) -> None:
        self.windows = windows or Windows()
        self.clock = clock
        self.max_keys = max_keys
        self._events: dict[str, deque[float]] = {}
        self._seen: dict[str, float] = {}  # key -> expiry
        self._lock = threading.Lock()

    def _count_and_add(self, key: str, now: float, window: int) -> int:
        events = self._events.get(key)
        if events is None:
            if len(self._events) >= self.max_keys:
                self._evict(now)
            events = self._events[key] = deque()
        while events and events[0] <= now - window:
            events.popleft()
        count = len(events)
        events.append(now)
        return count

    def _evict(self, now: float) -> None:
        # Drop keys whose newest event is older than the longest window, then, if still
        # full, the oldest half: bounded memory matters more than a perfect count.
        horizon = now - max(self.windows.duplicate_seconds, self.windows.flood_seconds)
        for key in [k for k, ev in self._events.items() if not ev or ev[-1] <= horizon]:
            del self._events[key]
        if len(self._events) >= self.max_keys:
            for key in sorted(self._events, key=lambda k: self._events[k][-1])[: self.max_keys // 2]:
                del self._events[key]
        for key in [k for k, exp in self._seen.items() if exp <= now]:
            del self._seen[key]

    def observe(self, sighting: Sighting) -> AuthorFacts:
        now = self.clock()
        authors, ips = identity_keys(sighting)
        with self._lock:
            dup = max(
                (
                    self._count_and_add(k, now, self.windows.duplicate_seconds)
                    for k in text_keys(sighting.text)
                ),
                default=0,
            )
            by_author = max(
                (self._count_and_add(k, now, self.windows.flood_seconds) for k in authors), default=0
            )
            by_ip = max((self._count_and_add(k, now, self.windows.flood_seconds) for k in ips), default=0)
            first = bool(authors)
            for key in authors:
                expiry = self._seen.get(key)
                if expiry is not None and expiry > now:
                    first = False
                self._seen[key] = now + self.windows.seen_seconds
        return AuthorFacts(
            is_first_comment=first,
            recent_from_author=by_author,
            recent_from_ip=by_ip,
            recent_same_text=dup,
        )


def make_store(redis_url: str) -> BehaviourStore:
    """Redis when configured (shared by every worker), else the in-process fallback."""
    if redis_url:
        import redis

        return RedisBehaviourStore(
            redis.Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)
        )
    return MemoryBehaviourStore()

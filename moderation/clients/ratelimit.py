"""Fixed-window rate limits for submissions, per client IP and per author.

:class:`RedisRateLimiter` shares the counters between every API process (INCR plus EXPIRE in
one pipelined round trip; the key expires with its window). :class:`MemoryRateLimiter` is the
embedded fallback when no Redis is configured: the same windows in one process.

A limiter whose store fails raises, and the API then lets the submission through (fail open).
After a failure the Redis limiter leaves its store alone for ``cooldown`` seconds, raising at
once: a Redis that accepts connections and never answers costs one socket timeout per
cooldown, not one per submission (as the broker publish does, ``moderation.queue``).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Limit:
    count: int
    window: int  # seconds


@dataclass(frozen=True, slots=True)
class Outcome:
    allowed: bool
    retry_after: int  # seconds until the window resets (0 when allowed)


class RateLimiter(Protocol):
    def hit(self, scope: str, key: str, limit: Limit) -> Outcome: ...


def _key(scope: str, key: str, window_start: int) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]  # no raw IPs or names in Redis
    return f"moderation:rl:{scope}:{digest}:{window_start}"


class StoreUnavailableError(ConnectionError):
    """The limiter's store failed moments ago; it was not asked."""


class RedisRateLimiter:
    def __init__(self, client: Any, clock: Callable[[], float] = time.time, cooldown: float = 2.0) -> None:
        self.client = client
        self.clock = clock
        self.cooldown = cooldown
        self._down_until = 0.0

    @classmethod
    def from_url(cls, url: str, timeout: float = 0.5) -> RedisRateLimiter:
        """A limiter on the Redis at ``url`` that waits at most ``timeout`` for it, once:
        redis-py would otherwise retry a failed command ten times, with backoff."""
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
        )
        return cls(client)

    def hit(self, scope: str, key: str, limit: Limit) -> Outcome:
        if time.monotonic() < self._down_until:
            raise StoreUnavailableError("rate limiter store unavailable")
        now = int(self.clock())
        start = now - now % limit.window
        name = _key(scope, key, start)
        pipe = self.client.pipeline(transaction=False)
        pipe.incr(name)
        pipe.expire(name, limit.window + 1)
        try:
            count = int(pipe.execute()[0])
        except Exception:
            self._down_until = time.monotonic() + self.cooldown
            raise
        if count <= limit.count:
            return Outcome(True, 0)
        return Outcome(False, max(1, start + limit.window - now))


class MemoryRateLimiter:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def hit(self, scope: str, key: str, limit: Limit) -> Outcome:
        now = int(self.clock())
        start = now - now % limit.window
        name = _key(scope, key, start)
        with self._lock:
            if len(self._counts) > 100_000:  # drop windows that have ended
                live = f":{start}"
                self._counts = {k: v for k, v in self._counts.items() if k.endswith(live)}
            count = self._counts.get(name, 0) + 1
            self._counts[name] = count
        if count <= limit.count:
            return Outcome(True, 0)
        return Outcome(False, max(1, start + limit.window - now))

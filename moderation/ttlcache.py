"""A small per-process cache whose entries expire after a fixed time (time-to-live).

For lookups that are read on every request but change rarely (an article's submission
rules): an entry is served for at most ``ttl`` seconds after it was read, so a change made
anywhere (admin API, CLI, another process) is seen within ``ttl``. Not thread-safe beyond
what a dict gives: two threads may both miss and both load, which is harmless for a cache.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """``get`` returns the entry stored less than ``ttl`` seconds ago, else ``None``.

    At most ``maxsize`` entries are kept: when full, the whole cache is dropped (cheap, and
    a cache this size only fills up when something asks for many distinct keys).
    """

    def __init__(
        self, ttl: float, *, maxsize: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.maxsize = maxsize
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._clock() - entry[0] >= self.ttl:
            self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, key: K, value: V) -> V:
        if len(self._entries) >= self.maxsize:
            self._entries.clear()
        self._entries[key] = (self._clock(), value)
        return value

    def forget(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

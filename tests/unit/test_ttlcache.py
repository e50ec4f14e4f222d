"""The per-process TTL cache (moderation.ttlcache)."""

from __future__ import annotations

from moderation.ttlcache import TTLCache


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_the_ttl():
    clock = Clock()
    cache: TTLCache[str, int] = TTLCache(5.0, clock=clock)
    assert cache.get("a") is None
    assert cache.put("a", 1) == 1
    clock.now = 4.9
    assert cache.get("a") == 1
    clock.now = 5.0
    assert cache.get("a") is None
    assert len(cache) == 0  # an expired entry is dropped when seen


def test_forget_clear_and_the_size_bound():
    cache: TTLCache[int, str] = TTLCache(60.0, maxsize=3)
    for i in range(3):
        cache.put(i, str(i))
    cache.forget(1)
    assert cache.get(1) is None
    assert cache.get(0) == "0"
    cache.put(3, "3")
    cache.put(4, "4")  # full: everything older is dropped
    assert len(cache) == 1
    assert cache.get(4) == "4"
    cache.clear()
    assert cache.get(4) is None

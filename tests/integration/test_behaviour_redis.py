"""Behaviour store against the real Redis (db 14, flushed around each test) and in memory."""

from __future__ import annotations

import pytest
import redis

from moderation.clients.behaviour import (
    MemoryBehaviourStore,
    RedisBehaviourStore,
    Sighting,
    Windows,
    text_keys,
)
from moderation.filters.types import AuthorFacts
from tests.helpers import slot_redis_url

REDIS_URL = slot_redis_url()


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture(params=["redis", "memory"])
def store(request, clock):
    windows = Windows(duplicate_seconds=100, flood_seconds=10, seen_seconds=1000)
    if request.param == "memory":
        return MemoryBehaviourStore(windows=windows, clock=clock)
    return RedisBehaviourStore(request.getfixturevalue("redis_client"), windows=windows, clock=clock)


pytestmark = pytest.mark.redis


def test_duplicates_count_earlier_copies_and_expire(store, clock):
    assert store.observe(Sighting("Check out my channel!!!", author="a")).recent_same_text == 0
    clock.now += 1
    assert store.observe(Sighting("check out my CHANNEL", author="b")).recent_same_text == 1
    clock.now += 1
    # Nearly the same: numbers, accents, leetspeak and word order differ.
    assert store.observe(Sighting("ch3ck out my channel 2", author="c")).recent_same_text == 2
    assert store.observe(Sighting("my channel: check out", author="d")).recent_same_text == 3
    assert store.observe(Sighting("something else entirely", author="e")).recent_same_text == 0
    clock.now += 101
    assert store.observe(Sighting("check out my channel", author="f")).recent_same_text == 0


def test_floods_by_author_email_and_ip(store, clock):
    for i in range(4):
        store.observe(Sighting(f"comment {i} about ketamine", author="Ann", ip="10.0.0.1"))
        clock.now += 1
    facts = store.observe(Sighting("one more", author="Ann", ip="10.0.0.1"))
    assert (facts.recent_from_author, facts.recent_from_ip) == (4, 4)
    # A new name from the same e-mail and IP is still the same flood.
    store.observe(Sighting("first by email", author="Bob", email="x@example.com"))
    facts = store.observe(Sighting("again", author="Robert", email="X@Example.com", ip="10.0.0.1"))
    assert facts.recent_from_author == 1
    assert facts.recent_from_ip == 5
    clock.now += 11
    assert store.observe(Sighting("later", author="Ann", ip="10.0.0.1")) == AuthorFacts(
        is_first_comment=False, recent_from_author=0, recent_from_ip=0, recent_same_text=0
    )


def test_first_comment(store, clock):
    assert store.observe(Sighting("hello", author="Zoe", email="z@example.com")).is_first_comment
    assert not store.observe(Sighting("hello again", author="Zoe", email="z@example.com")).is_first_comment
    # A known e-mail under a new name is not a first comment; an anonymous one never is.
    assert not store.observe(Sighting("hi", author="Zed", email="z@example.com")).is_first_comment
    assert not store.observe(Sighting("hi", ip="10.0.0.9")).is_first_comment
    if isinstance(store, MemoryBehaviourStore):
        clock.now += 1001
        assert store.observe(Sighting("back", author="Zoe", email="z@example.com")).is_first_comment
    else:
        # Redis expires "seen" on its own clock: check the TTL instead of waiting for it.
        ttls = [store.redis.ttl(k) for k in store.redis.keys(store.prefix + "seen:*")]
        assert ttls
        assert all(0 < t <= 1000 for t in ttls)


def test_redis_keys_hold_no_personal_data_and_expire(redis_client, clock):
    store = RedisBehaviourStore(redis_client, clock=clock)
    store.observe(Sighting("Buy pills", author="Ann", email="ann@example.com", ip="10.1.2.3"))
    keys = [k.decode() for k in redis_client.keys("*")]
    assert keys
    for key in keys:
        assert "ann" not in key.lower()
        assert "10.1.2.3" not in key
        assert redis_client.ttl(key) > 0


def test_text_keys_ignore_noise():
    assert text_keys("Check out my channel!!! 1") == text_keys("check out my channel 2")
    assert text_keys("check out my channel") != text_keys("read the article please")
    assert text_keys("!!!") == ()

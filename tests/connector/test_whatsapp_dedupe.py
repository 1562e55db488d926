"""Redelivered messages are answered once: in-process LRU+TTL, shared Redis, and the fallback when Redis is down."""

from __future__ import annotations

import logging
import uuid

from wa_support import free_port

from connectors.whatsapp.dedupe import KEY_PREFIX, Deduplicator, SeenIds


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_seen_ids_answer_once():
    seen = SeenIds(capacity=10, ttl_seconds=60)
    assert seen.add("wamid.1") is True
    assert seen.add("wamid.1") is False
    assert seen.add("wamid.2") is True


def test_seen_ids_forget_after_the_ttl():
    clock = Clock()
    seen = SeenIds(capacity=10, ttl_seconds=60, clock=clock)
    seen.add("wamid.1")
    clock.now += 59
    assert seen.add("wamid.1") is False
    clock.now += 2
    assert seen.add("wamid.1") is True


def test_seen_ids_are_bounded_and_evict_the_oldest():
    seen = SeenIds(capacity=3, ttl_seconds=60)
    for n in range(5):
        seen.add(f"wamid.{n}")
    assert len(seen) == 3
    assert seen.add("wamid.4") is False  # recent: still known
    assert seen.add("wamid.0") is True  # evicted


async def test_without_redis_the_in_process_store_answers():
    dedupe = Deduplicator(capacity=100, ttl_seconds=60)
    assert not dedupe.uses_redis
    assert [await dedupe.first_seen(i) for i in ("a", "a", "b", "a")] == [True, False, True, False]


async def test_redis_is_shared_between_instances_with_the_ttl():
    """The real Redis (CI runs one on 127.0.0.1:6379): two Rasa instances answer a redelivery once."""
    import redis

    url = "redis://127.0.0.1:6379/5"
    wamid = f"wamid.{uuid.uuid4().hex}"
    first = Deduplicator(capacity=100, ttl_seconds=604800, redis_url=url)
    second = Deduplicator(capacity=100, ttl_seconds=604800, redis_url=url)  # another Rasa instance
    try:
        assert first.uses_redis and second.uses_redis
        assert await first.first_seen(wamid) is True
        assert await second.first_seen(wamid) is False
        # kept for as long as Meta may redeliver (days), then forgotten
        ttl = redis.Redis.from_url(url).ttl(KEY_PREFIX + wamid)
        assert 604000 < ttl <= 604800
    finally:
        await first.close()
        await second.close()


async def test_unreachable_redis_falls_back_and_never_drops_a_message(caplog):
    caplog.set_level(logging.WARNING)
    dedupe = Deduplicator(
        capacity=100, ttl_seconds=60, redis_url=f"redis://127.0.0.1:{free_port()}/0", redis_timeout_seconds=0.5
    )
    assert await dedupe.first_seen("wamid.1") is True  # answered, not dropped
    assert await dedupe.first_seen("wamid.1") is False  # and still deduplicated, in process
    assert await dedupe.first_seen("wamid.2") is True
    assert caplog.text.count("Redis unreachable") == 1  # one warning per outage, not per message
    await dedupe.close()

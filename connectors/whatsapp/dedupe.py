"""Meta redelivers webhooks (for days) and sends duplicates: the message id (wamid) is the idempotency key.

With REDIS_URL the "seen" mark is shared by every Rasa instance (`SET key 1 NX EX ttl`); without it, or while
Redis is unreachable, a bounded in-process LRU with TTL answers. A Redis outage never drops a message.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

KEY_PREFIX = "care:whatsapp:seen:"


class SeenIds:
    """In-process store: at most `capacity` ids, each forgotten after `ttl_seconds` (oldest evicted first)."""

    def __init__(self, capacity: int, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = max(capacity, 1)
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._expiry: collections.OrderedDict[str, float] = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._expiry)

    def add(self, key: str) -> bool:
        """Mark `key` as seen; True when it was not seen (or its mark had expired)."""
        now = self._clock()
        expiry = self._expiry.get(key)
        if expiry is not None and expiry > now:
            return False
        self._expiry[key] = now + self.ttl_seconds
        self._expiry.move_to_end(key)
        self._evict(now)
        return True

    def _evict(self, now: float) -> None:
        # insertion order == expiry order (one TTL for all), so expired marks are at the front
        while self._expiry and next(iter(self._expiry.values())) <= now:
            self._expiry.popitem(last=False)
        while len(self._expiry) > self.capacity:
            self._expiry.popitem(last=False)


class Deduplicator:
    def __init__(
        self,
        capacity: int,
        ttl_seconds: int,
        redis_url: str = "",
        *,
        redis_client: Any = None,
        redis_timeout_seconds: float = 1.0,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.local = SeenIds(capacity, ttl_seconds)
        self._redis_url = redis_url
        self._redis = redis_client
        self._redis_timeout = redis_timeout_seconds
        self._redis_down = False

    @classmethod
    def from_settings(cls, settings: Any) -> Deduplicator:
        return cls(settings.dedupe_capacity, settings.dedupe_ttl_seconds, settings.redis_url)

    @property
    def uses_redis(self) -> bool:
        return bool(self._redis_url or self._redis is not None)

    async def first_seen(self, message_id: str) -> bool:
        """True exactly once per message id (within the TTL): the caller answers only then."""
        if not self.local.add(message_id):
            return False  # this process saw it already: no need to ask Redis
        if not self.uses_redis:
            return True
        try:
            was_set = await asyncio.wait_for(
                self._client().set(KEY_PREFIX + message_id, 1, nx=True, ex=self.ttl_seconds), self._redis_timeout
            )
        except Exception as exc:  # noqa: BLE001 - any Redis failure: answer rather than drop the message
            if not self._redis_down:
                logger.warning("Redis unreachable for dedupe (%s); using the in-process store", type(exc).__name__)
            self._redis_down = True
            return True
        if self._redis_down:
            logger.info("Redis reachable again for dedupe")
            self._redis_down = False
        return bool(was_set)

    async def close(self) -> None:
        client, self._redis = self._redis, None
        if client is not None and self._redis_url:  # only close what we opened
            try:
                await client.close()
            except Exception:
                logger.debug("closing the Redis dedupe client failed", exc_info=True)

    def _client(self) -> Any:
        if self._redis is None:
            import redis.asyncio  # only when REDIS_URL is set

            self._redis = redis.asyncio.from_url(
                self._redis_url, socket_timeout=self._redis_timeout, socket_connect_timeout=self._redis_timeout
            )
        return self._redis

"""Rasa's Redis lock store, waiting 50 ms instead of 1 s between tries for a busy conversation.

With several Rasa processes, two messages of one sender can reach different processes; the second waits for
the first's lock. Rasa polls for it once a second, so a user who sends two messages quickly waits up to a
second longer for the second answer, and the process sits idle if nothing else is ready. The lock itself
(tickets in Redis, one conversation at a time across processes) is Rasa's, unchanged.

endpoints.production.yml: `lock_store: {type: rasa_tuning.lock_store.RedisLockStore, url: ..., port: ..., db: ...}`
"""
from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Optional

from rasa.core import lock_store as rasa_lock_store
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME

POLL_SECONDS = 0.05


class RedisLockStore(rasa_lock_store.RedisLockStore):
    def __init__(self, endpoint_config: Optional[Any] = None, **kwargs: Any) -> None:
        # Rasa builds a custom lock store from its endpoint config; its own Redis store takes the parts
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

    @asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = POLL_SECONDS
    ) -> AsyncIterator[TicketLock]:
        async with super().lock(conversation_id, lock_lifetime, wait_time_in_seconds) as ticket_lock:
            yield ticket_lock

"""A Redis ticket lock for Rasa's conversations: one message of a sender at a time, across Rasa processes.

Rasa's own `RedisLockStore` keeps each lock as one JSON value: taking and giving back a lock costs about
seven Redis round trips (get, set, get, get, set, get, delete), each parsed on the conversation thread,
and issuing a ticket is a read-then-write, so two processes can hand out the same ticket. It also polls a
busy lock once a second. Here each conversation is a sorted set of tickets in Redis, and two Lua scripts
do the work atomically: `enter` draws the next ticket and says whether it is first in line (one round trip);
`leave` gives it back (one round trip). A busy conversation is asked again every 50 ms.

The rules are Rasa's: first come, first served; a ticket lives `lock_lifetime` seconds, so a process that
died holding one blocks the sender for at most that long; a ticket that is gone when its turn is asked for
raises Rasa's `LockError`. Both keys expire with the newest ticket, so Redis never keeps a dead lock.

endpoints.production.yml: `lock_store: {type: rasa_tuning.lock_store.RedisLockStore, url: ..., port: ..., db: ...}`
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from rasa.core import lock_store as rasa_lock_store
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError

POLL_SECONDS = 0.05

logger = logging.getLogger(__name__)

# KEYS[1] the line (sorted set: member "ticket:expiry_ms", score ticket); ARGV[1] the ticket.
# Drops expired tickets ahead of it. 1: its turn, 0: wait, -1: the ticket is gone (expired).
_TURN = """
local function turn(line, ticket)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  while true do
    local head = redis.call('ZRANGE', line, 0, 0)
    if #head == 0 then return -1 end
    local sep = string.find(head[1], ':', 1, true)
    local first = tonumber(string.sub(head[1], 1, sep - 1))
    if first == ticket then return 1 end
    if first > ticket then return -1 end
    if tonumber(string.sub(head[1], sep + 1)) >= now then return 0 end
    redis.call('ZREM', line, head[1])
  end
end
"""

# KEYS[1] the line, KEYS[2] the ticket counter; ARGV[1] lifetime in ms. Returns {ticket, turn}.
_ENTER = (
    _TURN
    + """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ticket = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], ticket, ticket .. ':' .. (now + tonumber(ARGV[1])))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return {ticket, turn(KEYS[1], ticket)}
"""
)

_ASK = _TURN + "return turn(KEYS[1], tonumber(ARGV[1]))"

# KEYS[1] the line, KEYS[2] the counter; ARGV[1] the ticket. The last one out removes both keys.
_LEAVE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1])
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('DEL', KEYS[1], KEYS[2]) end
return 1
"""


class RedisLockStore(rasa_lock_store.RedisLockStore):
    def __init__(self, endpoint_config: Any | None = None, **kwargs: Any) -> None:
        # Rasa builds a custom lock store from its endpoint config; its own Redis store takes the parts
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)
        self._enter = self.red.register_script(_ENTER)
        self._ask = self.red.register_script(_ASK)
        self._leave = self.red.register_script(_LEAVE)

    def _keys(self, conversation_id: str) -> list[str]:
        base = f"{self.key_prefix}{conversation_id}"
        return [f"{base}:line", f"{base}:tickets"]

    @asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = POLL_SECONDS
    ) -> AsyncIterator[TicketLock]:
        keys = self._keys(conversation_id)
        try:
            ticket, turn = self._enter(keys=keys, args=[max(int(lock_lifetime * 1000), 1)])
        except Exception as exc:  # Rasa's callers expect its LockError for a store that fails
            raise LockError(f"Error while acquiring lock. Error:\n{exc}") from exc
        try:
            while turn == 0:
                await asyncio.sleep(wait_time_in_seconds)
                turn = self._ask(keys=keys[:1], args=[ticket])
            if turn < 0:
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            yield TicketLock(conversation_id)
        finally:
            try:
                self._leave(keys=keys, args=[ticket])
            except Exception as exc:  # noqa: BLE001 - the reply is out; the ticket expires with its lifetime
                logger.warning("could not give back a conversation lock (%s)", type(exc).__name__)

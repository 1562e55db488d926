"""The production lock store (a ticket line in Redis, two Lua scripts) against the real Redis.

Two store instances stand for two Rasa processes, as in test_rasa_stores.py.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest
from rasa.core.lock_store import LockError, LockStore
from rasa.core.utils import AvailableEndpoints

from rasa_tuning import lock_store as tuned
from rasa_tuning.lock_store import POLL_SECONDS, RedisLockStore
from tests.connector.wa_support import free_port
from tests.stores.test_rasa_stores import REDIS, ROOT, until


def _store() -> RedisLockStore:
    return RedisLockStore(db=1, **REDIS)


def _conversation() -> str:
    return f"test-{uuid.uuid4().hex}"


async def _handle(store: RedisLockStore, conversation: str, name: str, hold: float, order: list[str], **kw) -> None:
    async with store.lock(conversation, **kw):
        order.append(f"{name} in")
        if hold:
            await asyncio.sleep(hold)
        order.append(f"{name} out")


def test_one_message_of_a_sender_at_a_time_first_come_first_served():
    conversation, order = _conversation(), []
    a, b, c = _store(), _store(), _store()

    async def main() -> None:
        held = asyncio.create_task(_handle(a, conversation, "A", 0.3, order))
        await until(lambda: order == ["A in"])
        second = asyncio.create_task(_handle(b, conversation, "B", 0.05, order))
        await until(lambda: a.red.zcard(a._keys(conversation)[0]) == 2)  # B is in line behind A
        await asyncio.gather(held, second, _handle(c, conversation, "C", 0.0, order))

    asyncio.run(main())
    assert order == ["A in", "A out", "B in", "B out", "C in", "C out"]


def test_other_senders_are_not_held_up():
    order: list[str] = []

    async def main() -> None:
        held = asyncio.create_task(_handle(_store(), _conversation(), "A", 0.3, order))
        await until(lambda: order == ["A in"])
        await asyncio.gather(held, _handle(_store(), _conversation(), "B", 0.0, order))

    asyncio.run(main())
    assert order == ["A in", "B in", "B out", "A out"]


def test_processes_asking_at_the_same_instant_never_share_a_turn():
    """Rasa's own store reads the lock, adds a ticket and writes it back: two processes can draw the same
    ticket and both go in. Here a ticket is drawn inside Redis, so 12 threads at once still take turns."""
    conversation, inside, overlaps, done = _conversation(), [0], [], []
    start = threading.Barrier(12)

    def process(index: int) -> None:
        store = _store()

        async def main() -> None:
            async with store.lock(conversation, wait_time_in_seconds=0.005):
                inside[0] += 1
                if inside[0] > 1:
                    overlaps.append(index)
                await asyncio.sleep(0.01)
                inside[0] -= 1
            done.append(index)

        start.wait()
        asyncio.run(main())

    threads = [threading.Thread(target=process, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(done) == list(range(12))
    assert overlaps == []


def test_a_process_that_died_holding_the_lock_blocks_the_sender_only_for_the_lifetime():
    conversation, store = _conversation(), _store()
    keys = store._keys(conversation)
    _ticket, turn = store._enter(keys=keys, args=[300])  # taken with a 0.3 s lifetime, never given back
    assert turn == 1
    order: list[str] = []
    started = time.monotonic()
    asyncio.run(_handle(_store(), conversation, "B", 0.0, order))
    waited = time.monotonic() - started
    assert order == ["B in", "B out"]
    assert 0.2 <= waited < 2.0


def test_a_ticket_that_is_gone_when_its_turn_is_asked_raises_rasas_lock_error():
    conversation, holder = _conversation(), _store()
    keys = holder._keys(conversation)
    holder._enter(keys=keys, args=[60_000])  # someone is in for a minute

    async def main() -> None:
        waiting = asyncio.create_task(_handle(_store(), conversation, "B", 0.0, []))
        await asyncio.sleep(0.1)
        holder.red.delete(keys[0])  # the line vanished (expired, or Redis evicted it)
        await asyncio.wait_for(waiting, 5)

    with pytest.raises(LockError):
        asyncio.run(main())


def test_redis_keeps_nothing_once_the_last_message_is_answered():
    conversation, store = _conversation(), _store()
    asyncio.run(_handle(store, conversation, "A", 0.0, []))
    assert store.red.exists(*store._keys(conversation)) == 0


def test_an_unheld_lock_costs_two_redis_round_trips():
    store, commands = _store(), []
    real = store.red.execute_command

    def counted(*args, **kwargs):
        commands.append(args[0])
        return real(*args, **kwargs)

    store.red.execute_command = counted
    asyncio.run(_handle(store, _conversation(), "A", 0.0, []))
    assert commands == ["EVALSHA", "EVALSHA"]  # Rasa's own store: GET, SET, GET, GET, SET, GET, DEL


def test_a_second_process_retries_the_busy_conversation_every_50_ms(monkeypatch):
    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def recorded_sleep(seconds: float) -> None:
        waits.append(seconds)
        await real_sleep(seconds)

    monkeypatch.setattr(tuned.asyncio, "sleep", recorded_sleep)
    conversation, order = _conversation(), []

    async def main() -> None:
        held = asyncio.create_task(_handle(_store(), conversation, "A", 0.3, order))
        await real_sleep(0.05)
        await asyncio.gather(held, _handle(_store(), conversation, "B", 0.0, order))  # the defaults Rasa uses

    asyncio.run(main())
    assert order == ["A in", "A out", "B in", "B out"]
    retries = [w for w in waits if w != 0.3]  # A's hold aside
    assert retries and set(retries) == {POLL_SECONDS}  # Rasa's own store waits a whole second each time


def test_redis_down_is_rasas_lock_error_not_a_hang():
    store = RedisLockStore(host="127.0.0.1", port=free_port(), socket_timeout=0.5)

    async def main() -> None:
        async with store.lock(_conversation()):
            pass

    with pytest.raises(LockError):
        asyncio.run(asyncio.wait_for(main(), 10))


def test_the_production_endpoints_build_it(monkeypatch):
    for key, value in {
        "ACTION_ENDPOINT_URL": "http://127.0.0.1:5055/webhook",
        "REDIS_HOST": REDIS["host"],
        "REDIS_PORT": str(REDIS["port"]),
        "REDIS_LOCK_DB": "4",
        "REDIS_PASSWORD": "",
        "TRACKER_DB_HOST": "127.0.0.1",
        "TRACKER_DB_PORT": "5432",
        "TRACKER_DB_NAME": "test",
        "TRACKER_DB_USER": "postgres",
        "TRACKER_DB_PASSWORD": "",
    }.items():
        monkeypatch.setenv(key, value)
    config = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.production.yml"))
    store = LockStore.create(config.lock_store)
    assert type(store) is RedisLockStore
    store.red.ping()
    assert store.red.connection_pool.connection_kwargs["db"] == 4

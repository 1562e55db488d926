"""The production lock store: Rasa's Redis ticket lock, retried every 50 ms, against the real Redis."""
from __future__ import annotations

import asyncio
import uuid

from rasa.core import lock_store as rasa_lock_store
from rasa.core.lock_store import LockStore
from rasa.core.utils import AvailableEndpoints

from rasa_tuning.lock_store import POLL_SECONDS, RedisLockStore
from tests.stores.test_rasa_stores import REDIS, ROOT


def test_a_second_process_retries_the_busy_conversation_every_50_ms(monkeypatch):
    conversation = f"test-{uuid.uuid4().hex}"
    first, second = RedisLockStore(db=1, **REDIS), RedisLockStore(db=1, **REDIS)
    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def recorded_sleep(seconds: float) -> None:
        waits.append(seconds)
        await real_sleep(seconds)

    monkeypatch.setattr(rasa_lock_store.asyncio, "sleep", recorded_sleep)
    order: list[str] = []

    async def handle(store: RedisLockStore, name: str, hold: float) -> None:
        async with store.lock(conversation):  # the defaults Rasa's agent uses
            order.append(f"{name} in")
            await real_sleep(hold)
            order.append(f"{name} out")

    async def main() -> None:
        held = asyncio.create_task(handle(first, "A", 0.3))
        await real_sleep(0.05)
        await asyncio.gather(held, handle(second, "B", 0.0))

    asyncio.run(main())
    assert order == ["A in", "A out", "B in", "B out"]  # still one message of a sender at a time
    assert waits and set(waits) == {POLL_SECONDS}  # Rasa's own store waits a whole second each time


def test_the_production_endpoints_build_it(monkeypatch):
    for key, value in {"ACTION_ENDPOINT_URL": "http://127.0.0.1:5055/webhook", "REDIS_HOST": REDIS["host"],
                       "REDIS_PORT": str(REDIS["port"]), "REDIS_LOCK_DB": "4", "TRACKER_DB_HOST": "127.0.0.1",
                       "TRACKER_DB_PORT": "5432", "TRACKER_DB_NAME": "test", "TRACKER_DB_USER": "postgres",
                       "TRACKER_DB_PASSWORD": ""}.items():
        monkeypatch.setenv(key, value)
    config = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.production.yml"))
    store = LockStore.create(config.lock_store)
    assert type(store) is RedisLockStore
    store.red.ping()
    assert store.red.connection_pool.connection_kwargs["db"] == 4

"""Rasa's stores against the real services CI has: PostgreSQL (tracker store) and Redis (lock store).

Production runs several Rasa processes sharing these; the tests use two store instances to stand for two
processes. The embedded default (SQLite file) is checked the same way.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from rasa.core.lock_store import RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

ROOT = Path(__file__).resolve().parents[2]
PG = dict(
    dialect="postgresql",
    host=os.environ.get("TEST_PG_HOST", "127.0.0.1"),
    port=int(os.environ.get("TEST_PG_PORT", "5432")),
    db=os.environ.get("TEST_PG_DB", "test"),
    username=os.environ.get("TEST_PG_USER", "postgres"),
)
REDIS = dict(host=os.environ.get("TEST_REDIS_HOST", "127.0.0.1"), port=int(os.environ.get("TEST_REDIS_PORT", "6379")))


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain"))


def _conversation(sender: str) -> list:
    return [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        SlotSet("role", "patient"),
        ActionExecuted("action_listen"),
        UserUttered("hi", intent={"name": "greet", "confidence": 0.99}),
        ActionExecuted("utter_greet"),
        BotUttered("Hello!"),
        ActionExecuted("action_listen"),
    ]


async def _round_trip(writer: SQLTrackerStore, reader: SQLTrackerStore, domain: Domain) -> None:
    sender = f"test-{uuid.uuid4().hex}"
    tracker = DialogueStateTracker.from_events(sender, _conversation(sender), slots=domain.slots)
    await writer.save(tracker)
    # the other "process" sees the conversation, slots and all
    got = await reader.retrieve(sender)
    assert got is not None
    # the store returns the current session: everything from the last session start on
    current = list(tracker.events)[1:]
    assert [e.as_dict()["event"] for e in got.events] == [e.as_dict()["event"] for e in current]
    assert got.get_slot("role") == "patient"
    assert got.latest_message.intent["name"] == "greet"
    # appending later events keeps the earlier ones
    got.update(UserUttered("bye", intent={"name": "goodbye", "confidence": 0.9}))
    await reader.save(got)
    again = await writer.retrieve(sender)
    assert again.latest_message.text == "bye"
    assert len(again.events) == len(current) + 1


def test_postgresql_tracker_store_shared_by_two_processes(domain):
    try:
        a, b = SQLTrackerStore(domain, **PG), SQLTrackerStore(domain, **PG)
    except Exception as exc:  # noqa: BLE001  # pragma: no cover - a CI machine without the service is a failed run
        pytest.fail(f"PostgreSQL at {PG['host']}:{PG['port']} not reachable: {exc}")
    asyncio.run(_round_trip(a, b, domain))


def test_sqlite_tracker_store_embedded_default(domain, tmp_path):
    db = str(tmp_path / "tracker.db")
    asyncio.run(
        _round_trip(
            SQLTrackerStore(domain, dialect="sqlite", db=db), SQLTrackerStore(domain, dialect="sqlite", db=db), domain
        )
    )


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Waits for a state instead of a fixed sleep, so a slow machine does not change the order asked."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the state the test waits for never came"
        await asyncio.sleep(0.005)


def test_redis_lock_store_serialises_one_conversation_across_processes():
    conversation = f"test-{uuid.uuid4().hex}"
    first, second = RedisLockStore(db=1, **REDIS), RedisLockStore(db=1, **REDIS)
    order: list[str] = []

    async def handle(store: RedisLockStore, name: str, hold: float) -> None:
        async with store.lock(conversation, wait_time_in_seconds=0.01):
            order.append(f"{name} in")
            await asyncio.sleep(hold)
            order.append(f"{name} out")

    async def main() -> None:
        t1 = asyncio.create_task(handle(first, "A", 0.3))
        await until(lambda: order == ["A in"])  # A holds the lock when B asks
        await asyncio.gather(t1, handle(second, "B", 0.0))

    asyncio.run(main())
    # B never runs inside A's turn: messages of one sender are handled one after the other
    assert order == ["A in", "A out", "B in", "B out"]


def test_redis_lock_store_does_not_block_other_conversations():
    store_a, store_b = RedisLockStore(db=1, **REDIS), RedisLockStore(db=1, **REDIS)
    order: list[str] = []

    async def handle(store: RedisLockStore, conv: str, name: str, hold: float) -> None:
        async with store.lock(conv, wait_time_in_seconds=0.01):
            order.append(f"{name} in")
            await asyncio.sleep(hold)
            order.append(f"{name} out")

    async def main() -> None:
        t1 = asyncio.create_task(handle(store_a, f"a-{uuid.uuid4().hex}", "A", 0.3))
        await until(lambda: order == ["A in"])
        await asyncio.gather(t1, handle(store_b, f"b-{uuid.uuid4().hex}", "B", 0.0))

    asyncio.run(main())
    assert order == ["A in", "B in", "B out", "A out"]

"""`bench/run.py --production` deletes its own conversations from the tracker database, and only those."""

from __future__ import annotations

import asyncio
import uuid

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bench.run import forget_conversations
from tests.stores.test_rasa_stores import PG, domain  # noqa: F401 - the fixture


def test_the_benchmark_deletes_its_conversations_and_keeps_the_others(domain):
    store = SQLTrackerStore(domain, **PG)
    bench_sender, other = f"bench-{uuid.uuid4().hex}", f"other-{uuid.uuid4().hex}"

    async def write() -> None:
        for sender in (bench_sender, other):
            tracker = DialogueStateTracker(sender, domain.slots)
            tracker.update(UserUttered("hi", intent={"name": "greet", "confidence": 1.0}))
            tracker.update(UserUttered("menu", intent={"name": "menu", "confidence": 1.0}))
            await store.save(tracker)

    asyncio.run(write())
    url = "postgresql://{username}@{host}:{port}/{db}".format(**PG)
    assert forget_conversations(url, {bench_sender}) == 2
    assert asyncio.run(store.retrieve(bench_sender)) is None
    assert [e.text for e in asyncio.run(store.retrieve(other)).events] == ["hi", "menu"]
    assert forget_conversations(url, {other}) == 2  # and leaves nothing behind itself

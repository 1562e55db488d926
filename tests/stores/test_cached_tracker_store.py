"""The cached SQL tracker store gives back exactly what Rasa's SQL store would, on SQLite and PostgreSQL,
also when another Rasa process answered the same sender in between."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered

from rasa_tuning.tracker_store import CachedSQLTrackerStore
from tests.stores.test_rasa_stores import PG, domain  # noqa: F401 - the fixture


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path) -> dict:
    return PG if request.param == "postgresql" else dict(dialect="sqlite", db=str(tmp_path / "tracker.db"))


def _turn(text: str, intent: str, reply: str) -> list:
    return [
        UserUttered(text, intent={"name": intent, "confidence": 0.9}),
        ActionExecuted(f"utter_{intent}"),
        BotUttered(reply),
        ActionExecuted("action_listen"),
    ]


def _session_start() -> list:
    return [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]


def _dicts(tracker) -> list[dict]:
    return [event.as_dict() for event in tracker.events] if tracker else []


async def _message(store, reference: SQLTrackerStore, sender: str, events: list, domain) -> None:
    """One message as Rasa's processor handles it: read (or create), append, save; then both stores agree."""
    tracker = await store.get_or_create_tracker(sender)
    for event in events:
        tracker.update(event, domain)
    await store.save(tracker)
    mine, rasas = await store.retrieve(sender), await reference.retrieve(sender)
    assert _dicts(mine) == _dicts(rasas)
    assert mine.current_slot_values() == rasas.current_slot_values()


def test_same_trackers_as_rasas_store_through_a_conversation_and_a_new_session(db, domain):
    store, reference = CachedSQLTrackerStore(domain, **db), SQLTrackerStore(domain, **db)
    sender = f"test-{uuid.uuid4().hex}"

    async def conversation() -> None:
        await _message(store, reference, sender, _session_start() + _turn("hi", "greet", "Hello!"), domain)
        await _message(store, reference, sender, [SlotSet("role", "patient")] + _turn("menu", "menu", "Menu"), domain)
        await _message(store, reference, sender, _turn("help", "help", "I can..."), domain)
        # the session expired: Rasa returns only the new session from now on
        await _message(store, reference, sender, _session_start() + _turn("hello", "greet", "Hello again"), domain)
        await _message(store, reference, sender, _turn("thanks", "thank", "You're welcome"), domain)

    asyncio.run(conversation())
    tracker = asyncio.run(store.retrieve(sender))
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["hello", "thanks"]
    assert tracker.get_slot("role") is None  # not carried over into the new session
    assert store.hits >= 4  # the later reads came from memory


def test_the_rows_written_are_the_rows_rasas_store_writes(db, domain):
    store, reference = CachedSQLTrackerStore(domain, **db), SQLTrackerStore(domain, **db)
    ours, rasas = f"test-{uuid.uuid4().hex}", f"test-{uuid.uuid4().hex}"
    messages = [
        _session_start() + _turn("hi", "greet", "Hello!"),
        [SlotSet("role", "patient")],
        _turn("menu", "menu", "Menu"),
    ]

    async def conversation(saver, sender: str) -> None:
        for events in messages:
            tracker = await saver.get_or_create_tracker(sender)
            for event in events:
                tracker.update(event, domain)
            await saver.save(tracker)

    def rows(sender: str) -> list:
        table = store.SQLEvent.__table__
        columns = [table.c.type_name, table.c.timestamp, table.c.intent_name, table.c.action_name, table.c.data]
        with store.engine.connect() as conn:
            return [
                tuple(row)
                for row in conn.execute(sa.select(*columns).where(table.c.sender_id == sender).order_by(table.c.id))
            ]

    asyncio.run(conversation(store, ours))
    asyncio.run(conversation(reference, rasas))
    mine, theirs = rows(ours), rows(rasas)
    assert len(mine) == 1 + 3 + 4 + 1 + 4  # the first: the action_listen a new tracker starts with
    # the same columns, timestamps aside (each save stamps its own)
    strip = [
        (kind, intent, action, {k: v for k, v in json.loads(data).items() if k != "timestamp"})
        for kind, _, intent, action, data in mine
    ]
    assert strip == [
        (kind, intent, action, {k: v for k, v in json.loads(data).items() if k != "timestamp"})
        for kind, _, intent, action, data in theirs
    ]
    assert [intent for _, _, intent, _, _ in mine if intent] == ["greet", "menu"]


def test_a_tracker_handed_out_earlier_is_not_changed_by_later_messages(db, domain):
    """Trackers of successive messages share the session's event objects (made once per row)."""
    store, reference = CachedSQLTrackerStore(domain, **db), SQLTrackerStore(domain, **db)
    sender = f"test-{uuid.uuid4().hex}"

    async def conversation() -> tuple:
        await _message(store, reference, sender, _session_start() + _turn("hi", "greet", "Hello!"), domain)
        earlier = await store.retrieve(sender)
        before = (_dicts(earlier), earlier.current_slot_values(), earlier.latest_message.text)
        later = await store.retrieve(sender)
        later.model_id = "another-model"  # as Rasa's processor does: it stamps the events it adds, only those
        for event in [SlotSet("role", "staff")] + _turn("menu", "menu", "Menu"):
            later.update(event, domain)
        await store.save(later)
        assert _dicts(await store.retrieve(sender)) == _dicts(await reference.retrieve(sender))
        return earlier, before

    earlier, before = asyncio.run(conversation())
    assert (_dicts(earlier), earlier.current_slot_values(), earlier.latest_message.text) == before
    assert store.hits >= 2


def test_the_next_message_starts_from_the_rule_states_already_worked_out(db, domain):
    """The rule policy's states of a conversation are worked out once, not again from the start of the session
    on every message; they come out as Rasa's own code makes them from the stored conversation."""
    from rasa.shared.core.trackers import DialogueStateTracker

    from rasa_tuning import applied_events, rule_states, speedups

    MEMOS = (rule_states.MEMO_ATTR, applied_events.MEMO_ATTR)

    speedups.install()
    rasas_states = DialogueStateTracker.past_states.__wrapped__
    store, reference = CachedSQLTrackerStore(domain, **db), SQLTrackerStore(domain, **db)
    sender = f"test-{uuid.uuid4().hex}"
    messages = [
        _session_start() + _turn("hi", "greet", "Hello!"),
        [SlotSet("role", "patient")],
        _turn("menu", "menu", "Menu"),
        _turn("help", "help", "I can..."),
        _turn("bye", "goodbye", "Bye"),
    ]

    async def conversation() -> list:
        memos = []
        for n, events in enumerate(messages):
            tracker = await store.get_or_create_tracker(sender)
            carried = [tracker.__dict__.get(attr) for attr in MEMOS]
            walks = applied_events.full_walks
            for event in events:
                tracker.update(event, domain)
                tracker.past_states(domain)  # a prediction after each step, as the rule policy makes them
            memos.append((carried, [tracker.__dict__.get(attr) for attr in MEMOS]))
            # the applied events are walked from the start once per message at most, and not at all once the
            # session is under way (the 2nd message's tracker no longer holds the events before SessionStarted)
            assert applied_events.full_walks - walks == (1 if n < 2 else 0)
            await store.save(tracker)
            stored = await reference.retrieve(sender)
            assert tracker.past_states(domain) == rasas_states(stored, domain)
        return memos

    memos = asyncio.run(conversation())
    assert memos[0][0] == [None, None]
    # every later message continued the states its predecessor left (a new states memo would mean a replay)
    for (_, (states_left, applied_left)), (carried, (states_used, _)) in itertools.pairwise(memos):
        assert carried == [states_left, applied_left] and states_used is states_left


def test_a_tracker_copied_from_the_last_saved_one_is_the_tracker_its_events_make(db, domain):
    from rasa.shared.core.events import ActiveLoop
    from rasa.shared.core.trackers import DialogueStateTracker

    from rasa_tuning import speedups
    from tests.rasa.test_tracker_copy import _state

    speedups.install()
    store, reference = CachedSQLTrackerStore(domain, **db), SQLTrackerStore(domain, **db)
    sender = f"test-{uuid.uuid4().hex}"
    messages = [
        _session_start() + _turn("hi", "greet", "Hello!"),
        [SlotSet("role", "patient"), ActiveLoop("patient_login_form"), SlotSet("login_phone", "98765")],
        _turn("menu", "menu", "Menu"),
        [ActiveLoop(None)] + _session_start() + _turn("hey", "greet", "Hi"),
    ]

    async def conversation() -> None:
        for events in messages:
            await _message(store, reference, sender, events, domain)
            mine = await store.retrieve(sender)
            replayed = DialogueStateTracker.from_events(sender, list(mine.events), domain.slots)
            assert _state(mine) == _state(replayed)

    asyncio.run(conversation())
    assert store.copies >= 3


def test_another_process_answering_in_between_is_seen(db, domain):
    first, second = CachedSQLTrackerStore(domain, **db), CachedSQLTrackerStore(domain, **db)
    reference = SQLTrackerStore(domain, **db)
    sender = f"test-{uuid.uuid4().hex}"

    async def conversation() -> None:
        await _message(first, reference, sender, _session_start() + _turn("hi", "greet", "Hello!"), domain)
        await _message(second, reference, sender, _turn("my records", "records", "Here they are"), domain)
        # `first` still holds the conversation as it left it; it must read the second process's turn
        await _message(first, reference, sender, _turn("thanks", "thank", "You're welcome"), domain)

    asyncio.run(conversation())
    texts = [e.text for e in asyncio.run(reference.retrieve(sender)).events if isinstance(e, UserUttered)]
    assert texts == ["hi", "my records", "thanks"]


def test_a_small_cache_forgets_senders_but_not_their_conversations(db, domain):
    store, reference = CachedSQLTrackerStore(domain, cache_size=1, **db), SQLTrackerStore(domain, **db)
    senders = [f"test-{uuid.uuid4().hex}" for _ in range(3)]

    async def conversations() -> None:
        for sender in senders:
            await _message(store, reference, sender, _session_start() + _turn("hi", "greet", "Hello!"), domain)
        for sender in senders:
            await _message(store, reference, sender, _turn("menu", "menu", "Menu"), domain)

    asyncio.run(conversations())
    assert len(store._sessions) == 1
    for sender in senders:
        assert len(asyncio.run(store.retrieve(sender)).events) == 3 + 4 + 4


@pytest.mark.parametrize(
    "endpoints, env",
    [
        ("endpoints.yml", {"TRACKER_SQLITE_PATH": "{tmp}/tracker.db"}),
        (
            "endpoints.production.yml",
            {
                "TRACKER_DB_HOST": PG["host"],
                "TRACKER_DB_PORT": str(PG["port"]),
                "TRACKER_DB_NAME": PG["db"],
                "TRACKER_DB_USER": PG["username"],
                "TRACKER_DB_PASSWORD": "",
            },
        ),
    ],
)
def test_both_endpoint_files_give_the_cached_store(endpoints, env, domain, monkeypatch, tmp_path):
    """Rasa falls back to an in-memory store, with only a warning, when a store's class cannot be imported:
    conversations would then be lost on restart. The class path in the endpoint files must resolve."""
    from rasa.core.tracker_store import TrackerStore
    from rasa.core.utils import AvailableEndpoints

    from connectors.whatsapp.health import _unwrap
    from tests.stores.test_rasa_stores import ROOT

    for key, value in {
        "ACTION_ENDPOINT_URL": "http://127.0.0.1:5055/webhook",
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": "6379",
        "REDIS_LOCK_DB": "4",
        "REDIS_PASSWORD": "",
        **env,
    }.items():
        monkeypatch.setenv(key, value.format(tmp=tmp_path))
    config = AvailableEndpoints.read_endpoints(str(ROOT / endpoints))
    store = _unwrap(TrackerStore.create(config.tracker_store, domain))
    assert type(store) is CachedSQLTrackerStore


def test_the_embedded_sqlite_file_is_written_ahead(domain, tmp_path):
    store = CachedSQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_a_dropped_database_connection_is_reopened_and_nothing_is_lost(domain):
    """PostgreSQL restarted, or a proxy closed the idle connection the store keeps per thread: the next
    message still reads the whole conversation, and what it adds is stored."""
    store, reference = CachedSQLTrackerStore(domain, **PG), SQLTrackerStore(domain, **PG)
    sender = f"test-{uuid.uuid4().hex}"

    def kill_store_connection() -> None:
        backend = store._connection().execute(sa.text("SELECT pg_backend_pid()")).scalar()
        with reference.engine.connect() as admin:
            admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})

    async def conversation() -> None:
        await _message(store, reference, sender, _session_start() + _turn("hi", "greet", "Hello!"), domain)
        kill_store_connection()
        await _message(store, reference, sender, _turn("menu", "menu", "Menu"), domain)
        kill_store_connection()
        await _message(store, reference, sender, _turn("help", "help", "I can..."), domain)

    asyncio.run(conversation())
    assert store.hits >= 2  # still answered from memory after each reconnect
    tracker = asyncio.run(reference.retrieve(sender))
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["hi", "menu", "help"]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_the_per_message_question_has_its_own_index(dialect, domain, tmp_path):
    """max(id) for one sender: with Rasa's index on sender_id alone, PostgreSQL walked the primary key
    backwards through the whole table for a sender with no rows (25 ms a message at 80,000 rows)."""
    db = PG if dialect == "postgresql" else dict(dialect="sqlite", db=str(tmp_path / "tracker.db"))
    store = CachedSQLTrackerStore(domain, **db)
    indexes = {index["name"]: index["column_names"] for index in sa.inspect(store.engine).get_indexes("events")}
    assert indexes.get("ix_events_sender_id_id") == ["sender_id", "id"]

"""Rasa's SQL tracker store with each recent conversation's current session also kept in memory.

Rasa reads the whole current session from SQL at the start of every message (a query with a subquery, an
ORM object per row, JSON per event) and, to save, counts the stored rows again before inserting the new
ones. On the benchmark that was a third of the conversation CPU. This store keeps what that read would
return (the session's rows as stored: type, timestamp, JSON) per sender in a bounded LRU, and asks SQL
only for the newest row id of the sender:
- the id matches: the tracker is rebuilt from memory (same JSON, same order, same session slicing);
- it doesn't (another Rasa process answered this sender since, or the row was never seen): Rasa's read.
Saving inserts exactly the rows Rasa would and updates the entry, which also keeps the saved tracker: while
the rows are exactly its events, the next message's tracker is its copy (no replay of the session). SQL stays
the only truth: every event is written before the reply counts as done, and a restart or another process
simply reads it back.
Memory: ~150 kB per sender kept with a 20-message session (~96 kB without the saved tracker and the rule-state
memos), so ~300 MB for a full cache of 2000 senders; lower `cache_size` on a small machine.

endpoints.yml: `tracker_store: {type: rasa_tuning.tracker_store.CachedSQLTrackerStore, ...}` with the
usual SQL keys, plus optional `cache_size` (senders kept; default 2000).

Where rasa_tuning runs plain Rasa (`RASA_TUNING=off`, or other Rasa versions than it was tested with), this
store is Rasa's `SQLTrackerStore` and nothing more: same rows, so processes of either kind can share a database.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import json
import threading
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

import rasa_tuning
from rasa_tuning import applied_events, rule_states
from rasa_tuning.applied_events import begins_with

DEFAULT_CACHE_SIZE = 2000


@dataclass
class _StoredEvent:
    type_name: str
    timestamp: float | None
    data: str  # the JSON text of the row
    # what Rasa's read makes of `data`, made once: JSON parsing and event construction for every row of the
    # session on every message cost 2.07 ms for a 43-row session, 0.17 ms without. None: not made yet; (): no event.
    events: tuple[Event, ...] | None = None

    def as_events(self) -> tuple[Event, ...]:
        if self.events is None:
            self.events = tuple(deserialise_events([json.loads(self.data)]))
        return self.events


@dataclass
class _Session:
    """The rows Rasa's `_event_query` returns for a sender, and the newest row id the sender has."""

    last_id: int | None  # None: the sender has no rows
    rows: list[_StoredEvent] = field(default_factory=list)
    # (domain, tracker) as last saved: while the rows are exactly its events, the next tracker is its copy;
    # what it remembered of its own history (rule_states, applied_events) goes on to the next tracker
    saved: tuple[Any, DialogueStateTracker] | None = None

    def slice_to_latest_session(self) -> None:
        """Keep the rows SQL would return: timestamp >= the latest SessionStarted's (all when there is none)."""
        starts = [row.timestamp for row in self.rows if row.type_name == SessionStarted.type_name]
        known = [ts for ts in starts if ts is not None]
        if known:
            latest = max(known)
            self.rows = [row for row in self.rows if row.timestamp is not None and row.timestamp >= latest]


def _journal_ahead(engine: Any) -> None:
    """SQLite (the embedded default) in WAL mode with synchronous=NORMAL: a commit no longer waits for the
    disk (1.6 ms -> 0.02 ms here), and the conversation thread, which commits after every message, no longer
    stands still meanwhile. A crash of the process loses nothing; a power cut may lose the last commits."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


_MEMOS = (rule_states.MEMO_ATTR, applied_events.MEMO_ATTR)
_ROW_COLUMNS = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")


class _DriverSQL:
    """A statement compiled once and handed to the database driver as text. Through `conn.execute`, the
    save's multi-row INSERT was compiled again for every message (its values are not cached): 1.3-1.6 ms of
    CPU per save against 0.3 ms here, measured on PostgreSQL."""

    def __init__(self, engine: Any, statement: Any) -> None:
        compiled = statement.compile(dialect=engine.dialect)
        self.sql = compiled.string
        self.order = compiled.positiontup if compiled.positional else None  # SQLite's "?" parameters

    def run(self, conn: Any, params: dict[str, Any]) -> Any:
        return conn.exec_driver_sql(self.sql, tuple(params[k] for k in self.order) if self.order else params)


class CachedSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, cache_size: int | str = DEFAULT_CACHE_SIZE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tuned = rasa_tuning.tuned()  # False: every read and write is Rasa's own
        if self.tuned and self.engine.dialect.name == "sqlite":
            _journal_ahead(self.engine)
        self.cache_size = max(int(cache_size), 0) if self.tuned else 0
        self._sessions: collections.OrderedDict[str, _Session] = collections.OrderedDict()
        self.hits = self.misses = self.copies = 0
        self._local = threading.local()
        events = self.SQLEvent.__table__
        # the question's own index: with only Rasa's index on sender_id, PostgreSQL answers max(id) by walking
        # the primary key backwards, through the whole table for a new sender (25 ms at 80,000 rows)
        # (plain DDL, not an sa.Index: that would join the shared table's metadata, and Rasa's own store in the
        # same process would create it too)
        if self.tuned:
            with self.engine.begin() as conn:
                ddl = f"CREATE INDEX IF NOT EXISTS ix_events_sender_id_id ON {events.name} (sender_id, id)"
                conn.exec_driver_sql(ddl)
        self._newest_sql = _DriverSQL(
            self.engine, sa.select(sa.func.max(events.c.id)).where(events.c.sender_id == sa.bindparam("sender_id"))
        )
        self._inserts: dict[int, _DriverSQL] = {}  # by number of rows

    # --- reading --------------------------------------------------------------------------------------------

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        if not self.tuned:
            return await super().retrieve(sender_id)
        newest = self._newest(sender_id)
        cached = self._sessions.get(sender_id)
        if cached is not None and newest == cached.last_id:
            self.hits += 1
            self._sessions.move_to_end(sender_id)
            return self._tracker(sender_id, cached)
        self.misses += 1
        # rows stored after `newest` was read may come along; the next read then misses once more, no harm
        with self.session_scope() as session:
            loaded = self._load(session, sender_id, newest)
        # a sender with no rows is remembered too: Rasa creates and saves their tracker next
        self._remember(sender_id, loaded)
        return self._tracker(sender_id, loaded)

    # The question asked before every message goes through one open connection per thread, in autocommit:
    # an ORM session per message (check out, query object, rollback on close) cost 1 ms of CPU against
    # 0.12 ms here, and SQLite's default pool opened a new connection (and ran the pragmas) every time.

    def _connection(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = self._local.conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return conn

    def _drop_connection(self) -> None:
        conn, self._local.conn = getattr(self._local, "conn", None), None
        if conn is not None:
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                conn.close()

    def _newest(self, sender_id: str) -> int | None:
        """The sender's newest row id; asked once more on a new connection if the database dropped the old one."""
        try:
            return self._newest_on(self._connection(), sender_id)
        except sa.exc.DBAPIError as exc:
            self._drop_connection()
            if not exc.connection_invalidated:
                raise
        return self._newest_on(self._connection(), sender_id)

    def _newest_on(self, conn: Any, sender_id: str) -> int | None:
        return self._newest_sql.run(conn, {"sender_id": sender_id}).scalar()

    def _insert_sql(self, rows: int) -> _DriverSQL:
        sql = self._inserts.get(rows)
        if sql is None:
            table = self.SQLEvent.__table__
            statement = table.insert().values(
                [{column: sa.bindparam(f"{column}_{n}") for column in _ROW_COLUMNS} for n in range(rows)]
            )
            if self.engine.dialect.name == "postgresql":
                statement = statement.returning(table.c.id)  # the new ids come back: no second question
            sql = self._inserts[rows] = _DriverSQL(self.engine, statement)
        return sql

    def _load(self, session: Any, sender_id: str, newest: int | None) -> _Session:
        if newest is None:
            return _Session(last_id=None)
        # Rasa's own query (latest session only), reading the columns instead of whole ORM objects
        rows = (
            self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
            .with_entities(self.SQLEvent.type_name, self.SQLEvent.timestamp, self.SQLEvent.data)
            .all()
        )
        return _Session(last_id=newest, rows=[_StoredEvent(r.type_name, r.timestamp, r.data) for r in rows])

    def _tracker(self, sender_id: str, stored: _Session) -> DialogueStateTracker | None:
        """Rasa's `DialogueStateTracker.from_dict` on the rows' JSON, with each row's events made only once.
        Trackers of later messages share these event objects, as the trackers within one message already
        do: Rasa sets attributes only on events it is adding (metadata, timestamps), never on older ones."""
        if not self.domain or not stored.rows:
            return None
        events = [event for row in stored.rows for event in row.as_events()]
        domain, saved = stored.saved or (None, None)
        if (
            domain is self.domain
            and saved is not None
            and saved._max_event_history is None
            and len(saved.events) == len(events)
            and begins_with(events, saved.events)
        ):
            # the state those very events give, without replaying them (rasa_tuning.tracker_copy)
            tracker = saved.copy()
            self.copies += 1
        else:
            tracker = DialogueStateTracker.from_events(sender_id, events, self.domain.slots)
        if saved is not None:
            # safe whatever happened meanwhile: each memo is used only while the tracker's events begin with the
            # very event objects it was made from
            tracker.__dict__.update({attr: saved.__dict__[attr] for attr in _MEMOS if attr in saved.__dict__})
        return tracker

    def _remember(self, sender_id: str, stored: _Session) -> None:
        if self.cache_size == 0:
            return
        self._sessions[sender_id] = stored
        self._sessions.move_to_end(sender_id)
        while len(self._sessions) > self.cache_size:
            self._sessions.popitem(last=False)

    # --- writing --------------------------------------------------------------------------------------------

    async def save(self, tracker: DialogueStateTracker) -> None:
        cached = self._sessions.pop(tracker.sender_id, None)
        if cached is None or len(tracker.events) < len(cached.rows):  # or not tuned: nothing is ever cached
            # not read through this store (evicted meanwhile, or saved without a read): Rasa's way
            await super().save(tracker)
            return
        await self.stream_events(tracker)
        # the rows of this session are already stored: the same slice as Rasa's `_additional_events`
        new_rows, new_events = [], list(itertools.islice(tracker.events, len(cached.rows), None))
        for event in new_events:
            data = event.as_dict()
            new_rows.append(
                {
                    "sender_id": tracker.sender_id,
                    "type_name": event.type_name,
                    "timestamp": data.get("timestamp"),
                    "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                    "action_name": data.get("name"),
                    "data": json.dumps(data),
                }
            )
        if new_rows:
            try:
                conn = self._connection()
                # one statement for all rows (Rasa adds ORM objects one by one): stored whole or not at all
                result = self._insert_sql(len(new_rows)).run(
                    conn, {f"{column}_{n}": row[column] for n, row in enumerate(new_rows) for column in _ROW_COLUMNS}
                )
                # the sender's newest row is ours: their messages are handled one at a time (the lock store)
                cached.last_id = (
                    max(row[0] for row in result) if result.returns_rows else self._newest_on(conn, tracker.sender_id)
                )
            except sa.exc.DBAPIError:
                self._drop_connection()  # not retried: the rows may be stored already; the entry stays out
                raise
        # the saved event objects themselves, not a JSON round trip: the next tracker then starts with the very
        # objects the remembered states were made from, and its rule states need only the new message's events
        cached.rows.extend(
            _StoredEvent(row["type_name"], row["timestamp"], row["data"], events=(event,))
            for row, event in zip(new_rows, new_events, strict=True)
        )
        cached.saved = (self.domain, tracker)
        cached.slice_to_latest_session()
        self._remember(tracker.sender_id, cached)

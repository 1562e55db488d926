"""A small key-value store with expiry, shared by the Rasa server (connector) and the action server.

Backends: SQL through SQLAlchemy (SQLite file by default, PostgreSQL in production) and Redis. Values are
JSON. This is where tokens and a just-typed OTP or password live for seconds to hours — never in Rasa's
tracker — so every key has a time to live and expired keys are invisible even before they are purged.
"""

from __future__ import annotations

import json
import time
from typing import Any, Protocol

import sqlalchemy as sa


class KeyValueStore(Protocol):
    def get(self, key: str) -> Any | None: ...
    def set(self, key: str, value: Any, ttl_seconds: float) -> None: ...
    def pop(self, key: str) -> Any | None: ...
    def delete(self, *keys: str) -> None: ...
    def incr(self, key: str, ttl_seconds: float) -> int: ...
    def ttl(self, key: str) -> float | None: ...
    def ping(self) -> bool: ...


class SQLKeyValueStore:
    """SQLite or PostgreSQL. Atomic counters use INSERT .. ON CONFLICT .. RETURNING (both dialects)."""

    _PURGE_EVERY = 200  # writes between purges of expired rows

    def __init__(self, url: str) -> None:
        kwargs: dict[str, Any] = {"future": True, "pool_pre_ping": True}
        if url.startswith("sqlite"):
            # two processes share the file: wait for each other's write locks instead of failing
            kwargs["connect_args"] = {"timeout": 10, "check_same_thread": False}
        self.engine = sa.create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            with self.engine.begin() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        self.table = sa.Table(
            "assistant_sessions",
            sa.MetaData(),
            sa.Column("key", sa.String(255), primary_key=True),
            sa.Column("value", sa.Text, nullable=False),
            sa.Column("expires_at", sa.Float, nullable=False, index=True),
        )
        self.table.metadata.create_all(self.engine)
        self._writes = 0

    def _after_write(self, conn: sa.engine.Connection) -> None:
        self._writes += 1
        if self._writes % self._PURGE_EVERY == 0:
            conn.execute(self.table.delete().where(self.table.c.expires_at < time.time()))

    def get(self, key: str) -> Any | None:
        t = self.table
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.c.value).where(t.c.key == key, t.c.expires_at >= time.time())).first()
        return json.loads(row[0]) if row else None

    def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        stmt = sa.text(
            "INSERT INTO assistant_sessions (key, value, expires_at) VALUES (:k, :v, :e) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at"
        )
        with self.engine.begin() as conn:
            conn.execute(stmt, {"k": key, "v": json.dumps(value), "e": time.time() + ttl_seconds})
            self._after_write(conn)

    def pop(self, key: str) -> Any | None:
        # raw SQL: SQLAlchemy 1.4 cannot compile RETURNING for SQLite, though SQLite >= 3.35 has it
        stmt = sa.text("DELETE FROM assistant_sessions WHERE key = :k RETURNING value, expires_at")
        with self.engine.begin() as conn:
            row = conn.execute(stmt, {"k": key}).first()
        if row is None or row[1] < time.time():
            return None
        return json.loads(row[0])

    def delete(self, *keys: str) -> None:
        if keys:
            with self.engine.begin() as conn:
                conn.execute(self.table.delete().where(self.table.c.key.in_(keys)))

    def incr(self, key: str, ttl_seconds: float) -> int:
        # an expired counter starts again at 1 with a fresh window
        stmt = sa.text(
            "INSERT INTO assistant_sessions (key, value, expires_at) VALUES (:k, '1', :e) "
            "ON CONFLICT (key) DO UPDATE SET "
            "value = CASE WHEN assistant_sessions.expires_at < :now THEN '1' "
            "ELSE CAST(CAST(assistant_sessions.value AS INTEGER) + 1 AS TEXT) END, "
            "expires_at = CASE WHEN assistant_sessions.expires_at < :now THEN :e "
            "ELSE assistant_sessions.expires_at END "
            "RETURNING value"
        )
        now = time.time()
        with self.engine.begin() as conn:
            value = conn.execute(stmt, {"k": key, "e": now + ttl_seconds, "now": now}).scalar_one()
            self._after_write(conn)
        return int(value)

    def ttl(self, key: str) -> float | None:
        t = self.table
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.c.expires_at).where(t.c.key == key)).first()
        left = row[0] - time.time() if row else None
        return left if left is not None and left > 0 else None

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True


class RedisKeyValueStore:
    """Redis: native expiry and atomic INCR; the choice when several Rasa processes run."""

    def __init__(self, url: str, prefix: str = "care-assistant:") -> None:
        import redis

        self.redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = prefix

    def _k(self, key: str) -> str:
        return self.prefix + key

    def get(self, key: str) -> Any | None:
        raw = self.redis.get(self._k(key))
        return json.loads(raw) if raw is not None else None

    def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        self.redis.set(self._k(key), json.dumps(value), px=max(int(ttl_seconds * 1000), 1))

    def pop(self, key: str) -> Any | None:
        raw = self.redis.getdel(self._k(key))
        return json.loads(raw) if raw is not None else None

    def delete(self, *keys: str) -> None:
        if keys:
            self.redis.delete(*(self._k(k) for k in keys))

    def incr(self, key: str, ttl_seconds: float) -> int:
        # the window starts with the first hit (SET NX), later hits only count
        pipe = self.redis.pipeline()
        pipe.set(self._k(key), 0, nx=True, px=max(int(ttl_seconds * 1000), 1))
        pipe.incr(self._k(key))
        _, value = pipe.execute()
        return int(value)

    def ttl(self, key: str) -> float | None:
        left = self.redis.pttl(self._k(key))
        return left / 1000 if left and left > 0 else None

    def ping(self) -> bool:
        return bool(self.redis.ping())


def make_kv_store(session_store_url: str, redis_url: str, default_sqlite_path: str) -> KeyValueStore:
    """SESSION_STORE_URL wins; else Redis when REDIS_URL is set; else a SQLite file (the embedded default)."""
    url = session_store_url or redis_url
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisKeyValueStore(url)
    return SQLKeyValueStore(url or f"sqlite:///{default_sqlite_path}")

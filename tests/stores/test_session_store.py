"""The server-side session store on every backend it supports: SQLite (embedded), PostgreSQL and Redis."""

from __future__ import annotations

import time
import uuid

import pytest

from sessions.kv import RedisKeyValueStore, SQLKeyValueStore, make_kv_store
from sessions.store import Login, SessionStore

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/2"


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def kv(request, tmp_path):
    if request.param == "sqlite":
        return SQLKeyValueStore(f"sqlite:///{tmp_path / 'sessions.db'}")
    if request.param == "postgresql":
        return SQLKeyValueStore(PG_URL)
    return RedisKeyValueStore(REDIS_URL)


@pytest.fixture
def sender() -> str:
    return f"9199{uuid.uuid4().int % 10**8:08d}"


def test_values_round_trip_and_expire(kv, sender):
    kv.set(f"t:{sender}", {"a": [1, "x"]}, 0.3)
    assert kv.get(f"t:{sender}") == {"a": [1, "x"]}
    time.sleep(0.4)
    assert kv.get(f"t:{sender}") is None


def test_pop_returns_once(kv, sender):
    kv.set(f"p:{sender}", "45612", 60)
    assert kv.pop(f"p:{sender}") == "45612"
    assert kv.pop(f"p:{sender}") is None


def test_counter_counts_within_a_window_then_starts_again(kv, sender):
    assert [kv.incr(f"c:{sender}", 0.5) for _ in range(3)] == [1, 2, 3]
    assert 0 < kv.ttl(f"c:{sender}") <= 0.5
    time.sleep(0.6)
    assert kv.incr(f"c:{sender}", 0.5) == 1


def test_login_is_bounded_by_the_care_token(kv, sender):
    store = SessionStore(kv, session_timeout_seconds=3600)
    store.save_login(
        sender, Login(kind="patient", access_token="tok", expires_at=time.time() + 0.3, patient_ids=["p1"])
    )
    login = store.login(sender)
    assert login is not None and login.may_read("p1") and not login.may_read("p2")
    time.sleep(0.4)
    assert store.login(sender) is None  # the patient token died, so did the login


def test_login_expires_after_the_session_timeout(kv, sender):
    store = SessionStore(kv, session_timeout_seconds=0.3)
    store.save_login(sender, Login(kind="staff", access_token="a", expires_at=time.time() + 1800))
    assert store.login(sender).kind == "staff"
    time.sleep(0.4)
    assert store.login(sender) is None


def test_logout_ends_login_secrets_and_expectations(kv, sender):
    store = SessionStore(kv, session_timeout_seconds=3600)
    store.save_login(sender, Login(kind="patient", access_token="t", expires_at=time.time() + 60))
    store.expect_secret(sender, "otp")
    store.put_secret(sender, "otp", "45612")
    store.end(sender)
    assert store.login(sender) is None
    assert store.expected_secret(sender) is None
    assert store.take_secret(sender, "otp") is None


def test_secret_is_taken_exactly_once(kv, sender):
    store = SessionStore(kv, session_timeout_seconds=3600)
    store.expect_secret(sender, "password")
    assert store.expected_secret(sender) == "password"
    store.put_secret(sender, "password", "Ohcn@123")
    assert store.take_secret(sender, "password") == "Ohcn@123"
    assert store.take_secret(sender, "password") is None


def test_unknown_secret_kind_is_refused(kv, sender):
    with pytest.raises(ValueError):
        SessionStore(kv, 60).expect_secret(sender, "pin")


def test_factory_picks_the_backend(tmp_path):
    assert isinstance(make_kv_store("", "", str(tmp_path / "s.db")), SQLKeyValueStore)
    assert isinstance(make_kv_store("", REDIS_URL, str(tmp_path / "s.db")), RedisKeyValueStore)
    assert isinstance(make_kv_store(PG_URL, REDIS_URL, str(tmp_path / "s.db")), SQLKeyValueStore)

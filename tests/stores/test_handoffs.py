"""Call-back requests on SQLite (embedded) and PostgreSQL: recorded, listed, closed, and nothing in clear."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from sessions.crypto import InvalidToken, Keys
from sessions.handoffs import HandoffStore, main

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path) -> HandoffStore:
    url = f"sqlite:///{tmp_path / 'assistant.db'}" if request.param == "sqlite" else PG_URL
    return HandoffStore(url, Keys("test-secret-" + uuid.uuid4().hex))


@pytest.fixture
def phone() -> str:
    return f"+9199{uuid.uuid4().int % 10**8:08d}"


def _raw_rows(store: HandoffStore, reference: str) -> str:
    with store.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM callback_requests WHERE reference = :r"), {"r": reference}).first()
    return " ".join(str(v) for v in row)


def test_a_request_is_listed_for_the_helpdesk_with_the_number_to_call(store, phone):
    reference = store.request_callback(phone.lstrip("+"), phone, "about my father's dressing", "patient")
    listed = {r.reference: r for r in store.open_requests()}
    assert listed[reference].phone_masked.startswith("+91 99") and "•" in listed[reference].phone_masked
    assert listed[reference].has_note and listed[reference].user_kind == "patient"
    assert store.reveal(reference) == (phone, "about my father's dressing")


def test_the_number_and_the_note_are_not_stored_in_clear(store, phone):
    reference = store.request_callback(phone.lstrip("+"), phone, "chemo side effects", "anonymous")
    raw = _raw_rows(store, reference)
    assert phone not in raw and phone.lstrip("+") not in raw and phone[-8:] not in raw
    assert "chemo" not in raw


def test_the_same_sender_has_the_same_pseudonym_and_it_is_not_the_number(store, phone):
    a = store.request_callback(phone.lstrip("+"), phone, None, "anonymous")
    b = store.request_callback(phone.lstrip("+"), phone, None, "anonymous")
    with store.engine.connect() as conn:
        names = (
            conn.execute(
                sa.text("SELECT sender_pseudonym FROM callback_requests WHERE reference IN (:a, :b)"), {"a": a, "b": b}
            )
            .scalars()
            .all()
        )
    assert len(set(names)) == 1 and phone[-8:] not in names[0]


def test_an_open_request_of_the_same_sender_is_found_and_a_closed_one_is_not(store, phone):
    sender = phone.lstrip("+")
    assert store.open_request_for(sender) is None
    reference = store.request_callback(sender, phone, None, "patient")
    assert store.open_request_for(sender) == reference
    assert store.open_request_for("91" + "0" * 10) is None  # another sender
    store.close(reference)
    assert store.open_request_for(sender) is None


def test_a_closed_request_leaves_the_list(store, phone):
    reference = store.request_callback(phone.lstrip("+"), phone, None, "staff")
    assert store.close(reference) is True
    assert reference not in {r.reference for r in store.open_requests()}
    assert store.close(reference) is False  # closing twice says so


def test_another_key_cannot_read_them(store, phone):
    reference = store.request_callback(phone.lstrip("+"), phone, "note", "anonymous")
    other = HandoffStore(str(store.engine.url.render_as_string(hide_password=False)), Keys("another secret"))
    with pytest.raises(InvalidToken):
        other.reveal(reference)


def test_the_helpdesk_command_lists_and_closes(tmp_path, monkeypatch, capsys, phone):
    from sessions import crypto, handoffs
    from settings import get_settings

    monkeypatch.setenv("ASSISTANT_DATABASE_URL", f"sqlite:///{tmp_path / 'a.db'}")
    monkeypatch.setenv("ASSISTANT_SECRET_KEY", "cli-test-secret")
    for cached in (get_settings, crypto.keys, handoffs.get_handoff_store):
        cached.cache_clear()
    try:
        reference = handoffs.get_handoff_store().request_callback(phone.lstrip("+"), phone, "a note", "patient")
        assert main(["list"]) == 0
        out = capsys.readouterr().out
        assert reference in out and phone not in out and "1 open" in out
        assert main(["list", "--reveal"]) == 0
        assert phone in capsys.readouterr().out
        assert main(["done", reference]) == 0 and main(["done", reference]) == 1
    finally:
        for cached in (get_settings, crypto.keys, handoffs.get_handoff_store):
            cached.cache_clear()

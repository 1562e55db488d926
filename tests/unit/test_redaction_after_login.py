"""A patient login that stopped on a limit expects no code, yet a code typed right after never reaches Rasa."""

from __future__ import annotations

import pytest

from sessions.kv import SQLKeyValueStore
from sessions.redaction import forget_login_stopped, login_stopped, redact_inbound
from sessions.store import SessionStore

SENDER = "919876543210"
PROVIDED = '/secret_provided{"secret_kind":"otp"}'


@pytest.fixture
def store(tmp_path) -> SessionStore:
    return SessionStore(SQLKeyValueStore(f"sqlite:///{tmp_path / 's.db'}"), 3600)


@pytest.mark.parametrize("code", ["45612", "4561", "45 612", "12345678", "456-12"])
def test_a_bare_code_after_the_login_stopped_is_kept_out_of_rasa(store, code):
    login_stopped(store, SENDER)
    store.clear_expectation(SENDER)  # the login's done action forgets the code question
    assert redact_inbound(store, SENDER, code) == PROVIDED
    assert store.take_secret(SENDER, "otp") is None  # dropped: no question takes it
    assert redact_inbound(store, SENDER, code) == code  # once: then numbers are numbers again


@pytest.mark.parametrize("text", ["2", "123", "9876543210", "find patient 45612", "show my records"])
def test_other_messages_after_the_login_stopped_pass(store, text):
    login_stopped(store, SENDER)
    assert redact_inbound(store, SENDER, text) == text


def test_without_a_stopped_login_a_number_passes_and_a_new_login_forgets_the_stop(store):
    assert redact_inbound(store, SENDER, "45612") == "45612"
    login_stopped(store, SENDER)
    forget_login_stopped(store, SENDER)  # the next login went through
    assert redact_inbound(store, SENDER, "45612") == "45612"


def test_a_code_question_asked_again_keeps_the_code_for_the_login(store):
    login_stopped(store, SENDER)
    store.expect_secret(SENDER, "otp")  # a new login asked for a code: that question takes it
    assert redact_inbound(store, SENDER, "45612") == PROVIDED
    assert store.take_secret(SENDER, "otp") == "45612"

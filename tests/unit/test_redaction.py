"""A code or password typed after the assistant asked for it never reaches Rasa."""

from __future__ import annotations

import pytest

from sessions.kv import SQLKeyValueStore
from sessions.redaction import redact_inbound
from sessions.store import SessionStore

SENDER = "919876543210"


@pytest.fixture
def store(tmp_path) -> SessionStore:
    return SessionStore(SQLKeyValueStore(f"sqlite:///{tmp_path / 's.db'}"), 3600)


def test_nothing_expected_passes_text_through(store):
    assert redact_inbound(store, SENDER, "45612") == "45612"


def test_expected_code_is_kept_server_side_and_rasa_sees_only_the_intent(store):
    store.expect_secret(SENDER, "otp")
    assert redact_inbound(store, SENDER, " 45 612 ") == '/secret_provided{"secret_kind":"otp"}'
    assert store.take_secret(SENDER, "otp") == "45 612"
    # the expectation is used up: the next message is an ordinary one again
    assert redact_inbound(store, SENDER, "45612") == "45612"


def test_a_mistyped_code_is_still_a_secret(store):
    store.expect_secret(SENDER, "otp")
    assert redact_inbound(store, SENDER, "4561").startswith("/secret_provided")


def test_words_while_a_code_is_expected_are_normal_messages(store):
    store.expect_secret(SENDER, "otp")
    assert redact_inbound(store, SENDER, "I didn't get the code") == "I didn't get the code"
    assert redact_inbound(store, SENDER, "cancel") == "cancel"
    assert store.expected_secret(SENDER) == "otp"  # still waiting for the code


def test_any_password_is_a_secret_but_cancel_is_not(store):
    store.expect_secret(SENDER, "password")
    assert redact_inbound(store, SENDER, "Cancel") == "Cancel"
    assert redact_inbound(store, SENDER, "Ohcn@123") == '/secret_provided{"secret_kind":"password"}'
    assert store.take_secret(SENDER, "password") == "Ohcn@123"


def test_button_payloads_are_never_taken_as_secrets(store):
    store.expect_secret(SENDER, "password")
    assert redact_inbound(store, SENDER, "/deny") == "/deny"


@pytest.mark.parametrize("text", ["my code is 45612", "45612.", "code: 45-612", "otp 4561"])
def test_a_code_inside_words_is_still_a_secret(store, text):
    store.expect_secret("919876543210", "otp")
    assert redact_inbound(store, "919876543210", text) == '/secret_provided{"secret_kind":"otp"}'
    assert store.take_secret("919876543210", "otp") == text


@pytest.mark.parametrize("text", ["resend", "i didn't get any sms", "book at 10:30"])
def test_words_without_a_code_pass_while_a_code_is_expected(store, text):
    store.expect_secret("919876543210", "otp")
    assert redact_inbound(store, "919876543210", text) == text


@pytest.mark.parametrize("text", ["98765 43210", "my number is +91-98765-43210", "09876543210"])
def test_a_typed_phone_number_is_kept_out_of_rasa(store, text):
    store.expect_secret("919876543210", "phone")
    assert redact_inbound(store, "919876543210", text) == '/secret_provided{"secret_kind":"phone"}'
    assert store.take_secret("919876543210", "phone") == text


def test_words_instead_of_a_number_pass_through(store):
    store.expect_secret("919876543210", "phone")
    assert redact_inbound(store, "919876543210", "use my own number") == "use my own number"


@pytest.mark.parametrize("kind", ["otp", "password", "totp", "phone", "note"])
def test_an_emergency_is_never_kept_as_a_secret(store, kind):
    store.expect_secret(SENDER, kind)
    text = "my mother fell and is not waking up 108"
    assert redact_inbound(store, SENDER, text) == text
    assert store.take_secret(SENDER, kind) is None


def test_a_note_for_the_helpdesk_is_kept_server_side_unless_skipped(store):
    store.expect_secret(SENDER, "note")
    assert redact_inbound(store, SENDER, "Skip") == "Skip"
    assert redact_inbound(store, SENDER, "about my father's dressing").startswith("/secret_provided")
    assert store.take_secret(SENDER, "note") == "about my father's dressing"


@pytest.mark.parametrize(
    "kind, text",
    [
        ("otp", "108234"),
        ("otp", "112 233"),
        ("phone", "98108 12345"),
        ("password", "Care@112"),
        ("password", "Sos@1234"),
        ("totp", "451120"),
    ],
)
def test_a_secret_of_the_right_shape_is_kept_even_if_it_contains_an_emergency_number(store, kind, text):
    store.expect_secret(SENDER, kind)
    assert redact_inbound(store, SENDER, text).startswith("/secret_provided")
    assert store.take_secret(SENDER, kind) == text


def test_a_word_that_is_a_cry_for_help_is_not_taken_as_a_password(store):
    store.expect_secret(SENDER, "password")
    assert redact_inbound(store, SENDER, "AMBULANCE") == "AMBULANCE"


def test_a_code_typed_right_after_its_question_was_left_is_still_kept_out_of_rasa(store):
    store.expect_secret(SENDER, "otp")
    store.linger_expectation(SENDER)  # an emergency or "menu" left the login question
    assert redact_inbound(store, SENDER, "show my medicines") == "show my medicines"  # words are words again
    assert redact_inbound(store, SENDER, "45612") == '/secret_provided{"secret_kind":"otp"}'
    assert redact_inbound(store, SENDER, "45612") == "45612"  # kept once; then the expectation is gone


def test_a_password_typed_after_its_question_was_left_is_kept_only_in_a_passwords_shape(store):
    store.expect_secret(SENDER, "password")
    store.linger_expectation(SENDER)
    assert redact_inbound(store, SENDER, "hi") == "hi"
    assert redact_inbound(store, SENDER, "Ohcn@123").startswith("/secret_provided")

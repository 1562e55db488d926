"""What a message NLU read as a patient or staff login means (actions/shared/meaning.py)."""

from __future__ import annotations

import pytest

from actions.shared.meaning import (
    LOGIN,
    LOGOUT,
    OUT_OF_SCOPE,
    SEARCH,
    STAFF_LOGIN,
    login_meaning,
    staff_login_meaning,
)


@pytest.mark.parametrize(
    "text",
    ["login", "LOG IN", "log me in", "sign in pls", "lgin", "send otp pls", "verify me", "i want to see my data",
     "how do i login", "otp send karo", "authenticate me", "/login"],
)  # fmt: skip
def test_the_words_of_a_login_are_a_login_for_anybody(text):
    for role in (None, "patient", "staff"):
        assert login_meaning(text, role) == LOGIN, (text, role)


@pytest.mark.parametrize("text", ["exit my account", "leave my account", "sign out", "log off please", "LOG ME OUT"])
def test_exit_words_are_a_logout(text):
    for role in (None, "patient", "staff"):
        assert login_meaning(text, role) == LOGOUT


@pytest.mark.parametrize("text", ["who is the prime minister of india", "sing a song for me", "tell me a joke"])
def test_nothing_out_of_scope_starts_a_login(text):
    assert login_meaning(text, None) == OUT_OF_SCOPE
    assert login_meaning(text, "patient") == OUT_OF_SCOPE


def test_staff_naming_a_patient_is_a_search():
    assert login_meaning("do we have Anita registered", "staff", "Anita") == SEARCH
    assert login_meaning("do we have Anita registered", "staff") == SEARCH  # no entity: the words say patient
    assert login_meaning("is Meere our patient", "staff") == SEARCH
    # not for a patient, and never a login's own words
    assert login_meaning("do we have Anita registered", "patient", "Anita") == OUT_OF_SCOPE
    assert login_meaning("patient login", "staff") == LOGIN
    assert login_meaning("login", "staff", "A") == LOGIN


@pytest.mark.parametrize(
    "text, username",
    [("staff login", None), ("doctor sign in", None), ("front desk login pls", None), ("login as care-nurse",
     "care-nurse"), ("care-doctor", "care-doctor"), ("my username is dr-rahul", "dr-rahul"), ("/staff_login", None),
     ("i am a nurse, how do i get in with my password", None)],
)  # fmt: skip
def test_a_staff_login_in_any_words_opens_the_staff_login(text, username):
    assert staff_login_meaning(text, username) == LOGIN


@pytest.mark.parametrize("text", ["exit my account", "sign me out", "quit"])
def test_leaving_words_read_as_a_staff_login_are_a_logout(text):
    assert staff_login_meaning(text) == LOGOUT


@pytest.mark.parametrize("text", ["who is the prime minister of india", "sing a song for me", "what is the gold rate"])
def test_nothing_out_of_scope_starts_the_staff_login(text):
    assert staff_login_meaning(text) == OUT_OF_SCOPE


@pytest.mark.parametrize(
    "text", ["physician login", "mujhe staff login karna hai", "login as a doctor", "my user id is sreekumar.s",
             "NURSE LOGIN", "front desk sign in"],
)  # fmt: skip
def test_a_login_said_with_a_staff_role_is_the_staff_login(text):
    assert login_meaning(text, None) == STAFF_LOGIN


@pytest.mark.parametrize("text", ["login to see my doctor's notes", "patient login", "login with my phone number"])
def test_a_patient_login_that_mentions_a_doctor_stays_a_patient_login(text):
    assert login_meaning(text, None) == LOGIN

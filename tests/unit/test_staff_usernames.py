"""actions/staff/usernames.py: only a CARE-looking username is ever sent to CARE's login."""

from __future__ import annotations

import pytest

from actions.staff.usernames import looks_like_username, username_in


@pytest.mark.parametrize(
    "text",
    ["care-doctor", "dr-rahul-verma", "care-doctor-mfa", "nurse.priya", "reception_02", "admin", "DrAsha", "opd-desk2"],
)
def test_care_usernames(text):
    assert looks_like_username(text)


@pytest.mark.parametrize(
    "text",
    [
        "45612",
        "123456",
        "12345678",  # a patient's code, an authenticator code
        "Ramesh Kumar",
        "dr asha menon",
        "care doctor",  # names, words with spaces
        "9876543210",
        "+919876543210",
        "+91 98765 43210",
        "98765-43210",  # phone numbers
        "hi",
        "Hello",
        "hey",
        "namaste",
        "good morning",
        "thanks",
        "ok",
        "yes",  # greetings and answers
        "login",
        "staff",
        "password",
        "menu",
        "cancel",
        "help",
        "",
        " ",
        "a",
        "-care",
        "care-",
        "care@hospital.org",
        "care/doctor",
        "कृपया",
    ],
)
def test_not_usernames(text):
    assert not looks_like_username(text)


@pytest.mark.parametrize(
    "text, username",
    [
        ("staff login care-doctor", "care-doctor"),
        ("Staff Login care-nurse", "care-nurse"),
        ("login care-volunteer", "care-volunteer"),
        ("login as care-staff", "care-staff"),
        ("log in as dr-rahul-verma", "dr-rahul-verma"),
        ("sign in with nurse.priya", "nurse.priya"),
        ("staff login: dr.asha", "dr.asha"),
        ("staff login with username opd-desk2", "opd-desk2"),
        ("my username is care-doctor", "care-doctor"),
        ("username: care-nurse", "care-nurse"),
        ("care-doctor", "care-doctor"),
        ("  *care-doctor*  ", "care-doctor"),
        ("staff login", None),
        ("login", None),
        ("login as staff", None),
        ("login as a doctor", None),
        ("i am a doctor", None),
        ("login to care", None),
        ("log in with my care account", None),
        ("i'm a doctor here, log me in", None),
        ("stafflogin", None),
        ("staff login 45612", None),
        ("staff login Ramesh Kumar", None),
        ("login 9876543210", None),
        ("find patient Meera", None),
        ("hi", None),
        ("/staff_login", None),
    ],
)
def test_username_in_a_login_request(text, username):
    assert username_in(text) == username

"""Safe in the first minute, end to end: emergencies in any state, a person to talk to, numbered menus,
honest answers. Signed webhooks into the real stack; answers as the WhatsApp user sees them."""

from __future__ import annotations

import sqlite3

import pytest

from tests.e2e.conftest import choices_of, texts
from tests.e2e.test_patient_journeys import OTP, interactive, say, tap

pytestmark = pytest.mark.e2e

FALLEN = "my mother fell and is not waking up"


def assert_emergency_answer(bodies: list[dict], stack) -> None:
    said = texts(bodies)
    env = stack.env()
    assert "108" in said and "112" in said and env["HOSPITAL_EMERGENCY_NUMBER"] in said, said
    assert "not watched for emergencies" in said


def test_an_emergency_from_a_stranger_gets_the_numbers_at_once(user, stack):
    assert_emergency_answer(say(user, FALLEN), stack)


@pytest.mark.parametrize(
    "text",
    ["ambulance", "I have severe chest pain", "papa ko saans nahi aa rahi", "അച്ഛന് ബോധമില്ല", "i want to end my life"],
)
def test_emergencies_in_other_words_and_languages(user, stack, text):
    bodies = say(user, text)
    assert_emergency_answer(bodies, stack)
    if "end my life" in text:
        assert "14416" in texts(bodies)  # Tele-MANAS


def test_an_emergency_while_a_code_is_expected_is_answered_and_not_taken_as_the_code(user, stack):
    ask = interactive(say(user, "show my medicines"))
    asked = tap(user, ask, "Use this number", at_least=2)
    assert "5-digit code" in texts(asked)
    bodies = say(user, "my father is not breathing")
    assert_emergency_answer(bodies, stack)
    assert "code" not in texts(bodies).lower()  # the login question is not asked again on top of it
    # the question was left: a code typed now is not a login
    assert "logged in" not in texts(say(user, OTP)).lower()


def test_an_emergency_while_a_staff_password_is_expected_reaches_no_one_as_a_password(user, stack):
    say(user, "staff login")
    asked = say(user, "care-doctor")
    assert "password" in texts(asked).lower()
    bodies = say(user, "I have severe chest pain")
    assert_emergency_answer(bodies, stack)
    assert "password" not in texts(bodies).lower()
    login_lines = [
        line for line in (stack.run_dir / "logs" / "care.log").read_text().splitlines() if "/api/v1/auth/login/" in line
    ]
    # the chest pain was not tried as care-doctor's password (the sandbox would have said 401)
    assert not any("-> 401" in line for line in login_lines)


def test_a_code_typed_out_of_habit_after_an_emergency_is_not_kept_in_clear(user, stack):
    ask = interactive(say(user, "show my medicines"))
    tap(user, ask, "Use this number", at_least=2)
    assert_emergency_answer(say(user, "my father is not breathing"), stack)
    after = texts(say(user, "45612"))
    assert "wasn't waiting for a code" in after and "staff" not in after.lower()
    with sqlite3.connect(stack.run_dir / "tracker.db") as db:
        events = " ".join(r[0] for r in db.execute("SELECT data FROM events WHERE sender_id = ?", (user.phone,)))
    assert "45612" not in events


def test_a_number_that_matches_no_menu_item_does_not_start_a_staff_login(user):
    say(user, "hi", at_least=2)
    said = texts(say(user, "7"))
    assert "staff" not in said.lower() and "username" not in said.lower()


def test_two_on_the_code_screen_presses_its_second_button(user):
    ask = interactive(say(user, "show my medicines"))
    asked = tap(user, ask, "Use this number", at_least=2)
    assert [title for _, title in choices_of(interactive(asked))] == ["Send a new code", "Cancel"]
    said = texts(say(user, "2"))
    assert "stopped the login" in said and "5 digits" not in said, said


def test_two_after_the_menu_means_the_second_item(user):
    menu = interactive(say(user, "hi", at_least=2))
    titles = [title for _, title in choices_of(menu)]
    assert titles[1] == "My medications"
    bodies = say(user, "2")
    said = texts(bodies)
    assert "one-time code" in said and "records private" in said  # the medications need a patient login first
    assert "CARE" not in said and "username" not in said


def test_nothing_typed_in_a_patient_login_reaches_cares_staff_login(user, stack):
    log = stack.run_dir / "logs" / "care.log"
    before = log.read_text().count("/api/v1/auth/login/")
    ask = interactive(say(user, "my appointments"))
    tap(user, ask, "Another number")
    for text in ("45612", "Ramesh Kumar", "98765 43210", "Ramesh Kumar", "45612"):
        say(user, text)
    assert log.read_text().count("/api/v1/auth/login/") == before


def test_a_person_to_talk_to_and_a_call_back_request(user, stack):
    bodies = say(user, "I want to talk to someone", at_least=2)
    said = texts(bodies)
    assert stack.env()["HOSPITAL_HELPDESK_NUMBER"] in said
    offer = interactive(bodies)
    asked = tap(user, offer, "Yes, call me back")
    assert "Skip" in [title for _, title in choices_of(interactive(asked))]
    done = say(user, "about my father's wound dressing")
    assert "will call you back" in texts(done) and "CB-" in texts(done)
    reference = texts(done).split("*CB-")[1].split("*")[0]
    # kept for the helpdesk, sealed; never in the conversation's history
    with sqlite3.connect(stack.run_dir / "assistant.db") as db:
        rows = db.execute("SELECT * FROM callback_requests WHERE reference = ?", (f"CB-{reference}",)).fetchall()
    assert len(rows) == 1 and "wound" not in str(rows) and user.phone[-6:] not in str(rows)
    with sqlite3.connect(stack.run_dir / "tracker.db") as db:
        events = " ".join(r[0] for r in db.execute("SELECT data FROM events WHERE sender_id = ?", (user.phone,)))
    assert "wound" not in events


def test_asking_twice_for_a_call_back_does_not_make_a_second_request(user, stack):
    tap(user, interactive(say(user, "call me", at_least=2)), "Yes, call me back")
    done = texts(say(user, "skip"))
    reference = "CB-" + done.split("*CB-")[1].split("*")[0]
    again = texts(say(user, "please call me back", at_least=2))
    assert f"already asked us to call you back (reference *{reference}*)" in again
    assert "shall I ask the helpdesk" not in again
    with sqlite3.connect(stack.run_dir / "assistant.db") as db:
        assert db.execute("SELECT COUNT(*) FROM callback_requests WHERE reference = ?", (reference,)).fetchone() == (1,)


def test_menu_leaves_an_open_question(user):
    say(user, "staff login")
    bodies = say(user, "menu", at_least=2)
    assert "My medications" in [title for _, title in choices_of(interactive(bodies))]
    # the username question is gone: a name typed now is not a username
    assert "username" not in texts(say(user, "hello")).lower()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("remind me to take my tablets at 8pm", "confirm it's you"),  # reminders are per patient: a login first
        ("STOP", "no reminders on this phone to stop"),
        ("unsubscribe", "no reminders on this phone to stop"),
        ("मेरी दवाई क्या है", "only read English"),
        ("എന്റെ മരുന്ന് ഏതൊക്കെ", "only read English"),
    ],
)
def test_honest_answers(user, text, expected):
    assert expected in texts(say(user, text))

"""Patients end to end: signed webhooks into the real Rasa server, actions and the sandbox CARE; answers read
from the simulator's Graph API, as a WhatsApp user would see them."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from zoneinfo import ZoneInfo

import pytest

from sandbox.whatsapp import payloads
from tests.e2e.conftest import WhatsAppUser, choices_of, text_of, texts

pytestmark = pytest.mark.e2e

OTP = "45612"
RAMESH_PHONE = "919876543210"  # Ramesh and Sunita Kumar
ANITA_PHONE = "919123456789"
MEERA_PHONE = "919900112233"

# clinical data of patients who are NOT on Ramesh's phone
OTHER_PATIENTS_DATA = [
    "Amoxicillin",
    "Hypertensive disorder",
    "Appendectomy",
    "Levothyroxine",
    "Hypothyroidism",
    "Salbutamol",
    "Budesonide",
    "Asthma",
    "Nitrofurantoin",
    "Urinary tract infection",
    "Thyroid function test",
    "Anita",
    "Meera",
    "Ravi",
]


def stack_tz() -> str:
    from settings import get_settings

    return get_settings().care_timezone


def read(user: WhatsAppUser, at_least: int = 1) -> list[dict]:
    """Every message of the bot's turn: at least `at_least`, then whatever follows within 2 s of the last."""
    got = user.replies(at_least, timeout=30, settle=2.0)
    while True:
        more = user.replies(0, settle=2.0)
        if not more:
            return got
        got += more


def say(user: WhatsAppUser, text: str, at_least: int = 1) -> list[dict]:
    assert user.say(text).status_code == 200
    return read(user, at_least)


def tap(user: WhatsAppUser, message: dict, title: str, at_least: int = 1) -> list[dict]:
    """Press the button or list row called `title` (or starting with it) in `message`."""
    options = choices_of(message)
    found = [(i, t) for i, t in options if t == title] or [(i, t) for i, t in options if t.startswith(title)]
    assert found, f"no choice {title!r} in {options}"
    choice_id, choice_title = found[0]
    if message["interactive"]["type"] == "list":
        body = payloads.list_reply(user.phone, choice_id, choice_title)
    else:
        body = payloads.button_reply(user.phone, choice_id, choice_title)
    assert user.post(body).status_code == 200
    return read(user, at_least)


def interactive(bodies: list[dict]) -> dict:
    found = [b for b in bodies if b.get("type") == "interactive"]
    assert found, texts(bodies)
    return found[-1]


def fresh(user: WhatsAppUser) -> None:
    """Start logged out (the numbers are shared between tests, like a real phone)."""
    say(user, "logout")


def log_in(user: WhatsAppUser, request: str = "login", code: str = OTP) -> list[dict]:
    """The request, the own-number button, the code; returns what came after the code."""
    first = say(user, request)
    ask = interactive(first)
    assert "one-time code" in text_of(ask) and "•••••" in text_of(ask)
    sent = tap(user, ask, "Use this number", at_least=2)
    assert "5-digit code" in texts(sent), texts(sent)
    return say(user, code, at_least=1)


@pytest.fixture
def anita(stack) -> WhatsAppUser:
    user = WhatsAppUser(stack, phone=ANITA_PHONE)
    fresh(user)
    return user


@pytest.fixture
def ramesh(stack) -> WhatsAppUser:
    user = WhatsAppUser(stack, phone=RAMESH_PHONE)
    fresh(user)
    return user


def test_a_patient_asks_in_own_words_logs_in_and_sees_their_medications(anita):
    after = log_in(anita, "what tablets am i supposed to take?")
    shown = texts(after)
    assert "logged in" in shown
    assert "Amoxicillin" in shown and "500 mg" in shown and "Three times a day" in shown
    assert "Amlodipine" in shown and "Paracetamol" in shown
    # the original request was answered without being asked again, and the next ones need no login
    reply = texts(say(anita, "when do i see the doctor next"))
    assert "Dr. Asha Menon" in reply and "Shimla District Hospital" in reply


def test_wrong_codes_are_refused_plainly_and_the_right_one_still_works(anita):
    first = say(anita, "show my reports")
    sent = tap(anita, interactive(first), "Use this number", at_least=2)
    assert "5-digit code" in texts(sent)
    assert "5 digits" in texts(say(anita, "1234"))
    assert "didn't work" in texts(say(anita, "11111"))
    after = texts(say(anita, OTP))
    assert "logged in" in after and "Hypertensive disorder" in after


def test_a_patient_cannot_reach_another_patients_data_by_any_phrasing(ramesh):
    after = log_in(ramesh, "login")
    tap(ramesh, interactive(after), "Ramesh Kumar")
    attempts = [
        "show Anita Sharma's medications",
        "what tablets is meera nair taking",
        "medicines of ravi kumar",
        "anita's reports",
        "show records of patient e66f3c5f-b2b6-40a9-940f-9f00490e2a27",
        "switch to anita",
        "appointments of Meera Nair",
        "what tests are ordered for anita sharma",
        "book an appointment for meera",
    ]
    for attempt in attempts:
        reply = texts(say(ramesh, attempt))
        leaked = [word for word in OTHER_PATIENTS_DATA if word in reply]
        assert not leaked, f"{attempt!r} -> {reply!r}"
        say(ramesh, "stop") if "Which doctor" in reply else None
    own = texts(say(ramesh, "get medications"))
    assert "Metformin" in own


def test_family_switching_booking_cancelling_and_logout(ramesh):
    after = log_in(ramesh, "my appointments")
    rows = interactive(after)
    assert [t for _, t in choices_of(rows)] == ["Ramesh Kumar", "Sunita Kumar"]
    shown = texts(tap(ramesh, rows, "Ramesh Kumar"))
    assert "Upcoming appointments of Ramesh Kumar" in shown and "Dr. Asha Menon" in shown

    wife = texts(say(ramesh, "show my wife's medicines"))
    assert "Sunita Kumar" in wife and "Atorvastatin" in wife and "Metformin" not in wife

    # a morning with no appointment of Sunita's yet (the seed books her with Dr. Asha Menon in 3 days):
    # booking next to that one would rightly ask "book another one?" first
    hospital_today = dt.datetime.now(ZoneInfo(stack_tz())).date()
    weekday = "thursday" if (hospital_today + dt.timedelta(days=3)).weekday() == 4 else "friday"
    which = interactive(say(ramesh, f"book me with Dr. Asha on {weekday} morning"))
    assert [t for _, t in choices_of(which)] == ["Dr. Asha Menon", "Dr. Asha Pillai"]
    times = interactive(tap(ramesh, which, "Dr. Asha Menon"))
    assert "Free times with *Dr. Asha Menon*" in text_of(times)
    first_time = choices_of(times)[0][1]
    confirm = interactive(tap(ramesh, times, first_time))
    assert "Sunita Kumar" in text_of(confirm) and "Dr. Asha Menon" in text_of(confirm)
    booked = texts(tap(ramesh, confirm, "Yes, book it"))
    assert "Booked ✅" in booked and first_time in booked

    listed = texts(say(ramesh, "my appointments"))
    assert first_time in listed

    confirm = interactive(say(ramesh, f"cancel my appointment on {weekday}"))
    assert "Cancel this appointment" in text_of(confirm) and first_time in text_of(confirm)
    assert "Cancelled ✅" in texts(tap(ramesh, confirm, "Yes, cancel it"))
    assert first_time not in texts(say(ramesh, "my appointments"))

    switched = texts(say(ramesh, "switch to ramesh"))
    assert "Ramesh Kumar" in switched
    assert "Complete blood count" in texts(say(ramesh, "which tests do i need"))

    assert "logged out" in texts(say(ramesh, "log me out"))
    again = interactive(say(ramesh, "get medications"))
    assert "one-time code" in text_of(again)


def test_after_a_full_login_no_code_token_or_full_number_is_stored_or_logged(stack):
    from sessions.kv import make_kv_store
    from sessions.store import SessionStore

    user = WhatsAppUser(stack, phone=MEERA_PHONE)
    fresh(user)
    after = texts(log_in(user, "my medicines"))
    assert "Levothyroxine" in after
    env = stack.env()
    sessions = SessionStore(make_kv_store(env["SESSION_STORE_URL"], "", ""), 3600)
    token = sessions.login(MEERA_PHONE).access_token
    assert token.count(".") == 2  # a JWT, kept server-side

    with sqlite3.connect(env["TRACKER_SQLITE_PATH"]) as db:
        rows = [r[0] for r in db.execute("SELECT data FROM events WHERE sender_id = ?", (MEERA_PHONE,))]
    assert rows
    stored = "\n".join(json.dumps(json.loads(r), ensure_ascii=False) for r in rows)
    national = MEERA_PHONE[2:]
    assert OTP not in stored
    assert token not in stored and "eyJ" not in stored
    assert national not in stored
    assert "+91 99•••••233" in stored  # the masked form is what the slot keeps

    logs = "\n".join(
        (stack.run_dir / "logs" / name).read_text(errors="replace") for name in ("rasa.log", "actions.log")
    )
    assert OTP not in logs
    assert token not in logs
    assert not re.search(national, logs), "an unmasked phone number in the logs"


def test_a_typed_number_and_a_code_inside_a_sentence_never_reach_the_tracker_or_the_logs(stack, user):
    """Another number typed at login, and a code typed with words around it, are kept out of Rasa like a
    bare code: the tracker store and the logs hold neither."""
    offer = interactive(say(user, "show my records"))
    asked = texts(tap(user, offer, "Another number"))
    assert "type the mobile number" in asked
    sent = texts(say(user, "my number is +91-98765-43210", at_least=2))
    assert "5-digit code" in sent and "+91 98•••••210" in sent
    assert "exactly 5 digits" in texts(say(user, f"my code is {OTP}"))  # refused as a code, but kept out
    family = say(user, f"{OTP[:2]} {OTP[2:]}", at_least=2)
    assert "logged in" in texts(family)
    assert {"Ramesh Kumar", "Sunita Kumar"} <= {title for _, title in choices_of(interactive(family))}

    env = stack.env()
    with sqlite3.connect(env["TRACKER_SQLITE_PATH"]) as db:
        rows = [r[0] for r in db.execute("SELECT data FROM events WHERE sender_id = ?", (user.phone,))]
    stored = "\n".join(json.dumps(json.loads(r), ensure_ascii=False) for r in rows)
    assert "secret_provided" in stored  # what Rasa saw instead
    # (the bot's own prompt shows "98765 43210" as an example format: the typed form is looked for)
    for secret in ("+91-98765-43210", "9876543210", OTP, f"{OTP[:2]} {OTP[2:]}", "my code is"):
        assert secret not in stored, secret
    logs = "\n".join(
        (stack.run_dir / "logs" / name).read_text(errors="replace") for name in ("rasa.log", "actions.log")
    )
    assert "9876543210" not in logs and "98765-43210" not in logs and OTP not in logs


def test_nonsense_gets_the_fallback_with_what_the_assistant_can_do(stack, user):
    reply = texts(say(user, "blorp fnord wibble"))
    assert "didn't understand" in reply and "medications" in reply


def test_a_number_without_hospital_records_gets_a_plain_sentence(stack, user):
    """(CARE down is covered in tests/actions: the stack's CARE stays up here.)"""
    first = say(user, "my records")
    sent = texts(tap(user, interactive(first), "Use this number", at_least=2))
    assert "Traceback" not in sent and "5-digit code" in sent
    reply = texts(say(user, OTP))
    assert "couldn't find any hospital records" in reply
    assert "Traceback" not in reply and "Error" not in reply
    assert reply.count("•") >= 5  # the number, masked

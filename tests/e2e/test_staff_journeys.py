"""End to end, as a staff member would use it: signed webhooks into the real Rasa server (model, action
server, sandbox CARE), answers read from the simulator's fake Graph API."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from actions.shared.clock import today
from sandbox.whatsapp import payloads
from tests.actions.harness import PASSWORD, totp
from tests.e2e.conftest import choices_of, text_of, texts

pytestmark = pytest.mark.e2e


def pick(user, reply: dict, title_part: str) -> None:
    """Tap the row or button whose title contains `title_part`."""
    kind = reply["interactive"]["type"]
    row_id, title = next((i, t) for i, t in choices_of(reply) if title_part in t)
    if kind == "list":
        user.post(payloads.list_reply(user.phone, row_id, title))
    else:
        user.press(row_id, title)


def dated(day: dt.date) -> str:
    """The day a confirmation names, from the hospital's clock: "tomorrow, Mon 7 Dec", "Mon 7 Dec"."""
    relative = {today(): "today, ", today() + dt.timedelta(days=1): "tomorrow, "}.get(day, "")
    return f"{relative}{day:%a} {day.day} {day:%b}" + (f" {day.year}" if day.year != today().year else "")


def log_in(user, username: str, code: str | None = None) -> str:
    user.say("staff login")
    assert "CARE *username*" in texts(user.replies(1))
    user.say(username)
    assert "CARE *password*" in texts(user.replies(1))
    user.say(PASSWORD)
    if code is not None:
        assert "authenticator app" in texts(user.replies(1))
        user.say(code)
    welcome = texts(user.replies(1))
    assert "Welcome" in welcome, welcome
    return welcome


def test_doctor_finds_a_misspelt_patient_books_next_monday_morning_and_cancels(stack, user):
    welcome = log_in(user, "care-doctor")
    assert "Asha Menon" in welcome and PASSWORD not in welcome

    user.say("menu")
    [menu] = user.replies(1)
    assert "Find a patient" in [t for _, t in choices_of(menu)]  # the staff menu

    user.say("find patient Mira")
    [found] = user.replies(1)
    assert "*Meera Nair*" in text_of(found) and "9900112233" not in text_of(found)
    pick(user, found, "Summary")
    summary = texts(user.replies(1))
    assert "Hypothyroidism" in summary and "Levothyroxine" in summary

    # on a Sunday (hospital time) "next Monday" is tomorrow, and the bot says so
    tomorrow_is_monday = (today() + dt.timedelta(days=1)).weekday() == 0
    monday = today() + dt.timedelta(days=7 - today().weekday())  # "next Monday": the one of next week
    user.say("book her an appointment with Dr Asha Menon for next Monday morning")
    offered = user.replies(1)
    day = "tomorrow" if tomorrow_is_monday else "on Monday"
    assert f"Free times with *Dr. Asha Menon* {day}" in texts(offered), texts(offered)
    times = choices_of(offered[-1])
    assert times and all(t.endswith("am") for _, t in times)
    pick(user, offered[-1], times[0][1])
    [confirm] = user.replies(1)
    # the date always, also next to "tomorrow": "for tomorrow, Mon 7 Dec, 9 am" / "for Mon 7 Dec, 9 am"
    assert f"Book *Meera Nair* with *Dr. Asha Menon* for {dated(monday)}, " in text_of(confirm), text_of(confirm)
    pick(user, confirm, "Yes")
    booked = texts(user.replies(1))
    assert f"Booked ✅ *Meera Nair* with *Dr. Asha Menon* for {dated(monday)}, " in booked, booked

    user.say("cancel Meera's appointment")
    [which] = user.replies(1)  # she also has one with Dr. Rahul Verma
    assert "Which of *Meera Nair*'s appointments?" in text_of(which)
    row = next(t for _, t in choices_of(which) if t.startswith("tomorrow" if tomorrow_is_monday else "Mon"))
    pick(user, which, row)
    [confirm] = user.replies(1)
    assert f"Cancel *Meera Nair*'s appointment with *Dr. Asha Menon* for {dated(monday)}, " in text_of(confirm)
    pick(user, confirm, "Yes")
    cancelled = texts(user.replies(1))
    assert f"Cancelled ✅ *Meera Nair*'s appointment with *Dr. Asha Menon* for {dated(monday)}, " in cancelled


def test_two_ravis_are_asked_about(stack, user):
    log_in(user, "care-staff")
    user.say("show Ravi's medications")
    [which] = user.replies(1)
    assert "2 patients match *Ravi*" in text_of(which)
    pick(user, which, "Ravi Prasad")
    assert "Nitrofurantoin" in texts(user.replies(1))


def test_volunteer_is_refused_clinical_data(stack, user):
    log_in(user, "care-volunteer")
    user.say("tell me about Meera's medications")
    assert texts(user.replies(1)).startswith("Your role can't see that in CARE.")
    user.say("tell me about Meera")
    summary = texts(user.replies(1))
    assert "*Meera Nair*" in summary and "your role can't see this" in summary and "Levothyroxine" not in summary


def test_wrong_password_then_totp_login(stack, user):
    user.say("staff login")
    user.replies(1)
    user.say("care-doctor-mfa")
    user.replies(1)
    user.say("not-my-password")
    assert "didn't work" in texts(user.replies(1))
    user.say("care-doctor-mfa")
    user.replies(1)
    user.say(PASSWORD)
    assert "authenticator app" in texts(user.replies(1))
    user.say(totp())
    assert "Welcome, *Kiran Joshi*" in texts(user.replies(1))


def test_patients_cannot_reach_staff_actions(stack, user):
    user.say("find patient Meera")
    reply = texts(user.replies(1))
    assert "log in with your CARE account first" in reply


def test_no_password_or_token_in_the_tracker_store_or_the_logs(stack, user):
    log_in(user, "care-nurse")
    user.say("find patient Meera")
    user.replies(1)
    from sessions.kv import SQLKeyValueStore
    from sessions.store import SessionStore

    sessions = SessionStore(SQLKeyValueStore(stack.env()["SESSION_STORE_URL"]), 3600)
    login = sessions.login(user.phone)
    assert login is not None and login.kind == "staff"
    secrets = [PASSWORD, login.access_token, login.refresh_token]

    with sqlite3.connect(stack.run_dir / "tracker.db") as db:
        rows = [r[0] for r in db.execute("select data from events where sender_id = ?", (user.phone,))]
    assert rows, "the tracker store has this conversation"
    tracker = "\n".join(rows)
    assert "secret_provided" in tracker  # Rasa saw only the intent ...
    for secret in secrets:
        assert secret not in tracker  # ... never the password, never a token
        for name in ("rasa", "actions"):
            log = (stack.run_dir / "logs" / f"{name}.log").read_text(errors="replace")
            assert secret not in log, f"{name}.log"
    import requests

    sent = requests.get(f"{stack.sim_url}/_sim/outbox", params={"to": user.phone, "after": 0}, timeout=10).json()
    assert PASSWORD not in str(sent["messages"])  # never echoed back either


def test_book_when_both_the_patient_and_the_doctor_are_ambiguous(stack, user):
    log_in(user, "care-staff")
    user.say("book Ravi with Dr. Asha tomorrow at 10")
    [which] = user.replies(1)
    assert "2 patients match *Ravi*" in text_of(which)
    pick(user, which, "Ravi Prasad")
    [doctor] = user.replies(1)
    assert "More than one doctor matches *Dr. Asha*" in text_of(doctor)
    pick(user, doctor, "Menon")
    answer = user.replies(1)
    last = answer[-1]
    if choices_of(last)[0][1].startswith("Yes"):  # 10 am was free: straight to the question
        tomorrow = today() + dt.timedelta(days=1)
        assert f"Book *Ravi Prasad* with *Dr. Asha Menon* for {dated(tomorrow)}, 10 am?" in text_of(last)
    else:  # taken: the free times are offered
        assert "isn't free" in texts(answer) or "no free time" in texts(answer)
        pick(user, last, choices_of(last)[0][1])
        [last] = user.replies(1)
    pick(user, last, "Yes")
    assert "Booked ✅ *Ravi Prasad* with *Dr. Asha Menon* for " in texts(user.replies(1))


def test_staff_logout_ends_the_session(stack, user):
    log_in(user, "care-doctor")
    user.say("logout")
    user.replies(1)
    user.say("find patient Meera")
    assert "log in with your CARE account first" in texts(user.replies(1))

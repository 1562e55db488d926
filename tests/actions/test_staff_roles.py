"""Roles: a staff member is shown and offered only what their CARE role allows (actions/staff/permissions.py),
against a real sandbox CARE; and one age format for every patient."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.staff import scheduling
from actions.staff.summary import show_section
from tests.actions.harness import (
    PASSWORD,
    FormDriver,
    action,
    active_loop_of,
    apply,
    buttons,
    ents,
    fresh_sender,
    log_in_staff,
    make_tracker,
    run,
    texts,
)

STAFF = {"role": "staff"}
BOOKING = {"/book_appointment", "/cancel_appointment", "/reschedule_appointment"}
CLINICAL = {"/get_medications", "/get_records", "/get_procedures"}


def log_in_with_the_form(domain, username: str) -> tuple[str, dict]:
    form = FormDriver("staff_login_form", fresh_sender(), domain)
    form.start("staff login", "staff_login")
    form.say(username)
    welcome = texts(form.secret("password", PASSWORD), domain)
    _, events = run(action("action_staff_login_submit"), make_tracker(form.sender, form.slots), domain)
    return welcome, apply(dict(form.slots), events)


def menu(domain, sender, slots=None):
    t = make_tracker(sender, STAFF if slots is None else slots, "menu", "menu")
    return run(action("action_staff_menu"), t, domain)


def test_the_welcome_offers_what_the_role_allows(care_env, domain):
    welcome, slots = log_in_with_the_form(domain, "care-volunteer")
    assert welcome.startswith("Welcome, *Neha Gupta* (Volunteer, Shimla District Hospital).")
    assert "find a patient" in welcome and "book" not in welcome.lower() and "summary" not in welcome
    assert slots["role"] == "staff" and slots["staff_access"] == "basic"

    welcome, slots = log_in_with_the_form(domain, "care-doctor")
    assert "book an appointment" in welcome and slots["staff_access"] == "full"


@pytest.mark.parametrize(
    "username, level",
    [("care-volunteer", "basic"), ("care-doctor", "full"), ("care-nurse", "full"), ("care-staff", "full")],
)
def test_the_menu_follows_the_role(care_env, domain, username, level):
    sender = fresh_sender()
    log_in_staff(sender, username)
    msgs, events = menu(domain, sender)
    assert [m["response"] for m in msgs] == [f"utter_staff_menu_{level}"]
    assert {"event": "slot", "name": "staff_access", "value": level, "timestamp": None} in events
    payloads = {b["payload"] for b in buttons(msgs, domain)}
    assert "/search_patient" in payloads and "/logout" in payloads
    if level == "basic":
        assert not payloads & (BOOKING | CLINICAL | {"/get_appointments"}), payloads
    else:
        assert payloads >= BOOKING and "/get_medications" in payloads


def test_the_menu_without_a_staff_login(care_env, domain):
    msgs, events = menu(domain, fresh_sender(), {})
    assert [m["response"] for m in msgs] == ["utter_menu"] and events == []
    msgs, events = menu(domain, fresh_sender(), STAFF)  # the staff login is gone
    assert "session has ended" in texts(msgs, domain)
    assert {"event": "slot", "name": "role", "value": None, "timestamp": None} in events


def test_a_volunteer_who_finds_one_patient_is_not_offered_booking(care_env, domain):
    sender = fresh_sender()
    log_in_staff(sender, "care-volunteer")
    msgs, _ = run(
        action("action_search_patient"),
        make_tracker(sender, STAFF, "find patient Mira", "search_patient", ents(person="Mira")),
        domain,
    )
    assert "*Meera Nair*" in texts(msgs, domain)
    assert [b["title"] for b in buttons(msgs, domain)] == ["Summary"]


def test_a_volunteer_may_not_book_cancel_or_move(care_env, domain):
    sender = fresh_sender()
    log_in_staff(sender, "care-volunteer")
    for hook, text, intent in (
        (scheduling.start_booking, "book Meera tomorrow", "book_appointment"),
        (scheduling.start_cancel, "cancel Meera's appointment", "cancel_appointment"),
    ):
        dispatcher = CollectingDispatcher()
        t = make_tracker(sender, STAFF, text, intent, ents(person="Meera"))
        events = asyncio.run(hook(dispatcher, t, domain))
        assert texts(dispatcher.messages, domain) == "Your role can't book or change appointments in CARE."
        assert events == []
    msgs, events = run(
        action("action_staff_reschedule"),
        make_tracker(
            sender, STAFF, "move Meera's appointment to friday", "reschedule_appointment", ents(person="Meera")
        ),
        domain,
    )
    assert texts(msgs, domain) == "Your role can't book or change appointments in CARE." and events == []


@pytest.mark.parametrize("section", ["records", "medications", "procedures", "appointments"])
def test_a_volunteer_asking_for_a_section_is_told_plainly(care_env, domain, section):
    sender = fresh_sender()
    log_in_staff(sender, "care-volunteer")
    dispatcher = CollectingDispatcher()
    t = make_tracker(sender, STAFF, f"Meera's {section}", f"get_{section}", ents(person="Meera"))
    events = asyncio.run(show_section(section, dispatcher, t, domain))
    assert texts(dispatcher.messages, domain).startswith("Your role can't see that in CARE.")
    assert active_loop_of(events) is False


def test_a_nurse_sees_blood_group_and_visit(care_env, domain):
    sender = fresh_sender()
    log_in_staff(sender, "care-nurse")
    msgs, _ = run(
        action("action_patient_summary"),
        make_tracker(sender, STAFF, "tell me about Meera", "patient_summary", ents(person="Meera")),
        domain,
    )
    summary = texts(msgs, domain)
    assert "Blood group AB+" in summary and "OP (OP-MEERA)" in summary and "Hypothyroidism" in summary


def test_one_age_format_for_every_patient_on_the_hospitals_clock(care_env, domain):
    """Ramesh has a date of birth, Sunita only a year of birth (sandbox/care/fixtures.yml): both read "NN y"."""
    from zoneinfo import ZoneInfo

    today = dt.datetime.now(ZoneInfo("Asia/Kolkata")).date()
    ramesh = today.year - 1968 - ((today.month, today.day) < (4, 12))
    sunita = today.year - 1974
    sender = fresh_sender()
    log_in_staff(sender, "care-doctor")
    msgs, _ = run(
        action("action_search_patient"), make_tracker(sender, STAFF, "who is +91 98765 43210", "search_patient"), domain
    )
    listed = texts(msgs, domain)
    assert f"*Ramesh Kumar* · {ramesh} y · M" in listed and f"*Sunita Kumar* · {sunita} y · F" in listed
    assert "b. " not in listed
    descriptions = [b.get("description", "") for b in buttons(msgs, domain)]
    assert any(d.startswith(f"{sunita} y") for d in descriptions)

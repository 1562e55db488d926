"""Booking, cancelling and moving appointments as staff, against a real sandbox CARE.

The sandbox's dates are relative to today, so these tests look at what the user is offered rather than at
fixed dates. Each test books with its own doctor/patient pair, so they do not take each other's slots.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from actions.care.client import CareClient
from actions.care.models import Appointment, Practitioner, Slot
from actions.shared import formatting as fmt
from actions.staff import scheduling
from actions.staff.practitioners import free_slots_on, practitioners
from actions.staff.session import staff_context
from tests.actions.harness import (
    FormDriver,
    action,
    active_loop_of,
    apply,
    buttons,
    choice_of,
    ents,
    fresh_sender,
    log_in_staff,
    make_tracker,
    run,
    texts,
)

# booking, cancelling and moving change the schedule: a sandbox of their own, so other tests see the seed data
pytestmark = pytest.mark.own_care_sandbox

STAFF = {"role": "staff"}
FORM = "schedule_appointment_form"


def hook(fn, sender, domain, text, intent, entities=None, slots=None):
    return run(fn, make_tracker(sender, {**STAFF, **(slots or {})}, text, intent, entities), domain)


def submit(name, form: FormDriver, domain):
    msgs, events = run(action(name), make_tracker(form.sender, form.slots), domain)
    return msgs, apply(dict(form.slots), events), events


def upcoming_of(sender: str, patient_id: str) -> list[Appointment]:
    ctx = staff_context(sender)
    from actions.scheduling import upcoming

    return upcoming(ctx.care.list_patient_appointments(patient_id), ctx.now())


def dated(start: dt.datetime | str, sender: str) -> str:
    """The day a confirmation names for `start`, from the hospital's clock (never fixed weekday names):
    "tomorrow, Thu 3 Dec", "today, Wed 2 Dec", "Fri 4 Dec" ("Fri 1 Jan 2027" in another year)."""
    ctx = staff_context(sender)
    today = ctx.today()
    start = dt.datetime.fromisoformat(start) if isinstance(start, str) else start
    day = start.astimezone(fmt.zone(ctx.tz)).date()
    text = f"{day:%a} {day.day} {day:%b}" + (f" {day.year}" if day.year != today.year else "")
    relative = {today: "today, ", today + dt.timedelta(days=1): "tomorrow, "}.get(day, "")
    return relative + text


def test_book_with_two_ravis_and_two_ashas_then_cancel(care_env, domain):
    sender = fresh_sender()
    log_in_staff(sender, "care-staff")
    text = "book Ravi with Dr. Asha tomorrow at 10"
    entities = ents(person="Ravi", practitioner="Dr. Asha")
    msgs, events = hook(scheduling.start_booking, sender, domain, text, "book_appointment", entities)
    assert msgs == [] and active_loop_of(events) == FORM

    form = FormDriver(FORM, sender, domain, slots=apply({**STAFF}, events))
    question = form.start(text, "book_appointment", entities)
    assert "2 patients match *Ravi*. Which one?" in texts(question, domain)  # asked, never guessed
    assert form.slots["sched_when"].endswith(" 10:00")  # "tomorrow at 10" was understood already

    kumar = next(b for b in buttons(question, domain) if "Kumar" in b["title"])
    question = form.choose(choice_of(kumar))
    assert "More than one doctor matches *Dr. Asha*" in texts(question, domain)
    assert {b["title"] for b in buttons(question, domain)} == {"Dr. Asha Menon", "Dr. Asha Pillai"}

    pillai = next(b for b in buttons(question, domain) if "Pillai" in b["title"])
    offered = form.choose(choice_of(pillai))
    said = texts(offered, domain)
    # Dr. Pillai has no 10 am clinic: the user is told and offered her free times instead
    assert "isn't free" in said or "no free time" in said
    slot_rows = buttons(offered, domain)
    assert slot_rows and all(b["payload"].startswith('/staff_choose{"staff_choice":"s:') for b in slot_rows)
    assert all(len(b["title"]) <= 24 for b in slot_rows)

    confirm = form.choose(choice_of(slot_rows[0]))
    when = dated(form.slots["sched_slot_start"], sender)  # the weekday and date, also next to "tomorrow"
    assert f"Book *Ravi Kumar* with *Dr. Asha Pillai* for {when}, " in texts(confirm, domain)
    assert [b["payload"] for b in buttons(confirm, domain)] == ["/affirm", "/deny"]
    form.say("yes", "affirm")
    assert form.active is False
    msgs, slots, _ = submit("action_staff_book", form, domain)
    assert f"Booked ✅ *Ravi Kumar* with *Dr. Asha Pillai* for {when}, " in texts(msgs, domain)
    patient_id = slots["staff_patient_id"]
    [booked] = upcoming_of(sender, patient_id)
    assert booked.practitioner.name == "Dr. Asha Pillai"

    # cancel it: the only upcoming appointment is picked, then confirmed
    msgs, events = hook(
        scheduling.start_cancel,
        sender,
        domain,
        "cancel Ravi Kumar's appointment",
        "cancel_appointment",
        ents(person="Ravi Kumar"),
    )
    assert active_loop_of(events) == "staff_cancel_form"
    cancel = FormDriver("staff_cancel_form", sender, domain, slots=apply({**STAFF}, events))
    question = cancel.start("cancel Ravi Kumar's appointment", "cancel_appointment")
    assert f"Cancel *Ravi Kumar*'s appointment with *Dr. Asha Pillai* for {dated(booked.start, sender)}, " in texts(
        question, domain
    )
    cancel.say("yes", "affirm")
    msgs, _, _ = submit("action_staff_cancel_submit", cancel, domain)
    assert f"Cancelled ✅ *Ravi Kumar*'s appointment with *Dr. Asha Pillai* for {when}, " in texts(msgs, domain)
    assert upcoming_of(sender, patient_id) == []


def test_specialty_and_next_monday_morning(care_env, domain):
    sender = fresh_sender()
    log_in_staff(sender, "care-nurse")
    text = "book Anita Sharma with the cardiologist next Monday morning"
    entities = ents(person="Anita Sharma", practitioner="cardiologist")
    _, events = hook(scheduling.start_booking, sender, domain, text, "book_appointment", entities)
    form = FormDriver(FORM, sender, domain, slots=apply({**STAFF}, events))
    offered = form.start(text, "book_appointment", entities)
    said = texts(offered, domain)
    today = staff_context(sender).today()
    day = "tomorrow" if (today + dt.timedelta(days=1)).weekday() == 0 else "on Monday"  # said on a Sunday
    assert f"Free times with *Dr. Rahul Verma* {day}" in said
    times = [b["title"] for b in buttons(offered, domain)]
    assert times[0] == "10 am" and all(t.endswith("am") for t in times)  # morning only
    form.choose(choice_of(buttons(offered, domain)[0]))
    assert "yes* or *no" in texts(form.say("hmm not sure", "nlu_fallback"), domain)  # the question stays open
    assert form.active is True and form.slots["sched_confirm"] is None
    form.say("no", "deny")
    assert form.active is False and form.slots["sched_confirm"] is False
    msgs, _, _ = submit("action_staff_book", form, domain)
    assert texts(msgs, domain) == "OK, nothing booked."


def test_a_day_without_clinic_moves_to_the_next_free_day(care_env, domain):
    sender = fresh_sender()
    log_in_staff(sender, "care-doctor")
    today = staff_context(sender).today()
    monday = today + dt.timedelta(days=7 - today.weekday())  # Dr. Asha Pillai works Tue, Thu, Sat
    text = f"book Sunita Kumar with Dr. Asha Pillai on {monday.day}/{monday.month}"
    entities = ents(person="Sunita Kumar", practitioner="Dr. Asha Pillai")
    _, events = hook(scheduling.start_booking, sender, domain, text, "book_appointment", entities)
    form = FormDriver(FORM, sender, domain, slots=apply({**STAFF}, events))
    said = texts(form.start(text, "book_appointment", entities), domain)
    day = "tomorrow" if monday == today + dt.timedelta(days=1) else "on Monday"
    assert f"Dr. Asha Pillai has no free time {day}" in said
    assert "The next free day is *Tuesday" in said
    assert "Free times with *Dr. Asha Pillai* on Tuesday" in said


def test_step_by_step_with_typed_answers(care_env, domain):
    sender = fresh_sender()
    log_in_staff(sender, "care-doctor")
    _, events = hook(scheduling.start_booking, sender, domain, "schedule appointment", "book_appointment")
    form = FormDriver(FORM, sender, domain, slots=apply({**STAFF}, events))
    assert "Who is the appointment for?" in texts(form.start("schedule appointment", "book_appointment"), domain)
    asked = form.say("ramesh kumar")
    assert "With which doctor?" in texts(asked, domain)
    assert len(buttons(asked, domain)) == 3  # the facility's schedulable users
    assert "No doctor here matches *Dr. Nobody*" in texts(form.say("Dr. Nobody"), domain)
    assert "Which day?" in texts(form.say("asha menon"), domain)
    assert "couldn't read a day" in texts(form.say("whenever"), domain)
    today = staff_context(sender).today()
    # Dr. Asha Menon's evening OPD is Monday to Friday
    later = "day after tomorrow" if (today + dt.timedelta(days=2)).weekday() < 5 else "monday"
    offered = form.say(f"{later} evening")
    assert all(b["title"].endswith("pm") for b in buttons(offered, domain))
    # another time instead of a choice: the list moves there
    offered = form.say("what about 10am")
    assert "Book *Ramesh Kumar* with *Dr. Asha Menon*" in texts(offered, domain) or "isn't free" in texts(
        offered, domain
    )


def test_move_an_appointment_to_another_time(care_env, domain):
    sender = fresh_sender()
    log_in_staff(sender, "care-doctor")
    text = "move Meera's appointment to friday 11am"
    msgs, events = run(
        action("action_staff_reschedule"),
        make_tracker(sender, STAFF, text, "reschedule_appointment", ents(person="Meera")),
        domain,
    )
    slots = apply({**STAFF}, events)
    meera = slots["staff_patient_id"]
    [old] = upcoming_of(sender, meera)
    assert active_loop_of(events) == "staff_cancel_form" and slots["staff_cancel_appt"] == old.id

    cancel = FormDriver("staff_cancel_form", sender, domain, slots=slots)
    cancel.start(text, "reschedule_appointment")
    assert cancel.active is False  # one appointment, nothing to ask
    msgs, slots, events = submit("action_staff_cancel_submit", cancel, domain)
    assert active_loop_of(events) == FORM and slots["sched_replaces"] == old.id

    book = FormDriver(FORM, sender, domain, slots=slots)
    confirm = texts(book.start(text, "reschedule_appointment"), domain)
    when = dated(book.slots["sched_slot_start"], sender)
    assert f"Move *Meera Nair*'s appointment with *Dr. Rahul Verma* to {when}, 11 am?" in confirm, confirm
    assert " to on " not in confirm  # "to Fri 27 Nov, 11 am", never "to on Fri"
    book.say("yes", "affirm")
    msgs, _, _ = submit("action_staff_book", book, domain)
    assert f"Moved ✅ *Meera Nair*'s appointment with *Dr. Rahul Verma* to {when}, 11 am;" in texts(msgs, domain)
    [new] = upcoming_of(sender, meera)
    assert new.id != old.id


def test_patient_unknown_for_cancel_asks_first(care_env, domain):
    sender = fresh_sender()
    log_in_staff(sender, "care-doctor")
    _msgs, events = hook(scheduling.start_cancel, sender, domain, "cancel the appointment", "cancel_appointment")
    assert active_loop_of(events) == "staff_patient_form"
    assert apply({}, events)["staff_pending"] == "cancel"


def test_a_volunteer_may_not_book(care_env, domain):
    sender = fresh_sender()
    log_in_staff(sender, "care-volunteer")
    msgs, events = hook(
        scheduling.start_booking, sender, domain, "book Meera tomorrow", "book_appointment", ents(person="Meera")
    )
    assert texts(msgs, domain) == "Your role can't book or change appointments in CARE."
    assert events == []


def test_no_at_the_cancel_question_keeps_the_appointment(care_env, domain):
    sender = fresh_sender()
    log_in_staff(sender, "care-doctor")
    _, events = hook(
        scheduling.start_cancel,
        sender,
        domain,
        "cancel Sunita's appointment",
        "cancel_appointment",
        ents(person="Sunita"),
    )
    cancel = FormDriver("staff_cancel_form", sender, domain, slots=apply({**STAFF}, events))
    [kept] = upcoming_of(sender, cancel.slots["staff_patient_id"])
    assert f"Cancel *Sunita Kumar*'s appointment with *Dr. Asha Menon* for {dated(kept.start, sender)}, " in texts(
        cancel.start(), domain
    )
    assert "yes* or *no" in texts(cancel.say("maybe later", "inform"), domain)
    cancel.say("no", "deny")
    assert cancel.active is False
    msgs, _, _ = submit("action_staff_cancel_submit", cancel, domain)
    assert texts(msgs, domain) == "OK, the appointment stays."
    assert len(upcoming_of(sender, cancel.slots["staff_patient_id"])) == 1


def test_asking_for_an_evening_without_clinic_says_so(care_env, domain):
    sender = fresh_sender()
    log_in_staff(sender, "care-doctor")
    today = staff_context(sender).today()
    friday = today + dt.timedelta(days=(4 - today.weekday()) % 7 or 7)  # Dr. Rahul Verma: Mon/Wed/Fri 10-13
    text = f"book Ramesh Kumar with Dr Rahul Verma on {friday.day}/{friday.month} evening"
    entities = ents(person="Ramesh Kumar", practitioner="Dr Rahul Verma")
    _, events = hook(scheduling.start_booking, sender, domain, text, "book_appointment", entities)
    form = FormDriver(FORM, sender, domain, slots=apply({**STAFF}, events))
    offered = form.start(text, "book_appointment", entities)
    day = "tomorrow" if friday == today + dt.timedelta(days=1) else "on Friday"  # said on a Thursday
    assert f"Dr. Rahul Verma has no free time {day}" in texts(offered, domain)
    assert "at that time of day" in texts(offered, domain)
    assert all(b["title"].endswith(("am", "pm")) for b in buttons(offered, domain))


def test_stop_words_are_left_to_the_stop_rule(care_env, domain):
    sender = fresh_sender()
    log_in_staff(sender, "care-doctor")
    _, events = hook(scheduling.start_booking, sender, domain, "book an appointment", "book_appointment")
    form = FormDriver(FORM, sender, domain, slots=apply({**STAFF}, events))
    form.start("book an appointment", "book_appointment")
    for word, intent in (("cancel", "cancel_appointment"), ("stop", "deny"), ("help", "help")):
        form.say(word, intent, may_reject=True)
        assert form.rejected, word


def test_a_booking_for_tomorrow_says_the_weekday_and_date(care_env, domain):
    """Against the sandbox's real free times: Dr. Asha Menon's OPD is Monday to Saturday, so her first OPD
    day from tomorrow is tomorrow except on a Saturday (the clock-independent case is the test below)."""
    sender = fresh_sender()
    log_in_staff(sender, "care-doctor")
    ctx = staff_context(sender)
    today = ctx.today()
    day = today + dt.timedelta(days=1)
    day += dt.timedelta(days=1 if day.weekday() == 6 else 0)
    [(fid, menon)] = [(f, p) for f, p in asyncio.run(practitioners(ctx)) if p.name == "Dr. Asha Menon"]
    slot = asyncio.run(free_slots_on(ctx, fid, menon.id, day))[-1]
    ramesh = "ee456dc9-7f58-47ed-bded-e0b4c97fe596"
    slots = {
        **STAFF,
        "sched_patient": ramesh,
        "sched_patient_name": "Ramesh Kumar",
        "sched_practitioner": menon.id,
        "sched_practitioner_name": menon.name,
        "sched_facility": fid,
        "sched_when": day.isoformat(),
        "sched_slot": slot.id,
        "sched_slot_start": slot.start.isoformat(),
    }
    when = f"{dated(slot.start, sender)}, {fmt.slot_time(slot, ctx.tz)}"
    if day == today + dt.timedelta(days=1):
        assert when.startswith(f"tomorrow, {day:%a} {day.day} {day:%b}")
    msgs, _ = run(action("action_ask_schedule_appointment_form_sched_confirm"), make_tracker(sender, slots), domain)
    assert texts(msgs, domain) == f"Book *Ramesh Kumar* with *Dr. Asha Menon* for {when}?"
    msgs, _ = run(action("action_staff_book"), make_tracker(sender, {**slots, "sched_confirm": True}), domain)
    assert texts(msgs, domain) == f"Booked ✅ *Ramesh Kumar* with *Dr. Asha Menon* for {when}."
    assert any(a.slot.id == slot.id for a in upcoming_of(sender, ramesh))


def test_tomorrow_is_dated_in_every_confirmation_on_any_day(care_env, domain, monkeypatch):
    """Tomorrow at 9:30 am in the hospital's zone, whatever the day (no clinic needed: CARE's answers for
    that appointment are stubbed). Booking, moving and cancelling, questions and answers."""
    sender = fresh_sender()
    log_in_staff(sender, "care-doctor")
    ctx = staff_context(sender)
    today = ctx.today()
    tomorrow = today + dt.timedelta(days=1)
    start = dt.datetime.combine(tomorrow, dt.time(9, 30), fmt.zone(ctx.tz)).astimezone(dt.timezone.utc)
    year = f" {tomorrow.year}" if tomorrow.year != today.year else ""  # 31 Dec: "tomorrow, Fri 1 Jan 2027"
    when = f"tomorrow, {tomorrow:%a} {tomorrow.day} {tomorrow:%b}{year}, 9:30 am"
    appt = Appointment(
        id="a-tomorrow",
        status="booked",
        patient_id="p-1",
        patient_name="Ramesh Kumar",
        slot=Slot(id="s-tomorrow", start=start, end=start + dt.timedelta(minutes=15)),
        practitioner=Practitioner(id="d-1", first_name="Asha", last_name="Menon", prefix="Dr."),
    )
    monkeypatch.setattr(CareClient, "book_appointment", lambda self, fid, sid, pid, note="": appt)
    monkeypatch.setattr(CareClient, "cancel_appointment", lambda self, fid, aid, reason="cancelled": appt)
    monkeypatch.setattr(CareClient, "list_patient_appointments", lambda self, pid, *a, **k: [appt])
    assert appt.practitioner.name == "Dr. Asha Menon"

    booking = {
        **STAFF,
        "sched_patient": "p-1",
        "sched_patient_name": "Ramesh Kumar",
        "sched_practitioner": "d-1",
        "sched_practitioner_name": "Dr. Asha Menon",
        "sched_facility": "f-1",
        "sched_when": tomorrow.isoformat(),
        "sched_slot": "s-tomorrow",
        "sched_slot_start": start.isoformat(),
    }
    ask, book = action("action_ask_schedule_appointment_form_sched_confirm"), action("action_staff_book")
    msgs, _ = run(ask, make_tracker(sender, booking), domain)
    assert texts(msgs, domain) == f"Book *Ramesh Kumar* with *Dr. Asha Menon* for {when}?"
    msgs, _ = run(book, make_tracker(sender, {**booking, "sched_confirm": True}), domain)
    assert texts(msgs, domain) == f"Booked ✅ *Ramesh Kumar* with *Dr. Asha Menon* for {when}."

    moving = {**booking, "sched_replaces": "a-old"}
    msgs, _ = run(ask, make_tracker(sender, moving), domain)
    assert texts(msgs, domain) == f"Move *Ramesh Kumar*'s appointment with *Dr. Asha Menon* to {when}?"
    msgs, _ = run(book, make_tracker(sender, {**moving, "sched_confirm": True}), domain)
    assert (
        texts(msgs, domain)
        == f"Moved ✅ *Ramesh Kumar*'s appointment with *Dr. Asha Menon* to {when}; the old appointment is cancelled."
    )

    cancel = {**STAFF, "staff_patient_id": "p-1", "staff_cancel_mode": "cancel", "staff_cancel_appt": "a-tomorrow"}
    msgs, _ = run(action("action_ask_staff_cancel_form_staff_cancel_confirm"), make_tracker(sender, cancel), domain)
    assert texts(msgs, domain) == f"Cancel *Ramesh Kumar*'s appointment with *Dr. Asha Menon* for {when}?"
    msgs, _ = run(
        action("action_staff_cancel_submit"), make_tracker(sender, {**cancel, "staff_cancel_confirm": True}), domain
    )
    assert texts(msgs, domain) == f"Cancelled ✅ *Ramesh Kumar*'s appointment with *Dr. Asha Menon* for {when}."

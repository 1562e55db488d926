"""Booking and cancelling with the patient's token, against the sandbox CARE's schedules."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from actions.shared import clock, who
from tests.actions.harness import (
    RAMESH,
    SUNITA,
    active_loop_of,
    fresh_sender,
    log_in_patient,
    make_tracker,
    message,
    responses,
    run,
    slots_set,
)

# booking and cancelling change the schedule: a sandbox of their own, so other tests see the seed data
pytestmark = [pytest.mark.usefixtures("care_env"), pytest.mark.own_care_sandbox]

BOOK = "book_appointment_form"
CANCEL = "cancel_appointment_form"
ASHA_MENON = "bd54a959-57e2-48e9-b170-c87fde12b80a"


@pytest.fixture
def sunita(domain):
    sender = fresh_sender()
    log_in_patient(sender, "+919876543210", selected=SUNITA)
    return sender


def next_weekday(weekday: int) -> dt.date:
    from actions.shared.clock import today

    d = today() + dt.timedelta(days=1)
    while d.weekday() != weekday:
        d += dt.timedelta(days=1)
    return d


def coming_weekday(weekday: int) -> dt.date:
    """The day a bare weekday name means: the next such day, today included (common/dates.py)."""
    from actions.shared.clock import today

    return today() + dt.timedelta(days=(weekday - today().weekday()) % 7)


def dated(day: dt.date) -> str:
    """'Thu 3 Dec' (with the year when it is not this year's), from the hospital's clock."""
    from actions.shared.clock import today

    return f"{day:%a} {day.day} {day:%b}" + (f" {day.year}" if day.year != today().year else "")


def day_without_appointments(login, patient_id: str) -> dt.date:
    """A coming OPD day of Dr. Asha Menon (Mon-Sat, from tomorrow) on which the patient has no appointment."""
    from actions.patient import access
    from actions.shared import formatting

    tz = clock.timezone_name()
    taken = {
        formatting.to_local(a.start, tz).date()
        for a in access.patient_api(login).list_appointments()
        if a.patient_id == patient_id and a.start and not a.is_cancelled
    }
    return next(d for d in map(next_weekday, (1, 2, 3, 4, 0, 5)) if d not in taken)


def book_request(sender, text, domain, entities=None):
    from actions.requests import ActionBookAppointment

    t = make_tracker(
        sender,
        text=text,
        intent="book_appointment",
        entities=entities,
        slots={"role": "patient", "patient_name": "Sunita Kumar"},
    )
    return run(ActionBookAppointment(), t, domain)


def validate_booking(sender, slot, text, domain, slots, intent="nlu_fallback", entities=None):
    from actions.patient.booking_form import ValidateBookAppointmentForm

    t = make_tracker(
        sender,
        text=text,
        intent=intent,
        entities=entities,
        active_loop=BOOK,
        requested_slot=slot,
        slots={"role": "patient", "patient_name": "Sunita Kumar", **slots},
    )
    return run(ValidateBookAppointmentForm(), t, domain)


def test_an_ambiguous_doctor_is_asked_about_with_only_the_matching_doctors(sunita, domain):
    from actions.patient.booking_form import ActionAskBookingPractitioner

    d, events = book_request(
        sunita, "book me with Dr. Asha on Friday morning", domain, entities=[("practitioner", "Dr. Asha")]
    )
    slots = slots_set(events)
    assert active_loop_of(events) == BOOK
    assert slots["booking_practitioner"] is None and slots["booking_doctor_query"]
    from actions.shared.clock import now

    friday = coming_weekday(4)
    if friday == now().date() and now().hour >= 12:
        friday += dt.timedelta(days=7)  # said on a Friday afternoon: this morning is over, next Friday's
    assert slots["booking_day"] == friday.isoformat() and slots["booking_time"] == "06:00-12:00"
    d, _ = run(ActionAskBookingPractitioner(), make_tracker(sunita, slots=slots, active_loop=BOOK), domain)
    msg = message(d, "utter_ask_booking_practitioner_which")
    assert [b["title"] for b in msg["buttons"]] == ["Dr. Asha Menon", "Dr. Asha Pillai"]


def test_choosing_the_doctor_checks_the_day_already_given(sunita, domain):
    friday = next_weekday(4).isoformat()
    _d, events = validate_booking(
        sunita,
        "booking_practitioner",
        f'/choose{{"choice":"{ASHA_MENON}"}}',
        domain,
        {"booking_day": friday, "booking_time": "06:00-12:00"},
        intent="choose",
        entities=[("choice", ASHA_MENON)],
    )
    slots = slots_set(events)
    assert slots["booking_practitioner"] == ASHA_MENON and slots["booking_day"] == friday
    assert slots["requested_slot"] == "booking_slot"


def test_free_times_are_a_list_within_the_part_of_day(sunita, domain):
    from actions.patient.booking_form import ActionAskBookingSlot

    t = make_tracker(
        sunita,
        active_loop=BOOK,
        requested_slot="booking_slot",
        slots={
            "booking_practitioner": ASHA_MENON,
            "booking_day": next_weekday(4).isoformat(),
            "booking_time": "06:00-12:00",
        },
    )
    d, _ = run(ActionAskBookingSlot(), t, domain)
    msg = next(m for m in d.messages if m["response"].startswith("utter_ask_booking_slot"))
    titles = [b["title"] for b in msg["buttons"]]
    # from 9 am, when the OPD opens (the seed may have taken 9 am that day), mornings only, at most 10 rows
    assert titles[0] in ("9 am", "9:15 am") and all(t.endswith("am") for t in titles) and len(titles) <= 10


def test_a_typed_time_picks_that_slot_and_a_full_day_offers_the_next(sunita, domain):
    friday = next_weekday(4).isoformat()
    _, events = validate_booking(
        sunita, "booking_slot", "10:30", domain, {"booking_practitioner": ASHA_MENON, "booking_day": friday}
    )
    assert slots_set(events)["booking_slot"] and slots_set(events)["requested_slot"] == "booking_confirmed"
    sunday = next_weekday(6).isoformat()  # Dr. Asha Menon has no Sunday OPD
    d, events = validate_booking(sunita, "booking_day", "sunday", domain, {"booking_practitioner": ASHA_MENON})
    msg = message(d, "utter_booking_day_full")
    # "sunday" said on a Saturday is tomorrow; said on a Sunday it is today, and Monday is then tomorrow
    from actions.shared.clock import today

    now = today()
    said = {5: "tomorrow", 6: "today"}.get(now.weekday(), "on Sunday")
    assert msg["day"].startswith(said), msg
    assert msg["next_day"].startswith("tomorrow" if now.weekday() == 6 else "Monday"), msg
    assert slots_set(events)["booking_day"] is None and slots_set(events)["requested_slot"] == "booking_day"
    assert sunday not in str(slots_set(events))


def test_a_day_in_the_past_is_refused(sunita, domain):
    d, events = validate_booking(sunita, "booking_day", "2020-01-01", domain, {"booking_practitioner": ASHA_MENON})
    assert "utter_booking_day_past" in responses(d) and slots_set(events)["booking_day"] is None


def test_book_confirm_and_see_it_in_care(sunita, domain):
    from actions.patient import access
    from actions.patient.booking import free_slots
    from actions.patient.booking_form import ActionAskBookingConfirmed, ActionBookAppointmentDone

    login = who.store().login(sunita)
    day = day_without_appointments(login, SUNITA)  # else "Book another one?" comes first
    import asyncio

    slot = asyncio.run(free_slots(login, ASHA_MENON, day))[-1]
    slots = {
        "booking_practitioner": ASHA_MENON,
        "booking_day": day.isoformat(),
        "booking_slot": slot.id,
        "patient_name": "Sunita Kumar",
    }
    d, _ = run(ActionAskBookingConfirmed(), make_tracker(sunita, slots=slots, active_loop=BOOK), domain)
    ask = message(d, "utter_ask_booking_confirmed")
    assert ask["doctor"] == "Dr. Asha Menon" and ask["patient_name"] == "Sunita Kumar"
    assert dated(day) in ask["when"]  # "tomorrow, Thu 3 Dec, 5:30 pm": never "tomorrow" alone
    _, events = validate_booking(sunita, "booking_confirmed", "yes", domain, slots, intent="affirm")
    assert slots_set(events)["booking_confirmed"] is True and slots_set(events)["requested_slot"] is None
    d, events = run(
        ActionBookAppointmentDone(), make_tracker(sunita, slots={**slots, "booking_confirmed": True}), domain
    )
    booked = message(d, "utter_booked")
    assert booked["doctor"] == "Dr. Asha Menon" and booked["place"] == "Shimla District Hospital"
    assert dated(day) in booked["when"] and booked["when"].endswith("pm")
    assert slots_set(events)["booking_slot"] is None
    mine = [a for a in access.patient_api(login).list_appointments() if a.slot.id == slot.id]
    assert mine and mine[0].patient_id == SUNITA and not mine[0].is_cancelled


def test_saying_no_books_nothing(sunita, domain):
    from actions.patient.booking_form import ActionBookAppointmentDone

    d, _ = run(
        ActionBookAppointmentDone(),
        make_tracker(sunita, slots={"booking_confirmed": False, "booking_slot": "x"}),
        domain,
    )
    assert responses(d) == ["utter_booking_not_done"]


def test_booking_before_login_keeps_the_doctor_and_day_for_after(domain):
    _d, events = book_request(fresh_sender(), "book with dr rahul verma on monday", domain)
    slots = slots_set(events)
    assert active_loop_of(events) == "patient_login_form" and slots["pending_request"] == "book"
    assert slots["booking_practitioner"] and slots["booking_day"] == coming_weekday(0).isoformat()


def test_cancel_tomorrows_appointment(domain):
    from actions.patient import access
    from actions.patient.cancelling import ActionAskCancelConfirmed, ActionCancelAppointmentDone
    from actions.requests import ActionCancelAppointment
    from actions.shared import formatting

    sender = fresh_sender()
    login = log_in_patient(sender, "+919876543210", selected=RAMESH)
    # the seed books Ramesh "tomorrow at 9", moved to Dr. Asha Menon's next OPD day when tomorrow has none
    day = min(
        formatting.to_local(a.start, clock.timezone_name()).date()
        for a in access.patient_api(login).list_appointments()
        if a.patient_id == RAMESH
        and not a.is_cancelled
        and a.start
        and formatting.to_local(a.start, clock.timezone_name()).date() > clock.today()
    )
    tomorrow = day == clock.today() + dt.timedelta(days=1)
    said = "tomorrow" if tomorrow else f"on {day:%A}"
    t = make_tracker(
        sender,
        text=f"cancel my appointment {said}",
        intent="cancel_appointment",
        slots={"role": "patient", "patient_name": "Ramesh Kumar"},
    )
    d, events = run(ActionCancelAppointment(), t, domain)
    slots = slots_set(events)
    assert active_loop_of(events) == CANCEL and slots["cancel_choice"]
    d, _ = run(ActionAskCancelConfirmed(), make_tracker(sender, slots=slots, active_loop=CANCEL), domain)
    ask = message(d, "utter_ask_cancel_confirmed")
    assert ask["doctor"] == "Dr. Asha Menon"
    assert ask["when"].startswith("tomorrow" if tomorrow else f"{day:%a} {day.day} {day:%b}")
    assert dated(day) in ask["when"]
    d, _ = run(ActionCancelAppointmentDone(), make_tracker(sender, slots={**slots, "cancel_confirmed": True}), domain)
    assert dated(day) in message(d, "utter_appointment_cancelled")["when"]
    cancelled = [a for a in access.patient_api(login).list_appointments() if a.id == slots["cancel_choice"]]
    assert cancelled[0].is_cancelled


def test_cancel_with_several_appointments_asks_which(sunita, domain):
    import asyncio

    from actions.patient import access
    from actions.patient.booking import free_slots
    from actions.patient.cancelling import ActionAskCancelChoice, ValidateCancelAppointmentForm
    from actions.requests import ActionCancelAppointment

    login = who.store().login(sunita)
    # a day she has no other appointment on, so "the one on <weekday>" names one (the seed books her at +3 days)
    tz = ZoneInfo(clock.timezone_name())
    taken = {
        a.start.astimezone(tz).weekday()
        for a in access.patient_api(login).list_appointments()
        if a.start and not a.is_cancelled
    }
    day = next(d for d in map(next_weekday, (3, 2, 1, 4, 0, 5)) if d.weekday() not in taken)
    slot = asyncio.run(free_slots(login, ASHA_MENON, day))[0]
    access.patient_api(login).book_appointment(slot.id, SUNITA)
    t = make_tracker(sunita, text="cancel my appointment", intent="cancel_appointment", slots={"role": "patient"})
    _, events = run(ActionCancelAppointment(), t, domain)
    assert active_loop_of(events) == CANCEL and slots_set(events)["cancel_choice"] is None
    d, _ = run(
        ActionAskCancelChoice(), make_tracker(sunita, active_loop=CANCEL, requested_slot="cancel_choice"), domain
    )
    rows = message(d, "utter_ask_cancel_choice")["buttons"]
    assert len(rows) >= 2 and all("Dr. Asha Menon" in r["title"] for r in rows)
    typed = day.strftime("%A").lower()
    t = make_tracker(
        sunita, text=f"the one on {typed}", intent="nlu_fallback", active_loop=CANCEL, requested_slot="cancel_choice"
    )
    _, events = run(ValidateCancelAppointmentForm(), t, domain)
    assert slots_set(events)["cancel_choice"] and slots_set(events)["requested_slot"] == "cancel_confirmed"


def test_cancel_the_one_at_a_dotted_time(sunita, domain):
    """ "pls cancel the 9.30 one" (Indian English writes times with a dot) picks the appointment at that time."""
    import asyncio

    from actions.patient import access
    from actions.patient.booking import free_slots
    from actions.requests import ActionCancelAppointment
    from actions.shared import formatting

    login = who.store().login(sunita)
    tz = clock.timezone_name()
    taken = {
        formatting.to_local(a.start, tz).time()
        for a in access.patient_api(login).list_appointments()
        if a.start and not a.is_cancelled
    }
    slot = next(
        s
        for s in asyncio.run(free_slots(login, ASHA_MENON, next_weekday(2)))
        if formatting.to_local(s.start, tz).time() not in taken
    )
    booked = access.patient_api(login).book_appointment(slot.id, SUNITA)
    local = formatting.to_local(slot.start, tz)
    t = make_tracker(
        sunita,
        text=f"pls cancel the {local.hour % 12 or 12}.{local.minute:02d} one",
        intent="cancel_appointment",
        slots={"role": "patient"},
    )
    _, events = run(ActionCancelAppointment(), t, domain)
    assert active_loop_of(events) == CANCEL and slots_set(events)["cancel_choice"] == booked.id


def test_cancel_on_a_day_without_appointments_says_so(domain):
    from actions.requests import ActionCancelAppointment
    from actions.shared.clock import today

    sender = fresh_sender()
    log_in_patient(sender, "+919123456789")
    day = today() + dt.timedelta(days=20)  # Anita's only appointment is in 2 days (a fixed "1 jan" may be it)
    t = make_tracker(
        sender,
        text=f"cancel my appointment on {day.day} {day:%b}".lower(),
        intent="cancel_appointment",
        slots={"role": "patient"},
    )
    d, _events = run(ActionCancelAppointment(), t, domain)
    assert message(d, "utter_no_appointment_that_day")["day"] == f"on {day:%A} {day.day} {day:%b}" + (
        f" {day.year}" if day.year != today().year else ""
    )


def test_bare_cancel_during_a_form_stops_it(sunita, domain):
    from actions.requests import ActionCancelAppointment

    t = make_tracker(sunita, text="cancel", intent="cancel_appointment", active_loop=BOOK, requested_slot="booking_day")
    d, events = run(ActionCancelAppointment(), t, domain)
    assert responses(d) == ["utter_booking_not_done"] and active_loop_of(events) is None


def test_book_it_answers_the_confirmation(sunita, domain):
    _, events = validate_booking(
        sunita,
        "booking_confirmed",
        "book it",
        domain,
        {"booking_practitioner": ASHA_MENON, "booking_day": "2030-01-01", "booking_slot": "x"},
        intent="book_appointment",
    )
    assert slots_set(events)["booking_confirmed"] is True


def test_cancel_it_answers_the_cancel_confirmation(sunita, domain):
    from actions.patient.cancelling import ValidateCancelAppointmentForm

    t = make_tracker(
        sunita,
        text="cancel it",
        intent="cancel_appointment",
        active_loop=CANCEL,
        requested_slot="cancel_confirmed",
        slots={"cancel_choice": "x"},
    )
    _, events = run(ValidateCancelAppointmentForm(), t, domain)
    assert slots_set(events)["cancel_confirmed"] is True


def test_a_new_doctor_during_a_booking_changes_only_the_doctor(sunita, domain):
    from actions.requests import ActionBookAppointment

    friday = next_weekday(4).isoformat()
    t = make_tracker(
        sunita,
        text="book with dr rahul verma instead",
        intent="book_appointment",
        active_loop=BOOK,
        requested_slot="booking_slot",
        slots={"booking_practitioner": ASHA_MENON, "booking_day": friday, "role": "patient"},
    )
    _, events = run(ActionBookAppointment(), t, domain)
    slots = slots_set(events)
    assert slots["booking_practitioner"] != ASHA_MENON and slots["booking_slot"] is None
    assert active_loop_of(events) == BOOK
    t = make_tracker(
        sunita,
        text="book it",
        intent="book_appointment",
        active_loop=BOOK,
        requested_slot="booking_slot",
        slots={"booking_practitioner": ASHA_MENON, "role": "patient"},
    )
    _, events = run(ActionBookAppointment(), t, domain)
    assert events == []  # nothing new: the form asks its question again


def test_the_day_question_offers_the_next_free_days_as_buttons(sunita, domain):
    from actions.patient.booking_form import ActionAskBookingDay

    t = make_tracker(sunita, active_loop=BOOK, requested_slot="booking_day", slots={"booking_practitioner": ASHA_MENON})
    d, _ = run(ActionAskBookingDay(), t, domain)
    buttons = message(d, "utter_ask_booking_day")["buttons"]
    assert 1 <= len(buttons) <= 3 and buttons[0]["payload"].startswith('/choose{"choice":"')
    assert all(b["title"][0].isupper() for b in buttons)


def test_a_second_booking_the_same_morning_asks_first_and_no_books_nothing(sunita, domain):
    import asyncio

    from actions.patient import access
    from actions.patient.booking import free_slots
    from actions.patient.booking_form import ActionAskBookingConfirmed, ActionBookAppointmentDone
    from actions.patient.session import ActionStopPatientForm
    from actions.shared import formatting

    login = who.store().login(sunita)
    tz = clock.timezone_name()
    day = day_without_appointments(login, SUNITA)
    morning = [s for s in asyncio.run(free_slots(login, ASHA_MENON, day)) if formatting.to_local(s.start, tz).hour < 12]
    first, second = morning[0], morning[2]
    kept = access.patient_api(login).book_appointment(first.id, SUNITA)
    slots = {
        "booking_practitioner": ASHA_MENON,
        "booking_day": day.isoformat(),
        "booking_slot": second.id,
        "patient_name": "Sunita Kumar",
    }
    d, events = run(ActionAskBookingConfirmed(), make_tracker(sunita, slots=slots, active_loop=BOOK), domain)
    assert responses(d) == ["utter_ask_booking_confirmed_same_part"]
    ask = message(d, "utter_ask_booking_confirmed_same_part")
    text = domain["responses"]["utter_ask_booking_confirmed_same_part"][0]["text"].format(**ask)
    at = formatting.slot_title(first, tz)  # "9 am"
    assert text.startswith(
        f"*Sunita Kumar* already has an appointment with *Dr. Asha Menon* at {at} the same morning. Book another one?"
    ), text
    assert dated(day) in ask["when"]
    buttons = domain["responses"]["utter_ask_booking_confirmed_same_part"][0]["buttons"]
    assert [b["payload"] for b in buttons] == ["/affirm", "/deny"]
    assert slots_set(events)["booking_nearby"] == kept.id
    slots["booking_nearby"] = kept.id
    # "No": to the form (booking_confirmed false) or, by the rule for "no" in a form, the stop action
    _, events = validate_booking(sunita, "booking_confirmed", "no", domain, slots, intent="deny")
    assert slots_set(events)["booking_confirmed"] is False
    d, events = run(
        ActionBookAppointmentDone(), make_tracker(sunita, slots={**slots, "booking_confirmed": False}), domain
    )
    assert responses(d) == ["utter_booking_kept_existing"] and slots_set(events)["booking_nearby"] is None
    t = make_tracker(
        sunita, text="no", intent="deny", active_loop=BOOK, requested_slot="booking_confirmed", slots=slots
    )
    d, _ = run(ActionStopPatientForm(), t, domain)
    assert responses(d) == ["utter_booking_kept_existing"]
    mine = [a for a in access.patient_api(login).list_appointments() if a.patient_id == SUNITA and not a.is_cancelled]
    assert [a.id for a in mine if a.slot.id == first.id] == [kept.id]
    assert not [a for a in mine if a.slot.id == second.id]
    # the same doctor in the evening of that day: asked too, in words for the day
    free = asyncio.run(free_slots(login, ASHA_MENON, day))
    evening = [s for s in free if formatting.to_local(s.start, tz).hour >= 16]
    if evening:  # Saturdays have no evening OPD
        t = make_tracker(sunita, slots={**slots, "booking_slot": evening[-1].id}, active_loop=BOOK)
        d, _ = run(ActionAskBookingConfirmed(), t, domain)
        assert responses(d) == ["utter_ask_booking_confirmed_same_day"]
        assert message(d, "utter_ask_booking_confirmed_same_day")["existing_time"] == at

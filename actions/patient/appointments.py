"""Appointments by day, and a second booking close to an existing one.

- "do i have any appointment tomorrow" answers for that day first: the appointments on it, or "no
  appointment tomorrow (Thu 3 Dec)" and the next one. The day is read from the message with
  `common.dates.parse_when` on the hospital's clock, and travels through a login or a choice of patient in
  `pending_request` as `appointments@<first ISO day>[/<last ISO day>]` (the date said, not the words: a
  login that ends after midnight still answers for the day that was meant).
- Before a booking is confirmed, an appointment of the same patient with the same doctor on the same day,
  or with anyone within a few hours of the new time (actions/scheduling/appointments.py), is named and the
  patient asked "Book another one?".
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import scheduling
from actions.care.models import Appointment, Slot
from actions.patient.access import patient_api
from actions.patient.family import Member
from actions.shared import clock, formatting
from actions.shared.clients import care_call
from actions.shared.replies import send
from common.dates import format_date, format_time, parse_when, part_of_day
from sessions.store import Login

APPOINTMENTS = "appointments"
DAY_MARK = "@"
# seen or in the room: no longer "upcoming", still an appointment of that day

Days = tuple[dt.date, dt.date]


# ------------------------------------------------------------------------------------------- the day asked


def asked_days(text: str) -> Days | None:
    """The day (or days: "next week") a message names, on the hospital's clock; None when it names none."""
    when = parse_when(text, clock.now(), clock.timezone_name())
    if when is None or when.day is None:
        return None
    return when.day, max(when.day_end or when.day, when.day)


def request_for(section: str, days: Days | None) -> str:
    """`appointments` or `appointments@2026-12-03` / `appointments@2026-12-07/2026-12-13`."""
    if days is None:
        return section
    first, last = days
    return f"{section}{DAY_MARK}{first.isoformat()}" + (f"/{last.isoformat()}" if last != first else "")


def split_request(pending: str) -> tuple[str, Days | None]:
    """The section and the days of a pending request; an unreadable day is dropped (the whole list then)."""
    section, mark, value = (pending or "").partition(DAY_MARK)
    if not mark:
        return section, None
    first, _, last = value.partition("/")
    try:
        start = dt.date.fromisoformat(first)
        end = dt.date.fromisoformat(last) if last else start
    except ValueError:
        return section, None
    return section, (start, max(start, end))


def on_days(appointments: list[Appointment], patient_id: str, days: Days) -> list[Appointment]:
    """The patient's appointments (not cancelled) on those days, also ones already over today."""
    first, last = days
    timed = [(a.start, a) for a in appointments if a.patient_id == patient_id and not a.is_cancelled and a.start]
    return [a for start, a in sorted(timed, key=lambda pair: pair[0]) if first <= clock.to_local(start).date() <= last]


def upcoming(appointments: list[Appointment], patient_id: str) -> list[Appointment]:
    """The patient's booked appointments from now on, soonest first (no time set: last)."""
    return scheduling.upcoming(appointments, clock.now(), patient_id)


def on_day(day: dt.date) -> str:
    """'today (Wed 2 Dec)', 'tomorrow (Thu 3 Dec)', 'on Friday 27 Nov': fits after "free" / "no appointment"."""
    return formatting.day_phrase(day, clock.today(), dated=True)


def _day_values(days: Days) -> dict[str, str]:
    """{day} for one day ('tomorrow (Thu 3 Dec)', 'on Friday 4 Dec'), {first}/{last} for several."""
    first, last = days
    if first == last:
        return {"day": on_day(first)}
    return {"first": format_date(first, clock.today()), "last": format_date(last, clock.today())}


async def show_days(dispatcher: CollectingDispatcher, login: Login, member: Any, days: Days) -> list[EventType]:
    """That day's appointments (the others only offered), or 'none that day' and the next one."""

    everything = await care_call(patient_api(login).list_appointments)
    those = on_days(everything, member.id, days)
    later = [a for a in upcoming(everything, member.id) if a not in those]
    tz, today = clock.timezone_name(), clock.today()
    values = _day_values(days)
    several = "first" in values
    if those:
        send(
            dispatcher,
            formatting.appointment_blocks(those, tz, today),
            **_FOUND[several],
            patient_name=member.name,
            **values,
        )
        if later:
            dispatcher.utter_message(response="utter_appointments_others_offer", count=len(later))
        return []
    if not later:
        dispatcher.utter_message(**_NONE_AT_ALL[several], patient_name=member.name, **values)
        return []
    nxt = later[0]
    dispatcher.utter_message(
        **_NONE_THEN_NEXT[several],
        patient_name=member.name,
        when=formatting.appointment_when(nxt, tz, today),
        doctor=doctor_of(nxt),
        **values,
    )
    return []


# the answers for one day (False) or several ("next week": True), written out so that every response sent is
# findable by name (tests/rasa/test_project.py)
_FOUND = {False: dict(response="utter_appointments_on_day"), True: dict(response="utter_appointments_in_days")}
_NONE_AT_ALL = {
    False: dict(response="utter_no_appointment_on_day_none"),
    True: dict(response="utter_no_appointment_in_days_none"),
}
_NONE_THEN_NEXT = {
    False: dict(response="utter_no_appointment_on_day_next"),
    True: dict(response="utter_no_appointment_in_days_next"),
}


# ------------------------------------------------------------------------------------------- a second booking


def nearby_question(existing: Appointment, slot: Slot, patient_name: str, doctor: str) -> dict[str, Any]:
    """The utter_message arguments of "<patient> already has an appointment ... Book another one?": the
    same part of the day ("the same morning"), the same day, or another day a few hours away."""
    tz, today = clock.timezone_name(), clock.today()
    if existing.start is None or slot.start is None:  # nearby() only finds timed ones: a plain question then
        raise ValueError("an appointment near an untimed slot")
    old, new = formatting.to_local(existing.start, tz), formatting.to_local(slot.start, tz)
    values: dict[str, Any] = {
        "patient_name": patient_name,
        "doctor": doctor,
        "existing_doctor": doctor_of(existing),
        "when": formatting.slot_when(slot, tz, today),
    }
    if old.date() != new.date():
        return {
            **dict(response="utter_ask_booking_confirmed_near"),
            **values,
            "existing_when": formatting.appointment_when(existing, tz, today),
        }
    part = part_of_day(old.time())
    values["existing_time"] = format_time(old.time().replace(tzinfo=None))
    if part is not None and part == part_of_day(new.time()):
        return {**dict(response="utter_ask_booking_confirmed_same_part"), **values, "part": part}
    return {**dict(response="utter_ask_booking_confirmed_same_day"), **values}


def not_done(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """ "No" to the booking question (the form's answer or the stop rule): nothing is booked, and an
    appointment the question named stays as it is."""
    if tracker.get_slot("booking_nearby"):
        dispatcher.utter_message(
            response="utter_booking_kept_existing", patient_name=tracker.get_slot("patient_name") or "you"
        )
    else:
        dispatcher.utter_message(response="utter_booking_not_done")


def doctor_of(appt: Appointment) -> str:
    """The appointment's doctor for a sentence: "Dr. Asha Menon", else "the doctor"."""
    return formatting.doctor_of(appt) or "the doctor"


async def upcoming_appointments(login: Login, member: Member) -> list[Any]:
    """The member's booked appointments from now on (CARE's patient list has every phone member's)."""
    return upcoming(await care_call(patient_api(login).list_appointments), member.id)

"""Booking an appointment with the patient's own token (CARE's /otp/slots/ API).

"book me with Dr. Asha on Friday morning" -> the doctor, day and part of day are read from the message ->
book_appointment_form asks what is missing (doctor -> day -> free time from a list -> yes/no) ->
action_book_appointment_done books it. Slots hold the practitioner id, an ISO day, a time spec and CARE's
slot id: nothing about the patient.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.care.models import Practitioner, Slot
from actions.patient.access import needs_login, patient_api
from actions.patient.appointments import on_day
from actions.scheduling import days as day_words
from actions.scheduling import slots as free_times
from actions.scheduling.days import MAX_DAYS_AHEAD
from actions.scheduling.practitioners import DOCTOR_RE, find_practitioner, home_facility, practitioners_at
from actions.scheduling.slots import LOOKAHEAD_DAYS
from actions.scheduling.windows import in_window, time_spec, window
from actions.shared import clients, clock, turn
from actions.shared.clients import call_service
from actions.shared.errors import CARE_ERRORS, explain
from actions.shared.turn import tap_payload
from common.dates import format_day, format_day_dated, format_time, parse_when
from common.names import Match
from sessions.store import Login

BOOK = "book"
FORM = "book_appointment_form"
FORM_SLOTS = ("booking_practitioner", "booking_day", "booking_slot", "booking_confirmed")
# booking_nearby: the patient's appointment close to the chosen time (asked "Book another one?" about)
EXTRA_SLOTS = ("booking_time", "booking_doctor_query", "booking_nearby")
DAY_BUTTONS = 3
SLOT_ROWS = 10  # one WhatsApp list
BOOKING_NOTE = "Booked by the patient on WhatsApp"


# ------------------------------------------------------------------------------------------- the patient's view
# The scheduling package does the work; here it is bound to what a patient books with: the hospital of the
# assistant's service account, its practitioners, and the patient's own token for slots and bookings.


async def facility_id() -> str:
    """The hospital patients book at: the service account's facility (CARE_USERNAME's first one)."""
    return await home_facility(clients.service(), call_service)


async def practitioners() -> list[Practitioner]:
    return [p for _, p in await practitioners_at(clients.service(), [await facility_id()], "service", call_service)]


async def practitioner_name(practitioner_id: str | None) -> str:
    return next((p.name for p in await practitioners() if p.id == practitioner_id), "the doctor")


def match_practitioner(text: str, pracs: list[Practitioner], entity_value: str | None = None) -> list[Match]:
    return find_practitioner(text, pracs, entity_value)[1]


def read_day(value: str) -> tuple[dt.date | None, str | None]:
    """A day answer on the hospital's clock: an ISO date from a button, or words ("friday morning", "tmrw")."""
    return day_words.read_day(value, clock.now(), clock.timezone_name())


async def free_slots(login: Login, practitioner_id: str, day: dt.date) -> list[Slot]:
    return await free_times.free_slots_on(patient_api(login), await facility_id(), practitioner_id, day)


async def free_days(
    login: Login, practitioner_id: str, after: dt.date, count: int, horizon: int = LOOKAHEAD_DAYS
) -> list[dt.date]:
    """The next `count` days (from `after`, included) with a free time, within `horizon` days."""
    return await free_times.free_days(patient_api(login), await facility_id(), practitioner_id, after, count, horizon)


def day_buttons(days: list[dt.date]) -> list[dict[str, str]]:
    today = clock.today()
    return [
        {"title": _first_upper(format_day(d, today)), "payload": tap_payload("choose", choice=d.isoformat())}
        for d in days
    ]


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


async def settle(
    dispatcher: CollectingDispatcher, login: Login, practitioner_id: str, day: dt.date, spec: str | None
) -> dict[str, Any]:
    """Check a day (and time) against the doctor's free times; say what does not fit and offer what does."""
    today = clock.today()
    if day < today:
        dispatcher.utter_message(response="utter_booking_day_past")
        return {"booking_day": None, "booking_time": None}
    if day > today + dt.timedelta(days=MAX_DAYS_AHEAD):
        dispatcher.utter_message(response="utter_booking_day_too_far", days=MAX_DAYS_AHEAD)
        return {"booking_day": None, "booking_time": None}
    doctor = await practitioner_name(practitioner_id)
    free = await free_slots(login, practitioner_id, day)
    if not free:
        nxt = await free_days(login, practitioner_id, day + dt.timedelta(days=1), 1)
        if nxt:
            dispatcher.utter_message(
                response="utter_booking_day_full",
                doctor=doctor,
                day=on_day(day),
                next_day=format_day_dated(nxt[0], today),
            )
        else:
            dispatcher.utter_message(response="utter_booking_no_free_days", doctor=doctor, days=LOOKAHEAD_DAYS)
        return {"booking_day": None, "booking_time": None}
    result: dict[str, Any] = {"booking_day": day.isoformat(), "booking_time": spec}
    asked = window(spec)
    if asked is not None:
        fits = in_window(free, spec)
        if asked[1] is None and fits:
            result["booking_slot"] = fits[0].id
        elif not fits:
            said = f"at {format_time(asked[0])}" if asked[1] is None else "at that time of day"
            dispatcher.utter_message(response="utter_booking_time_not_free", doctor=doctor, time=said, day=on_day(day))
            result["booking_time"] = None
    return result


async def settle_values(dispatcher: CollectingDispatcher, login: Login, values: dict[str, Any]) -> None:
    """With a doctor and a day known, check them against the free times (settle) and update `values`."""
    if values.get("booking_practitioner") and values.get("booking_day"):
        day = dt.date.fromisoformat(values["booking_day"])
        values.update(await settle(dispatcher, login, values["booking_practitioner"], day, values.get("booking_time")))


# ------------------------------------------------------------------------------------------- starting


async def hints(tracker: Tracker) -> dict[str, Any]:
    """Doctor, day and time read from the request itself ("... with Dr. Asha on Friday morning")."""
    text = turn.latest_text(tracker)
    found: dict[str, Any] = {}
    doctor = turn.entity(tracker, "practitioner")
    if doctor or DOCTOR_RE.search(text):
        query, matches = find_practitioner(text, await practitioners(), doctor)
        if len(matches) == 1:
            found["booking_practitioner"] = matches[0].id
        elif matches:
            found["booking_doctor_query"] = query  # "Dr. Asha": two of them, the form asks which
    when = parse_when(text, clock.now(), clock.timezone_name())
    if when is not None and when.day is not None:
        found["booking_day"] = when.day.isoformat()
    if when is not None and time_spec(when):
        found["booking_time"] = time_spec(when)
    return found


async def start_booking_form(
    dispatcher: CollectingDispatcher, tracker: Tracker, login: Login, from_message: bool
) -> list[EventType]:
    """Open the booking form with what is already known (the request's words, or what waited for login)."""
    try:
        if from_message:
            values: dict[str, Any] = dict.fromkeys((*FORM_SLOTS, *EXTRA_SLOTS))
            values.update(await hints(tracker))
        else:
            values = {name: tracker.get_slot(name) for name in (*FORM_SLOTS, *EXTRA_SLOTS)}
        await settle_values(dispatcher, login, values)
    except CARE_ERRORS as exc:
        return explain(dispatcher, tracker, exc)
    events: list[EventType] = [SlotSet(k, v) for k, v in values.items()]
    return events + [SlotSet("form_stopped", None), ActiveLoop(FORM)]  # ActiveLoop last: nothing re-validated


async def book_before_login(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Nobody logged in: keep what the request said about the doctor and day, log in, then book."""
    try:
        found = await hints(tracker)
    except CARE_ERRORS:
        found = {}  # the doctor is asked again after the login
    events: list[EventType] = [SlotSet(n, None) for n in (*FORM_SLOTS, *EXTRA_SLOTS)]
    events += [SlotSet(k, v) for k, v in found.items()]
    return events + needs_login(dispatcher, tracker, BOOK)


async def change_booking(dispatcher: CollectingDispatcher, tracker: Tracker, login: Login) -> list[EventType]:
    """ "book with Dr. Rahul instead" during a booking: change what was said, keep the rest; nothing new
    said ("book it", "appointment") -> the form just asks its question again."""
    try:
        found = await hints(tracker)
    except CARE_ERRORS as exc:
        return explain(dispatcher, tracker, exc)
    if not found:
        return []
    values = {name: tracker.get_slot(name) for name in (*FORM_SLOTS, *EXTRA_SLOTS)}
    values.update(found)
    values.update(booking_slot=None, booking_confirmed=None)
    if "booking_doctor_query" in found:
        values["booking_practitioner"] = None
    try:
        await settle_values(dispatcher, login, values)
    except CARE_ERRORS as exc:
        return explain(dispatcher, tracker, exc)
    return [SlotSet(k, v) for k, v in values.items()] + [ActiveLoop(FORM)]

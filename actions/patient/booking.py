"""Booking an appointment with the patient's own token (CARE's /otp/slots/ API).

"book me with Dr. Asha on Friday morning" -> the doctor, day and part of day are read from the message ->
book_appointment_form asks what is missing (doctor -> day -> free time from a list -> yes/no) ->
action_book_appointment_done books it. Slots hold the practitioner id, an ISO day, a time spec and CARE's
slot id: nothing about the patient.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.care.errors import CareInvalid
from actions.care.models import Practitioner, Slot
from actions.patient import access
from actions.patient.access import needs_login, patient_api
from actions.patient.appointments import nearby_question, not_done, on_day
from actions.patient.family import ordinal
from actions.scheduling import days as day_words
from actions.scheduling import slots as free_times
from actions.scheduling.appointments import nearby
from actions.scheduling.days import MAX_DAYS_AHEAD
from actions.scheduling.practitioners import DOCTOR_RE, find_practitioner, home_facility, practitioners_at
from actions.scheduling.slots import LOOKAHEAD_DAYS
from actions.scheduling.windows import in_window, local_time, time_spec, window
from actions.shared import clients, clock, formatting, turn, who
from actions.shared.clients import call_service, care_call
from actions.shared.errors import CARE_ERRORS, AccessDenied, explain
from actions.shared.forms import AssistantForm, clear
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


async def free_days(login: Login, practitioner_id: str, after: dt.date, count: int,
                    horizon: int = LOOKAHEAD_DAYS) -> list[dt.date]:
    """The next `count` days (from `after`, included) with a free time, within `horizon` days."""
    return await free_times.free_days(patient_api(login), await facility_id(), practitioner_id, after, count, horizon)


def day_buttons(days: list[dt.date]) -> list[dict[str, str]]:
    today = clock.today()
    return [{"title": _first_upper(format_day(d, today)), "payload": '/choose{"choice":"%s"}' % d.isoformat()}
            for d in days]


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


async def settle(dispatcher: CollectingDispatcher, login: Login, practitioner_id: str, day: dt.date,
                 spec: str | None) -> dict[str, Any]:
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
            dispatcher.utter_message(response="utter_booking_day_full", doctor=doctor, day=on_day(day),
                                     next_day=format_day_dated(nxt[0], today))
        else:
            dispatcher.utter_message(response="utter_booking_no_free_days", doctor=doctor,
                                     days=LOOKAHEAD_DAYS)
        return {"booking_day": None, "booking_time": None}
    result: dict[str, Any] = {"booking_day": day.isoformat(), "booking_time": spec}
    asked = window(spec)
    if asked is not None:
        fits = in_window(free, spec)
        if asked[1] is None and fits:
            result["booking_slot"] = fits[0].id
        elif not fits:
            said = f"at {format_time(asked[0])}" if asked[1] is None else "at that time of day"
            dispatcher.utter_message(response="utter_booking_time_not_free", doctor=doctor, time=said,
                                     day=on_day(day))
            result["booking_time"] = None
    return result


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


async def start_booking_form(dispatcher: CollectingDispatcher, tracker: Tracker, login: Login,
                             from_message: bool) -> list[EventType]:
    """Open the booking form with what is already known (the request's words, or what waited for login)."""
    try:
        if from_message:
            values: dict[str, Any] = {name: None for name in (*FORM_SLOTS, *EXTRA_SLOTS)}
            values.update(await hints(tracker))
        else:
            values = {name: tracker.get_slot(name) for name in (*FORM_SLOTS, *EXTRA_SLOTS)}
        if values.get("booking_practitioner") and values.get("booking_day"):
            values.update(await settle(dispatcher, login, values["booking_practitioner"],
                                       dt.date.fromisoformat(values["booking_day"]), values.get("booking_time")))
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
    """"book with Dr. Rahul instead" during a booking: change what was said, keep the rest; nothing new
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
        if values.get("booking_practitioner") and values.get("booking_day"):
            values.update(await settle(dispatcher, login, values["booking_practitioner"],
                                       dt.date.fromisoformat(values["booking_day"]), values.get("booking_time")))
    except CARE_ERRORS as exc:
        return explain(dispatcher, tracker, exc)
    return [SlotSet(k, v) for k, v in values.items()] + [ActiveLoop(FORM)]


# ------------------------------------------------------------------------------------------- the form

class ValidateBookAppointmentForm(AssistantForm):
    yes_no_slots = frozenset({"booking_confirmed"})

    def name(self) -> str:
        return "validate_book_appointment_form"

    def answer(self, slot: str, tracker: Tracker) -> Any:
        if slot == "booking_confirmed" and turn.latest_intent(tracker) == "book_appointment":
            return True  # "book it" to "Book this?"
        return super().answer(slot, tracker)

    def understands(self, slot: str, text: str, tracker: Tracker) -> bool:
        if slot == "booking_practitioner":
            return bool(DOCTOR_RE.search(text)) or len(text.split()) <= 3
        when = parse_when(text, clock.now(), clock.timezone_name())
        if slot == "booking_day":
            return when is not None and when.day is not None
        if slot == "booking_slot":
            return (when is not None and when.start is not None) or ordinal(text) is not None
        return False

    async def validate_booking_practitioner(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                            domain: DomainDict) -> dict[str, Any]:
        login = access.patient_login(tracker)
        if login is None:
            dispatcher.utter_message(response="utter_session_expired")
            return self.stop(booking_practitioner=None)
        try:
            pracs = await practitioners()
            if any(p.id == value for p in pracs):
                chosen = str(value)
            else:
                query, matches = find_practitioner(str(value), pracs, turn.entity(tracker, "practitioner"))
                if not matches:
                    dispatcher.utter_message(response="utter_practitioner_not_found", query=str(value))
                    return {"booking_practitioner": None, "booking_doctor_query": None}
                if len(matches) > 1:
                    return {"booking_practitioner": None, "booking_doctor_query": query}
                chosen = matches[0].id
            result: dict[str, Any] = {"booking_practitioner": chosen, "booking_doctor_query": None}
            day = tracker.get_slot("booking_day")
            if day:
                result.update(await settle(dispatcher, login, chosen, dt.date.fromisoformat(day),
                                           tracker.get_slot("booking_time")))
            return result
        except CARE_ERRORS as exc:
            explain(dispatcher, tracker, exc)
            return self.stop(booking_practitioner=None)

    async def validate_booking_day(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        login = access.patient_login(tracker)
        if login is None:
            dispatcher.utter_message(response="utter_session_expired")
            return self.stop(booking_day=None)
        day, spec = read_day(str(value))
        if day is None:
            dispatcher.utter_message(response="utter_booking_day_invalid")
            return {"booking_day": None}
        try:
            return await settle(dispatcher, login, tracker.get_slot("booking_practitioner"), day,
                                spec or tracker.get_slot("booking_time"))
        except CARE_ERRORS as exc:
            explain(dispatcher, tracker, exc)
            return self.stop(booking_day=None)

    async def validate_booking_slot(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> dict[str, Any]:
        login = access.patient_login(tracker)
        if login is None:
            dispatcher.utter_message(response="utter_session_expired")
            return self.stop(booking_slot=None)
        practitioner = tracker.get_slot("booking_practitioner")
        day = dt.date.fromisoformat(tracker.get_slot("booking_day"))
        text = str(value)
        try:
            free = await free_slots(login, practitioner, day)
            if any(s.id == text for s in free):
                return {"booking_slot": text}
            when = parse_when(text, clock.now(), clock.timezone_name())
            if when is not None and when.day is not None and when.day != day:  # another day: start from there
                result = await settle(dispatcher, login, practitioner, when.day, time_spec(when))
                return {"booking_slot": None, **result}
            n = ordinal(text)
            shown = in_window(free, tracker.get_slot("booking_time")) or free
            if when is not None and when.start is not None:
                fits = [s for s in free if local_time(s) == when.start]
                if fits:
                    return {"booking_slot": fits[0].id}
                dispatcher.utter_message(response="utter_booking_time_not_free", time=f"at {format_time(when.start)}",
                                         doctor=await practitioner_name(practitioner), day=on_day(day))
                return {"booking_slot": None, "booking_time": time_spec(when) if when.end else None}
            if n is not None and shown:
                index = len(shown[:SLOT_ROWS]) - 1 if n == -1 else n - 1
                if 0 <= index < len(shown[:SLOT_ROWS]):
                    return {"booking_slot": shown[index].id}
        except CARE_ERRORS as exc:
            explain(dispatcher, tracker, exc)
            return self.stop(booking_slot=None)
        dispatcher.utter_message(response="utter_booking_slot_invalid")
        return {"booking_slot": None}

    async def validate_booking_confirmed(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                         domain: DomainDict) -> dict[str, Any]:
        return {"booking_confirmed": bool(value)}


class ActionAskBookingPractitioner(Action):
    def name(self) -> str:
        return "action_ask_book_appointment_form_booking_practitioner"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        try:
            pracs = await practitioners()
        except CARE_ERRORS as exc:
            return explain(dispatcher, tracker, exc) + [SlotSet("form_stopped", True)]
        query = tracker.get_slot("booking_doctor_query")
        matching = match_practitioner(query, pracs) if query else []
        if len(matching) > 1:
            ids = [m.id for m in matching]
            buttons = [{"title": p.name, "payload": '/choose{"choice":"%s"}' % p.id} for p in pracs if p.id in ids]
            dispatcher.utter_message(response="utter_ask_booking_practitioner_which", query=query, buttons=buttons)
        else:
            buttons = [{"title": p.name, "payload": '/choose{"choice":"%s"}' % p.id} for p in pracs[:SLOT_ROWS]]
            dispatcher.utter_message(response="utter_ask_booking_practitioner", buttons=buttons)
        return []


class ActionAskBookingDay(Action):
    def name(self) -> str:
        return "action_ask_book_appointment_form_booking_day"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        login = access.patient_login(tracker)
        practitioner = tracker.get_slot("booking_practitioner")
        try:
            doctor = await practitioner_name(practitioner)
            days = await free_days(login, practitioner, clock.today(), DAY_BUTTONS, horizon=7) if login else []
        except CARE_ERRORS as exc:
            return explain(dispatcher, tracker, exc) + [SlotSet("form_stopped", True)]
        dispatcher.utter_message(response="utter_ask_booking_day", doctor=doctor, buttons=day_buttons(days))
        return []


class ActionAskBookingSlot(Action):
    def name(self) -> str:
        return "action_ask_book_appointment_form_booking_slot"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        login = access.patient_login(tracker)
        if login is None:
            dispatcher.utter_message(response="utter_session_expired")
            return [SlotSet("form_stopped", True)]
        practitioner = tracker.get_slot("booking_practitioner")
        day = dt.date.fromisoformat(tracker.get_slot("booking_day"))
        try:
            doctor = await practitioner_name(practitioner)
            free = await free_slots(login, practitioner, day)
            if not free:  # taken since the day was chosen: ask for the day again
                result = await settle(dispatcher, login, practitioner, day, None)
                days = await free_days(login, practitioner, clock.today(), DAY_BUTTONS, horizon=7)
                dispatcher.utter_message(response="utter_ask_booking_day", doctor=doctor, buttons=day_buttons(days))
                return [SlotSet(k, v) for k, v in result.items()] + [SlotSet("requested_slot", "booking_day")]
        except CARE_ERRORS as exc:
            return explain(dispatcher, tracker, exc) + [SlotSet("form_stopped", True)]
        shown = in_window(free, tracker.get_slot("booking_time")) or free
        tz = clock.timezone_name()
        buttons = [{"title": formatting.slot_title(s, tz), "payload": '/choose{"choice":"%s"}' % s.id}
                   for s in shown[:SLOT_ROWS]]
        more = len(shown) > SLOT_ROWS
        if more:
            dispatcher.utter_message(response="utter_ask_booking_slot_more", doctor=doctor, day=on_day(day),
                                     buttons=buttons)
        else:
            dispatcher.utter_message(response="utter_ask_booking_slot", doctor=doctor, day=on_day(day),
                                     buttons=buttons)
        return []


class ActionAskBookingConfirmed(Action):
    def name(self) -> str:
        return "action_ask_book_appointment_form_booking_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        login = access.patient_login(tracker)
        if login is None:
            dispatcher.utter_message(response="utter_session_expired")
            return [SlotSet("form_stopped", True)]
        practitioner = tracker.get_slot("booking_practitioner")
        patient_name = tracker.get_slot("patient_name") or "you"
        try:
            slot = await care_call(patient_api(login).get_slot, tracker.get_slot("booking_slot"))
            doctor = await practitioner_name(practitioner)
            mine = await care_call(patient_api(login).list_appointments)
        except CARE_ERRORS as exc:
            return explain(dispatcher, tracker, exc) + [SlotSet("form_stopped", True)]
        existing = nearby(mine, login.selected_patient_id, practitioner, slot)
        if existing is not None:  # a second booking close to one she has: ask that first
            dispatcher.utter_message(**nearby_question(existing, slot, patient_name, doctor))
            return [SlotSet("booking_nearby", existing.id)]
        dispatcher.utter_message(response="utter_ask_booking_confirmed", doctor=doctor,
                                 when=formatting.slot_when(slot, clock.timezone_name(), clock.today()),
                                 patient_name=patient_name)
        return [SlotSet("booking_nearby", None)]


class ActionBookAppointmentDone(Action):
    """After the booking form: book (when confirmed) and say so."""

    def name(self) -> str:
        return "action_book_appointment_done"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events = clear(*FORM_SLOTS, *EXTRA_SLOTS, "form_stopped")
        if tracker.get_slot("form_stopped"):
            return events
        if tracker.get_slot("booking_confirmed") is not True:
            not_done(dispatcher, tracker)
            return events
        login = access.patient_login(tracker)
        if login is None:
            dispatcher.utter_message(response="utter_session_expired")
            return events + who.session_ended_events()
        patient_id = login.selected_patient_id
        try:
            if not login.may_read(patient_id):
                raise AccessDenied(patient_id)
            appt = await care_call(patient_api(login).book_appointment, tracker.get_slot("booking_slot"),
                                      patient_id, BOOKING_NOTE)
            doctor = appt.practitioner.name if appt.practitioner else \
                await practitioner_name(tracker.get_slot("booking_practitioner"))
        except CareInvalid:
            dispatcher.utter_message(response="utter_booking_slot_taken")
            return events
        except CARE_ERRORS as exc:
            return events + explain(dispatcher, tracker, exc)
        dispatcher.utter_message(response="utter_booked", doctor=doctor,
                                 when=formatting.appointment_when(appt, clock.timezone_name(), clock.today()),
                                 place=appt.facility_name or "the hospital",
                                 patient_name=tracker.get_slot("patient_name") or "you")
        return events


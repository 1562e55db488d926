"""The patient's booking form: reading each answer (doctor, day, free time, yes), asking each question, and
booking with the patient's own token. What it starts from and the patient's view of the scheduling package
are in actions/patient/booking.py.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.care.errors import CareInvalid
from actions.patient import access
from actions.patient.access import patient_api, session_expired_in_form
from actions.patient.appointments import nearby_question, not_done, on_day
from actions.patient.booking import (
    BOOKING_NOTE,
    DAY_BUTTONS,
    EXTRA_SLOTS,
    FORM_SLOTS,
    SLOT_ROWS,
    day_buttons,
    free_days,
    free_slots,
    match_practitioner,
    practitioner_name,
    practitioners,
    read_day,
    settle,
)
from actions.patient.family import ordinal
from actions.scheduling.appointments import book, nearby
from actions.scheduling.practitioners import DOCTOR_RE, doctor_queries, find_practitioner
from actions.scheduling.windows import in_window, local_time, time_spec
from actions.shared import clock, formatting, turn, who
from actions.shared.clients import care_call
from actions.shared.errors import CARE_ERRORS, AccessDenied, explain
from actions.shared.forms import AssistantForm, clear
from actions.shared.turn import tap_payload
from common.dates import format_time, parse_when
from sessions.store import Login

_QUESTION_RE = re.compile(
    r"\?|^\s*(?:on|at|for|from)?\s*(?:what|whats|when|which|where|why|how|who|whom|whose|is|are|do|does|did|can|"
    r"could|will|would|should|shall)\b",
    re.I,
)

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
            # "Dr. Asha", or a few words that name someone; never a question ("on which date is my review",
            # "what is it?") nor words that leave no name once the request's words are dropped ("my review")
            if DOCTOR_RE.search(text):
                return True
            return len(text.split()) <= 3 and not _QUESTION_RE.search(text) and bool(doctor_queries(text))
        when = parse_when(text, clock.now(), clock.timezone_name())
        if slot == "booking_day":
            return when is not None and when.day is not None
        if slot == "booking_slot":
            return (when is not None and when.start is not None) or ordinal(text) is not None
        return False

    async def validate_booking_practitioner(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
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
                result.update(
                    await settle(
                        dispatcher, login, chosen, dt.date.fromisoformat(day), tracker.get_slot("booking_time")
                    )
                )
            return result
        except CARE_ERRORS as exc:
            explain(dispatcher, tracker, exc)
            return self.stop(booking_practitioner=None)

    async def validate_booking_day(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        login = access.patient_login(tracker)
        if login is None:
            dispatcher.utter_message(response="utter_session_expired")
            return self.stop(booking_day=None)
        day, spec = read_day(str(value))
        if day is None:
            dispatcher.utter_message(response="utter_booking_day_invalid")
            return {"booking_day": None}
        try:
            return await settle(
                dispatcher,
                login,
                tracker.get_slot("booking_practitioner"),
                day,
                spec or tracker.get_slot("booking_time"),
            )
        except CARE_ERRORS as exc:
            explain(dispatcher, tracker, exc)
            return self.stop(booking_day=None)

    async def validate_booking_slot(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
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
                dispatcher.utter_message(
                    response="utter_booking_time_not_free",
                    time=f"at {format_time(when.start)}",
                    doctor=await practitioner_name(practitioner),
                    day=on_day(day),
                )
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

    async def validate_booking_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
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
            buttons = [{"title": p.name, "payload": tap_payload("choose", choice=p.id)} for p in pracs if p.id in ids]
            dispatcher.utter_message(response="utter_ask_booking_practitioner_which", query=query, buttons=buttons)
        else:
            buttons = [{"title": p.name, "payload": tap_payload("choose", choice=p.id)} for p in pracs[:SLOT_ROWS]]
            dispatcher.utter_message(response="utter_ask_booking_practitioner", buttons=buttons)
        return []


async def ask_day(dispatcher: CollectingDispatcher, login: Login | None, practitioner: str, doctor: str) -> None:
    """ "Which day?" with the doctor's next free days (this week) as buttons."""
    days = await free_days(login, practitioner, clock.today(), DAY_BUTTONS, horizon=7) if login else []
    dispatcher.utter_message(response="utter_ask_booking_day", doctor=doctor, buttons=day_buttons(days))


class ActionAskBookingDay(Action):
    def name(self) -> str:
        return "action_ask_book_appointment_form_booking_day"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        login = access.patient_login(tracker)
        practitioner = tracker.get_slot("booking_practitioner")
        try:
            await ask_day(dispatcher, login, practitioner, await practitioner_name(practitioner))
        except CARE_ERRORS as exc:
            return explain(dispatcher, tracker, exc) + [SlotSet("form_stopped", True)]
        return []


class ActionAskBookingSlot(Action):
    def name(self) -> str:
        return "action_ask_book_appointment_form_booking_slot"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        login = access.patient_login(tracker)
        if login is None:
            return session_expired_in_form(dispatcher)
        practitioner = tracker.get_slot("booking_practitioner")
        day = dt.date.fromisoformat(tracker.get_slot("booking_day"))
        try:
            doctor = await practitioner_name(practitioner)
            free = await free_slots(login, practitioner, day)
            if not free:  # taken since the day was chosen: ask for the day again
                result = await settle(dispatcher, login, practitioner, day, None)
                await ask_day(dispatcher, login, practitioner, doctor)
                return [SlotSet(k, v) for k, v in result.items()] + [SlotSet("requested_slot", "booking_day")]
        except CARE_ERRORS as exc:
            return explain(dispatcher, tracker, exc) + [SlotSet("form_stopped", True)]
        shown = in_window(free, tracker.get_slot("booking_time")) or free
        tz = clock.timezone_name()
        buttons = [
            {"title": formatting.slot_title(s, tz), "payload": tap_payload("choose", choice=s.id)}
            for s in shown[:SLOT_ROWS]
        ]
        more = len(shown) > SLOT_ROWS
        if more:
            dispatcher.utter_message(
                response="utter_ask_booking_slot_more", doctor=doctor, day=on_day(day), buttons=buttons
            )
        else:
            dispatcher.utter_message(response="utter_ask_booking_slot", doctor=doctor, day=on_day(day), buttons=buttons)
        return []


class ActionAskBookingConfirmed(Action):
    def name(self) -> str:
        return "action_ask_book_appointment_form_booking_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        login = access.patient_login(tracker)
        if login is None:
            return session_expired_in_form(dispatcher)
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
        dispatcher.utter_message(
            response="utter_ask_booking_confirmed",
            doctor=doctor,
            when=formatting.slot_when(slot, clock.timezone_name(), clock.today()),
            patient_name=patient_name,
        )
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
            appt = await book(patient_api(login), tracker.get_slot("booking_slot"), patient_id, BOOKING_NOTE)
            doctor = formatting.doctor_of(appt) or await practitioner_name(tracker.get_slot("booking_practitioner"))
        except CareInvalid:
            dispatcher.utter_message(response="utter_booking_slot_taken")
            return events
        except CARE_ERRORS as exc:
            return events + explain(dispatcher, tracker, exc)
        dispatcher.utter_message(
            response="utter_booked",
            doctor=doctor,
            when=formatting.appointment_when(appt, clock.timezone_name(), clock.today()),
            place=appt.facility_name or "the hospital",
            patient_name=tracker.get_slot("patient_name") or "you",
        )
        return events

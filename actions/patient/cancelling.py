"""Cancelling an appointment with the patient's own token.

"cancel my appointment tomorrow" -> the patient's upcoming appointments, narrowed by the day/time/doctor in
the message -> cancel_appointment_form asks which one (when more than one fits) and yes/no ->
action_cancel_appointment_done cancels it in CARE. Only the selected family member's appointments are
offered, and the cancel names that patient to CARE.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.care.models import Appointment
from actions.patient import access
from actions.patient.access import patient_api
from actions.patient.appointments import doctor_of, on_day, upcoming_appointments
from actions.patient.family import Member, family, ordinal, selected
from actions.scheduling.appointments import cancel
from actions.scheduling.practitioners import find_practitioner
from actions.shared import clock, formatting, turn, who
from actions.shared.errors import CARE_ERRORS, explain
from actions.shared.forms import AssistantForm, clear
from actions.shared.turn import tap_payload
from common.dates import parse_when
from sessions.store import Login

CANCEL = "cancel"
FORM = "cancel_appointment_form"
FORM_SLOTS = ("cancel_choice", "cancel_confirmed")
ROWS = 10
# "cancel" alone, while another form runs, means "stop that", not "cancel an appointment"
_ABOUT_APPOINTMENTS = re.compile(r"\b(appointment|appoint|appt|booking|visit|slot|checkup|consultation)s?\b", re.I)


def about_appointments(text: str) -> bool:
    """ "cancel my appointment" (a request) rather than "cancel" (leave the question being asked)."""
    return bool(_ABOUT_APPOINTMENTS.search(text))


def _dotted_times(text: str) -> set[dt.time]:
    """'9.30' -> 9:30 and 21:30: read as a time only when an appointment starts then (see narrow)."""
    found: set[dt.time] = set()
    for h, m in re.findall(r"\b(\d{1,2})\.(\d{2})\b", text or ""):
        hour, minute = int(h), int(m)
        if hour < 24 and minute < 60:
            found.add(dt.time(hour, minute))
            if hour < 12:
                found.add(dt.time(hour + 12, minute))
    return found


def narrow(appointments: list[Appointment], text: str) -> list[Appointment]:
    """The appointments a message points at: by day (and time), by doctor, or by position in the list."""
    tz = clock.timezone_name()
    when = parse_when(text, clock.now(), tz)
    found = appointments
    if when is not None and when.day is not None:
        on_day = [a for a in found if a.start and formatting.to_local(a.start, tz).date() == when.day]
        if not on_day and when.weekday_only:
            # "the one on thursday" said on a Thursday may mean next week's: the weekday is what was named
            on_day = [a for a in found if a.start and formatting.to_local(a.start, tz).weekday() == when.day.weekday()]
        found = on_day
    if when is not None and when.start is not None and when.end is None:
        found = [a for a in found if a.start and formatting.to_local(a.start, tz).time() == when.start]
    elif dotted := _dotted_times(text):  # "the 9.30 one": the parser leaves a bare 9.30 alone (a dose?)
        at_that_time = [a for a in found if a.start and formatting.to_local(a.start, tz).time() in dotted]
        found = at_that_time or found
    doctors = {a.practitioner.id: a.practitioner for a in found if a.practitioner}
    if doctors and re.search(r"\b(?:dr|doctor|doc)\b", text, re.I):
        _, matches = find_practitioner(text, list(doctors.values()))
        if matches:
            ids = {m.id for m in matches}
            found = [a for a in found if a.practitioner and a.practitioner.id in ids]
    if found is appointments:
        n = ordinal(text)
        if n is not None and appointments:
            index = len(appointments[:ROWS]) - 1 if n == -1 else n - 1
            return [appointments[index]] if 0 <= index < len(appointments[:ROWS]) else []
        return appointments if when is None else []
    return found


async def cancel_for(
    dispatcher: CollectingDispatcher, tracker: Tracker, login: Login, member: Member, fresh: bool = False
) -> list[EventType]:
    """Open the cancel form for `member` (the selected patient, or the one the message named)."""
    upcoming = await upcoming_appointments(login, member)
    if not upcoming:
        dispatcher.utter_message(response="utter_no_upcoming_to_cancel", patient_name=member.name)
        return []
    choice = None
    if fresh:
        text = turn.latest_text(tracker)
        fits = narrow(upcoming, text)
        when = parse_when(text, clock.now(), clock.timezone_name())
        if not fits and when is not None and when.day is not None:
            dispatcher.utter_message(
                response="utter_no_appointment_that_day", patient_name=member.name, day=on_day(when.day)
            )
        elif len(fits) == 1 and fits is not upcoming:
            choice = fits[0].id
    if choice is None and len(upcoming) == 1:
        choice = upcoming[0].id
    return [
        SlotSet("cancel_choice", choice),
        SlotSet("cancel_confirmed", None),
        SlotSet("form_stopped", None),
        ActiveLoop(FORM),
    ]


async def _member_and_upcoming(tracker: Tracker) -> tuple[Login | None, Member | None, list[Appointment]]:
    login = access.patient_login(tracker)
    if login is None:
        return None, None, []
    member = selected(login, await family(login))
    if member is None:
        return login, None, []
    return login, member, await upcoming_appointments(login, member)


class ValidateCancelAppointmentForm(AssistantForm):
    yes_no_slots = frozenset({"cancel_confirmed"})

    def name(self) -> str:
        return "validate_cancel_appointment_form"

    def answer(self, slot: str, tracker: Tracker) -> Any:
        if slot == "cancel_confirmed" and turn.latest_intent(tracker) == "cancel_appointment":
            return True  # "cancel it" to "Cancel this appointment?"
        return super().answer(slot, tracker)

    def understands(self, slot: str, text: str, tracker: Tracker) -> bool:
        when = parse_when(text, clock.now(), clock.timezone_name())
        return when is not None or ordinal(text) is not None or bool(re.search(r"\b(?:dr|doctor)\b", text, re.I))

    async def validate_cancel_choice(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        try:
            login, member, upcoming = await _member_and_upcoming(tracker)
        except CARE_ERRORS as exc:
            explain(dispatcher, tracker, exc)
            return self.stop(cancel_choice=None)
        if login is None or member is None:
            dispatcher.utter_message(response="utter_session_expired")
            return self.stop(cancel_choice=None)
        if any(a.id == value for a in upcoming):
            return {"cancel_choice": str(value)}
        fits = narrow(upcoming, str(value))
        if len(fits) == 1 and fits is not upcoming:
            return {"cancel_choice": fits[0].id}
        dispatcher.utter_message(response="utter_cancel_choice_invalid")
        return {"cancel_choice": None}

    async def validate_cancel_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"cancel_confirmed": bool(value)}


class ActionAskCancelChoice(Action):
    def name(self) -> str:
        return "action_ask_cancel_appointment_form_cancel_choice"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        try:
            _login, member, upcoming = await _member_and_upcoming(tracker)
        except CARE_ERRORS as exc:
            return explain(dispatcher, tracker, exc) + [SlotSet("form_stopped", True)]
        if not upcoming:
            dispatcher.utter_message(
                response="utter_no_upcoming_to_cancel", patient_name=member.name if member else "you"
            )
            return [SlotSet("form_stopped", True)]
        tz, today = clock.timezone_name(), clock.today()
        buttons = [
            {"title": formatting.appointment_title(a, tz, today), "payload": tap_payload("choose", choice=a.id)}
            for a in upcoming[:ROWS]
        ]
        dispatcher.utter_message(
            response="utter_ask_cancel_choice", patient_name=member.name if member else "you", buttons=buttons
        )
        return []


class ActionAskCancelConfirmed(Action):
    def name(self) -> str:
        return "action_ask_cancel_appointment_form_cancel_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        try:
            _login, member, upcoming = await _member_and_upcoming(tracker)
        except CARE_ERRORS as exc:
            return explain(dispatcher, tracker, exc) + [SlotSet("form_stopped", True)]
        appt = next((a for a in upcoming if a.id == tracker.get_slot("cancel_choice")), None)
        if appt is None or member is None:
            dispatcher.utter_message(response="utter_cancel_choice_gone")
            return [SlotSet("form_stopped", True)]
        dispatcher.utter_message(
            response="utter_ask_cancel_confirmed",
            doctor=doctor_of(appt),
            when=formatting.appointment_when(appt, clock.timezone_name(), clock.today()),
            patient_name=member.name,
        )
        return []


class ActionCancelAppointmentDone(Action):
    """After the cancel form: cancel in CARE when confirmed, and say so."""

    def name(self) -> str:
        return "action_cancel_appointment_done"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events = clear(*FORM_SLOTS, "form_stopped")
        if tracker.get_slot("form_stopped"):
            return events
        if tracker.get_slot("cancel_confirmed") is not True:
            dispatcher.utter_message(response="utter_cancel_not_done")
            return events
        try:
            login, member, upcoming = await _member_and_upcoming(tracker)
            appt = next((a for a in upcoming if a.id == tracker.get_slot("cancel_choice")), None)
            if login is None or member is None:
                dispatcher.utter_message(response="utter_session_expired")
                return events + who.session_ended_events()
            if appt is None:  # not (any more) an upcoming appointment of this patient
                dispatcher.utter_message(response="utter_cancel_choice_gone")
                return events
            done = await cancel(patient_api(login), appt.id, patient_id=member.id)
        except CARE_ERRORS as exc:
            return events + explain(dispatcher, tracker, exc)
        shown = done if done.start else appt
        dispatcher.utter_message(
            response="utter_appointment_cancelled",
            doctor=doctor_of(shown),
            when=formatting.appointment_when(shown, clock.timezone_name(), clock.today()),
            patient_name=member.name,
        )
        return events

"""Reminders in the chat, routed by who is logged in (like actions/requests.py): "remind me about my tablets at
8 am and 9 pm" (opt in), "did I take my tablets today?", and the buttons every reminder carries.

- Opting in is per patient and purpose, for the patient in focus of a patient login (nobody logged in: the
  login first, and the request waits in `pending_request`); unclear words get the choice of purpose.
- A reminder's button acts only when the reminder's consent was given from this very phone (by pseudonym);
  otherwise a polite refusal. Taken / Skip / Snooze are the patient's own report (adherence); Cancel cancels
  the appointment in CARE with the service account: the reminder went to the phone the patient opted in from,
  which is proof enough to cancel, never to read clinical details (see README, Reminders). Reschedule needs a
  login, then books a new time.
"""

from __future__ import annotations

import datetime as dt
import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.care.models import Appointment
from actions.patient import access
from actions.patient.booking import BOOK
from actions.patient.reminders import (
    ADHERENCE,
    notification_store,
    own_notification,
    record_dose,
    reminder_request,
    snooze,
    stop_purpose,
)
from actions.pending import answer
from actions.shared import clock, turn, who
from actions.shared.clients import call_service, service
from actions.shared.errors import CARE_ERRORS, explain
from actions.shared.who import STAFF
from common.dates import format_local, format_time
from common.reminder_words import APPOINTMENTS, MEDICATIONS, purposes_in, times_in

log = logging.getLogger(__name__)

# written out so that every response sent is findable by name (tests/rasa/test_project.py)
PURPOSE_CHOICES = {
    MEDICATIONS: dict(response="utter_choice_reminders_medications"),
    APPOINTMENTS: dict(response="utter_choice_reminders_appointments"),
    "both": dict(response="utter_choice_reminders_both"),
}


def _purposes(tracker: Tracker) -> tuple[str, ...]:
    chosen = turn.entity(tracker, "reminder_purpose")
    if chosen == "both":
        return (MEDICATIONS, APPOINTMENTS)
    if chosen in (MEDICATIONS, APPOINTMENTS):
        return (chosen,)
    text = turn.latest_text(tracker)
    return () if turn.is_tap(text) else purposes_in(text)


def _times(tracker: Tracker) -> list[str]:
    given = turn.entity(tracker, "reminder_times")
    if given is not None:
        return [t for t in given.split("+") if t]
    text = turn.latest_text(tracker)
    return [] if turn.is_tap(text) else times_in(text)


class ActionAskReminder(Action):
    """ "remind me about my tablets at 8 am and 9 pm": opt the patient in focus in, once logged in."""

    def name(self) -> str:
        return "action_ask_reminder"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        login = who.current_login(tracker)
        if login is not None and login.kind == STAFF:
            dispatcher.utter_message(response="utter_reminders_for_patients")
            return []
        purposes, times = _purposes(tracker), _times(tracker)
        if not purposes:
            extra = {"reminder_times": "+".join(times)} if times else {}
            buttons = [
                {
                    "title": turn.render(domain, choice["response"]),
                    "payload": turn.tap_payload("ask_reminder", reminder_purpose=value, **extra),
                }
                for value, choice in PURPOSE_CHOICES.items()
            ]
            dispatcher.utter_message(response="utter_reminders_ask_purpose", buttons=buttons)
            return []
        pending = reminder_request(purposes, times if MEDICATIONS in purposes else [])
        if login is None:
            return access.needs_login(dispatcher, tracker, pending)
        return await answer(pending, dispatcher, tracker, domain, login, from_message=True)


class ActionAskAdherence(Action):
    """ "did I take my tablets today?": what the patient reported from the reminders' buttons today."""

    def name(self) -> str:
        return "action_ask_adherence"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        login = who.current_login(tracker)
        if login is not None and login.kind == STAFF:
            dispatcher.utter_message(response="utter_reminders_for_patients")
            return []
        if login is None:
            return access.needs_login(dispatcher, tracker, ADHERENCE)
        return await answer(ADHERENCE, dispatcher, tracker, domain, login, from_message=True)


class ActionReminderButton(Action):
    """A reminder's button: Taken, Snooze 30 min, Skip (medications); Confirm, Cancel, Reschedule
    (appointments); Stop reminders (both)."""

    def name(self) -> str:
        return "action_reminder_button"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        try:
            return await self.act(dispatcher, tracker, domain)
        except SQLAlchemyError as exc:  # the assistant database: say so rather than pretend it was noted
            log.error("reminder button not recorded: %s", type(exc).__name__)
            dispatcher.utter_message(response="utter_try_again_later")
            return []

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        row = own_notification(tracker)
        if row is None:
            dispatcher.utter_message(response="utter_reminder_not_yours")
            return []
        intent = turn.latest_intent(tracker)
        if intent == "reminder_stop":
            dispatcher.utter_message(response=stop_purpose(row, tracker, domain, "button"))
            return []
        if row.purpose == MEDICATIONS and intent in ("reminder_taken", "reminder_skip", "reminder_snooze"):
            if intent == "reminder_snooze":
                due = snooze(row, clock.now())
                if due is not None:
                    dispatcher.utter_message(
                        response="utter_reminder_snoozed", time=format_time(clock.to_local(due).time())
                    )
                    return []
            else:
                taken = intent == "reminder_taken"
                time_text = record_dose(row, "taken" if taken else "skipped")
                if time_text is not None:
                    if taken:
                        dispatcher.utter_message(response="utter_reminder_taken", time=time_text)
                    else:
                        dispatcher.utter_message(response="utter_reminder_skipped", time=time_text)
                    return []
        if row.purpose == APPOINTMENTS and intent == "reminder_confirm":
            dispatcher.utter_message(response="utter_reminder_confirmed")
            return []
        if row.purpose == APPOINTMENTS and intent == "reminder_cancel":
            return await self.cancel(dispatcher, tracker, str(row.params.get("appointment_id") or ""), row.patient_id)
        if row.purpose == APPOINTMENTS and intent == "reminder_reschedule":
            return await self.reschedule(dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_reminder_not_yours")
        return []

    async def cancel(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, appointment_id: str, patient_id: str
    ) -> list[EventType]:
        """Cancel in CARE as the service account: the reminder's consent came from this phone."""
        try:
            appointments = await call_service(service().list_patient_appointments, patient_id)
            found: Appointment | None = next((a for a in appointments if a.id == appointment_id), None)
            if found is None or found.status in ("cancelled", "entered_in_error", "fulfilled", "noshow"):
                dispatcher.utter_message(response="utter_reminder_appointment_gone")
                return []
            await call_service(service().cancel_appointment, found.facility_id, found.id, "cancelled")
        except CARE_ERRORS as exc:
            return explain(dispatcher, tracker, exc)
        notification_store().cancel_stale(f"appt:{appointment_id}:", keep=(), reason="cancelled from a reminder")
        start = found.slot.start if found.slot is not None else None
        when = format_local(start, clock.timezone_name()) if isinstance(start, dt.datetime) else ""
        dispatcher.utter_message(response="utter_reminder_appointment_cancelled", when=when)
        log.info("an appointment was cancelled from its reminder")
        return []

    async def reschedule(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """A new time needs a login (the free times and the booking are the patient's own); then the booking."""
        login = who.current_login(tracker)
        if login is None or login.kind != "patient":
            dispatcher.utter_message(response="utter_reminder_reschedule_login")
            return access.needs_login(dispatcher, tracker, BOOK)
        dispatcher.utter_message(response="utter_reminder_reschedule")
        return await answer(BOOK, dispatcher, tracker, domain, login)

"""The shared requests, routed by role in one place: records, medications, appointments, procedures, book,
cancel and logout mean the same words for a patient and for staff, and are answered by the part of whoever
is logged in (nobody: the patient login starts, and the request waits in `pending_request`).

The patient and staff parts never import each other; this module and actions/pending.py sit above both.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.patient import access
from actions.patient.appointments import asked_days, request_for
from actions.patient.booking import BOOK, book_before_login, change_booking
from actions.patient.booking import FORM as BOOKING_FORM
from actions.patient.cancelling import CANCEL, about_appointments
from actions.patient.sections import APPOINTMENTS, MEDICATIONS, PAST_MEDICATIONS, PAST_WORDS, PROCEDURES, RECORDS
from actions.patient.session import stop_form
from actions.pending import answer
from actions.shared import turn, who
from actions.shared.who import STAFF
from actions.staff.scheduling import start_booking, start_cancel
from actions.staff.summary import show_section

# Slots that outlive a logout: what kind of media the last message was is no one's data.
KEPT_ON_LOGOUT = frozenset({"message_type"})


class PersonalRequest(Action, ABC):
    section: str = ""

    @abstractmethod
    def name(self) -> str:
        """action_get_<section>"""

    def pending(self, tracker: Tracker) -> str:
        return self.section

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        login = who.current_login(tracker)
        if login is not None and login.kind == STAFF:
            return await show_section(self.section, dispatcher, tracker, domain)
        if login is None:
            return access.needs_login(dispatcher, tracker, self.pending(tracker))
        return await answer(self.pending(tracker), dispatcher, tracker, domain, login, from_message=True)


class ActionGetRecords(PersonalRequest):
    section = RECORDS

    def name(self) -> str:
        return "action_get_" + self.section


class ActionGetMedications(PersonalRequest):
    section = MEDICATIONS

    def name(self) -> str:
        return "action_get_" + self.section

    def pending(self, tracker: Tracker) -> str:
        period = turn.entity(tracker, "medication_period")
        wants_past = period.lower() != "current" if period else bool(PAST_WORDS.search(turn.latest_text(tracker)))
        return PAST_MEDICATIONS if wants_past else MEDICATIONS


class ActionGetAppointments(PersonalRequest):
    section = APPOINTMENTS

    def name(self) -> str:
        return "action_get_" + self.section

    def pending(self, tracker: Tracker) -> str:
        """`appointments`, or `appointments@<ISO day>` when the message names a day ("... tomorrow")."""
        return request_for(self.section, asked_days(turn.latest_text(tracker)))


class ActionGetProcedures(PersonalRequest):
    section = PROCEDURES

    def name(self) -> str:
        return "action_get_" + self.section


class ActionBookAppointment(Action):
    def name(self) -> str:
        return "action_book_appointment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        login = who.current_login(tracker)
        if login is not None and login.kind == STAFF:
            return await start_booking(dispatcher, tracker, domain)
        if login is None:
            return await book_before_login(dispatcher, tracker)
        if tracker.active_loop_name == BOOKING_FORM:
            return await change_booking(dispatcher, tracker, login)
        return await answer(BOOK, dispatcher, tracker, domain, login, from_message=True)


class ActionCancelAppointment(Action):
    def name(self) -> str:
        return "action_cancel_appointment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if tracker.active_loop_name and not about_appointments(turn.latest_text(tracker)):
            return stop_form(dispatcher, tracker)
        login = who.current_login(tracker)
        if login is not None and login.kind == STAFF:
            return await start_cancel(dispatcher, tracker, domain)
        if login is None:
            return access.needs_login(dispatcher, tracker, CANCEL)
        return await answer(CANCEL, dispatcher, tracker, domain, login, from_message=True)


class ActionLogout(Action):
    """Ends any login (patient or staff) at once; every slot that could name a patient is emptied."""

    def name(self) -> str:
        return "action_logout"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        was = who.current_login(tracker)
        who.store().end(tracker.sender_id)
        if was is not None and was.kind == STAFF:
            dispatcher.utter_message(response="utter_staff_logged_out")
        elif was is not None:
            dispatcher.utter_message(response="utter_logged_out")
        else:
            dispatcher.utter_message(response="utter_not_logged_in")
        events: list[EventType] = []
        if tracker.active_loop_name:
            events += [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
        events += [
            SlotSet(name, None)
            for name, value in tracker.slots.items()
            if name not in KEPT_ON_LOGOUT and name != REQUESTED_SLOT and value is not None
        ]
        return events

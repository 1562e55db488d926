"""Ending things: logout (any login, at once) and stopping a form half-way."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.patient.appointments import not_done
from actions.patient.login import forget_phone
from actions.shared import who

FORM_SLOTS = {
    "patient_login_form": ("login_phone", "login_other_number", "login_code", "patient_choice", "pending_request"),
    "switch_patient_form": ("patient_choice", "pending_request"),
    "book_appointment_form": (
        "booking_practitioner",
        "booking_day",
        "booking_slot",
        "booking_confirmed",
        "booking_time",
        "booking_doctor_query",
        "booking_nearby",
    ),
    "cancel_appointment_form": ("cancel_choice", "cancel_confirmed"),
}


def stop_form(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Leave the running form: nothing is booked, cancelled or sent; a pending code is no longer expected."""
    form = tracker.active_loop_name or ""
    who.store().clear_expectation(tracker.sender_id)
    if form == "patient_login_form":
        forget_phone(tracker.sender_id)
    if form == "patient_login_form":
        dispatcher.utter_message(response="utter_login_cancelled")
    elif form == "book_appointment_form":
        not_done(dispatcher, tracker)
    elif form == "cancel_appointment_form":
        dispatcher.utter_message(response="utter_cancel_not_done")
    else:
        dispatcher.utter_message(response="utter_stopped_form")
    events: list[EventType] = [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None), SlotSet("form_stopped", None)]
    return events + [SlotSet(name, None) for name in FORM_SLOTS.get(form, ())]


class ActionStopPatientForm(Action):
    """ "cancel" / "stop" / "no" while one of the patient forms asks something."""

    def name(self) -> str:
        return "action_stop_patient_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return stop_form(dispatcher, tracker)

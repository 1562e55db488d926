"""Which patient a staff request is about: the one named in the message, else the one in focus, else ask.

"Ravi" with two Ravis on record is never guessed: the `staff_patient_form` lists them and waits.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.care.errors import CareError, CareNotFound
from actions.care.models import Patient
from actions.shared.errors import explain
from actions.shared.who import FOCUS
from actions.staff.search import PatientQuery, clear_choice, encode_query, find_patients, patient_query
from actions.staff.session import PATIENT_FORM_SLOTS, StaffContext, start_form


def ask_for_patient(pending: str, query: PatientQuery | None = None) -> list[dict[str, Any]]:
    """Start the patient question; what happens once it is answered is `pending`."""
    slots: dict[str, Any] = dict.fromkeys(PATIENT_FORM_SLOTS)
    slots["staff_pending"] = pending
    if query is not None:
        slots["staff_patient_query"] = encode_query(query)
    return start_form("staff_patient_form", **slots)


async def patient_for_request(
    dispatcher: CollectingDispatcher, tracker: Tracker, ctx: StaffContext, pending: str, use_text: bool
) -> tuple[Patient | None, list[dict[str, Any]]]:
    """(patient, events) or (None, events that ask / explain). `use_text`: a request of our own intents
    (search, summary) may name the patient in plain words; shared intents only through the `person`
    entity, so "what is my dose" is not a search for a patient called "dose"."""
    query = patient_query(tracker, use_text=use_text)
    if query is not None:
        try:
            patients = await find_patients(ctx, query)
        except CareError as exc:
            return None, explain(dispatcher, tracker, exc)
        one = clear_choice(query, patients)
        if one is not None:
            return one, [SlotSet(FOCUS, one.id)]
        if not patients:
            dispatcher.utter_message(response="utter_staff_search_none", query=query.label)
            return None, []
        return None, ask_for_patient(pending, query)
    focus = tracker.get_slot(FOCUS)
    if focus:
        try:
            return await ctx.call(ctx.care.get_patient, focus), []
        except CareNotFound:
            return None, [SlotSet(FOCUS, None), *ask_for_patient(pending)]
        except CareError as exc:
            return None, explain(dispatcher, tracker, exc)
    return None, ask_for_patient(pending)

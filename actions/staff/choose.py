"""Picking a patient: the `staff_patient_form` ("Which patient?") and a tap on a row of a search result.

Once the patient is known, what the staff member asked for (`staff_pending`) happens: the summary, a
section, or the start of a booking, cancellation or move.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.care.errors import CareError
from actions.care.models import Patient
from actions.shared.errors import explain
from actions.shared.forms import NOT_UNDERSTOOD, AssistantForm, clear, escapes
from actions.shared.turn import entity, latest_intent
from actions.shared.who import FOCUS
from actions.staff import rows
from actions.staff.booking import ask_patient
from actions.staff.scheduling import begin_change, booking_for_patient
from actions.staff.search import clear_choice, decode_query, encode_query, find_patients, patient_query, pick_patient
from actions.staff.session import PATIENT_FORM_SLOTS, StaffContext, require_staff, session_ended, staff_context
from actions.staff.summary import show_patient


async def continue_with(
    pending: str | None,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: dict[str, Any],
    ctx: StaffContext,
    patient: Patient,
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [SlotSet(FOCUS, patient.id), SlotSet("staff_pending", None)]
    if pending == "book":
        return events + booking_for_patient(patient.id, patient.name)
    if pending in ("cancel", "reschedule"):
        return events + await begin_change(
            dispatcher, tracker, ctx, patient.id, patient.name, pending, tracker.get_slot("staff_cancel_when")
        )
    return events + await show_patient(pending or "summary", dispatcher, tracker, domain, ctx, patient)


class ValidateStaffPatientForm(AssistantForm):
    def name(self) -> str:
        return "validate_staff_patient_form"

    async def form_slots(self, domain_slots: list[str], tracker: Tracker) -> list[str]:
        # the login is gone: nothing to ask; the done action says so
        return domain_slots if staff_context(tracker.sender_id) is not None else []

    def answer(self, slot: str, tracker: Tracker) -> Any:
        if slot != "staff_patient_choice":
            return super().answer(slot, tracker)
        if latest_intent(tracker) == "staff_choose":
            parsed = rows.parse_choice(entity(tracker, "staff_choice"))
            if parsed and parsed[0] == rows.CHOICE_PATIENT:
                return f"id:{parsed[1]}"
        if escapes(tracker):
            return None
        query = patient_query(tracker, use_text=True, answer=True)
        return encode_query(query) if query else NOT_UNDERSTOOD

    async def validate_staff_patient_choice(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        ctx = staff_context(tracker.sender_id)
        text = str(value or "")
        if ctx is None or not text:
            return {"staff_patient_choice": None}
        if text.startswith("id:"):
            return {"staff_patient_choice": text[3:], FOCUS: text[3:], "staff_patient_query": None}
        query = decode_query(text)
        if query is None:
            return {"staff_patient_choice": None}
        one, listed = await pick_patient(dispatcher, tracker, ctx, query)
        if one is not None:
            return {"staff_patient_choice": one.id, FOCUS: one.id, "staff_patient_query": None}
        return {"staff_patient_choice": None, "staff_patient_query": listed}


class AskStaffPatient(Action):
    def name(self) -> str:
        return "action_ask_staff_patient_form_staff_patient_choice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return await ask_patient(dispatcher, tracker, response="utter_ask_staff_patient_form_staff_patient_choice")


class ActionStaffPatientChosen(Action):
    """The patient question is answered: do what was asked."""

    def name(self) -> str:
        return "action_staff_patient_chosen"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        done = clear(*PATIENT_FORM_SLOTS)
        ctx = staff_context(tracker.sender_id)
        if ctx is None:
            return done + session_ended(dispatcher)
        patient_id = tracker.get_slot("staff_patient_choice")
        if not patient_id:
            return done
        try:
            patient = await ctx.call(ctx.care.get_patient, patient_id)
        except CareError as exc:
            return done + explain(dispatcher, tracker, exc)
        return done + await continue_with(tracker.get_slot("staff_pending"), dispatcher, tracker, domain, ctx, patient)


class ActionStaffChoose(Action):
    """A tap on a patient row outside a form (a search result): that patient's summary."""

    def name(self) -> str:
        return "action_staff_choose"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        ctx, events = require_staff(dispatcher, tracker)
        if ctx is None:
            return events
        parsed = rows.parse_choice(entity(tracker, "staff_choice"))
        if parsed is None or parsed[0] != rows.CHOICE_PATIENT:
            dispatcher.utter_message(response="utter_staff_choice_stale")
            return []
        try:
            patient = await ctx.call(ctx.care.get_patient, parsed[1])
        except CareError as exc:
            return explain(dispatcher, tracker, exc)
        return await continue_with(tracker.get_slot("staff_pending"), dispatcher, tracker, domain, ctx, patient)


__all__ = [
    "ActionStaffChoose",
    "ActionStaffPatientChosen",
    "AskStaffPatient",
    "ValidateStaffPatientForm",
    "clear_choice",
    "find_patients",
]

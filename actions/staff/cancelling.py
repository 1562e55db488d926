"""Cancelling and moving a patient's appointment for staff.

`staff_cancel_form` picks one of the patient's upcoming appointments and cancels it after a yes; in
"reschedule" mode ("move Ravi's appointment to Friday 4pm") it hands over to the booking form, and the old
appointment is cancelled (as "rescheduled") only once the new one is booked (actions/staff/scheduling.py).
The hook `start_cancel` and the start of both modes are in actions/staff/scheduling.py; upcoming
appointments and the cancel call are actions/scheduling's.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.care.errors import CareError
from actions.care.models import Appointment
from actions.scheduling.appointments import cancel, upcoming
from actions.shared.errors import explain
from actions.shared.formatting import appointment_line, appointment_when, lines
from actions.shared.forms import NOT_UNDERSTOOD, STOPPED_SLOT, AssistantForm, clear, escapes, yes_or_no
from actions.shared.who import FOCUS
from actions.staff.rows import CHOICE_APPOINTMENT, appointment_button, chosen
from actions.staff.scheduling import FORM, appointment_doctor, start_change
from actions.staff.session import (
    CANCEL_SLOTS,
    SCHEDULE_SLOTS,
    StaffContext,
    session_ended,
    staff_context,
    start_form,
)

# ------------------------------------------------------------------ cancel / reschedule


class ActionStaffReschedule(Action):
    """ "move Ravi's appointment to Friday 4pm": pick the appointment, then book the new time."""

    def name(self) -> str:
        return "action_staff_reschedule"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return await start_change(dispatcher, tracker, "reschedule")


async def _focus_upcoming(ctx: StaffContext, tracker: Tracker) -> list[Appointment]:
    pid = tracker.get_slot(FOCUS)
    return upcoming(await ctx.call(ctx.care.list_patient_appointments, pid), ctx.now()) if pid else []


class ValidateStaffCancelForm(AssistantForm):
    def name(self) -> str:
        return "validate_staff_cancel_form"

    async def form_slots(self, domain_slots: list[str], tracker: Tracker) -> list[str]:
        if staff_context(tracker.sender_id) is None:
            return []  # the login is gone: nothing to ask; the done action says so
        if tracker.get_slot("staff_cancel_mode") == "reschedule":
            return ["staff_cancel_appt"]  # moving: no "cancel it?" question, the booking form confirms
        return domain_slots

    def answer(self, slot: str, tracker: Tracker) -> Any:
        if slot == "staff_cancel_appt":
            tapped = chosen(tracker, CHOICE_APPOINTMENT)
            if tapped:
                return tapped
        elif slot == "staff_cancel_confirm" and yes_or_no(tracker) is not None:
            return yes_or_no(tracker)
        return None if escapes(tracker) else NOT_UNDERSTOOD

    def validate_staff_cancel_appt(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if not value:
            dispatcher.utter_message(response="utter_staff_choose_from_list")
            return {"staff_cancel_appt": None}
        return {"staff_cancel_appt": value}

    def validate_staff_cancel_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if value is True:
            return {"staff_cancel_confirm": True}
        if value is False:
            return self.stop(staff_cancel_confirm=False)  # the done action says the appointment is kept
        dispatcher.utter_message(response="utter_staff_yes_or_no")
        return {"staff_cancel_confirm": None}


class AskCancelAppointment(Action):
    def name(self) -> str:
        return "action_ask_staff_cancel_form_staff_cancel_appt"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        ctx = staff_context(tracker.sender_id)
        if ctx is None:
            return []
        try:
            coming = await _focus_upcoming(ctx, tracker)
            patient = await ctx.call(ctx.care.get_patient, tracker.get_slot(FOCUS))
        except CareError as exc:
            return explain(dispatcher, tracker, exc)
        today = ctx.today()
        dispatcher.utter_message(
            response="utter_staff_which_appointment",
            patient=patient.name,
            lines=lines((appointment_line(a, ctx.tz, today) for a in coming[:10]), ""),
            buttons=[appointment_button(a, ctx.tz, today) for a in coming[:10]],
        )
        return []


def _when(appt: Appointment, ctx: StaffContext) -> str:
    """For the cancel question and its answer: always with the date ("tomorrow, Thu 3 Dec, 2 pm")."""
    return appointment_when(appt, ctx.tz, ctx.today())


async def _chosen_appointment(ctx: StaffContext, tracker: Tracker) -> Appointment | None:
    wanted = tracker.get_slot("staff_cancel_appt")
    return next((a for a in await _focus_upcoming(ctx, tracker) if a.id == wanted), None)


class AskCancelConfirm(Action):
    def name(self) -> str:
        return "action_ask_staff_cancel_form_staff_cancel_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        ctx = staff_context(tracker.sender_id)
        if ctx is None:
            return []
        try:
            appt = await _chosen_appointment(ctx, tracker)
        except CareError as exc:
            return explain(dispatcher, tracker, exc)
        if appt is None:
            dispatcher.utter_message(response="utter_staff_choose_from_list")
            return [SlotSet("staff_cancel_appt", None), SlotSet("requested_slot", "staff_cancel_appt")]
        dispatcher.utter_message(
            response="utter_staff_confirm_cancel",
            patient=appt.patient_name,
            doctor=appointment_doctor(appt, domain),
            when=_when(appt, ctx),
        )
        return []


class ActionStaffCancelSubmit(Action):
    """The cancel form is done: cancel after a yes, or (reschedule) start booking the new time."""

    def name(self) -> str:
        return "action_staff_cancel_submit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        done = clear(*CANCEL_SLOTS, STOPPED_SLOT)
        ctx = staff_context(tracker.sender_id)
        if ctx is None:
            return done + session_ended(dispatcher)
        mode = tracker.get_slot("staff_cancel_mode")
        if mode != "reschedule" and tracker.get_slot("staff_cancel_confirm") is not True:
            dispatcher.utter_message(response="utter_staff_appointment_kept")
            return done
        try:
            appt = await _chosen_appointment(ctx, tracker)
        except CareError as exc:
            return done + explain(dispatcher, tracker, exc)
        if appt is None:
            dispatcher.utter_message(response="utter_staff_choose_from_list")
            return done
        fid = appt.facility_id or ctx.facility_id
        if mode == "reschedule":
            slots: dict[str, Any] = dict.fromkeys(SCHEDULE_SLOTS)
            slots.update(
                sched_patient=appt.patient_id or tracker.get_slot(FOCUS),
                sched_patient_name=appt.patient_name,
                sched_practitioner=appt.practitioner.id if appt.practitioner else None,
                sched_practitioner_name=appt.practitioner.name if appt.practitioner else None,
                sched_facility=fid,
                sched_replaces=appt.id,
                sched_when=tracker.get_slot("staff_cancel_when"),
            )
            return done + start_form(FORM, **slots)
        try:
            await cancel(ctx.care, appt.id, facility_id=fid)
        except CareError as exc:
            return done + explain(dispatcher, tracker, exc)
        dispatcher.utter_message(
            response="utter_staff_appointment_cancelled",
            patient=appt.patient_name,
            doctor=appointment_doctor(appt, domain),
            when=_when(appt, ctx),
        )
        return done

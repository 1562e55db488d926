"""The questions of the staff booking form (`schedule_appointment_form`, validated in
actions/staff/scheduling.py) and the booking itself, through CARE with the staff member's own token.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.care.errors import CareError, CareInvalid
from actions.scheduling.appointments import book, cancel
from actions.scheduling.windows import decode_when, slots_near
from actions.shared import clock
from actions.shared.errors import explain
from actions.shared.formatting import day_phrase
from actions.shared.forms import STOPPED_SLOT, clear
from actions.shared.turn import render
from actions.shared.who import FOCUS
from actions.staff.practitioners import free_slots_on, match_practitioners, practitioners
from actions.staff.rows import practitioner_button, slot_button
from actions.staff.scheduling import BOOKING_NOTE, FORM, doctor_name
from actions.staff.search import ask_which, decode_query, find_patients
from actions.staff.session import SCHEDULE_SLOTS, session_ended, staff_context, start_form
from common.dates import format_local_dated

# ------------------------------------------------------------------ questions of the booking form


class AskSchedulePatient(Action):
    def name(self) -> str:
        return "action_ask_schedule_appointment_form_sched_patient"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return await ask_patient(dispatcher, tracker, response="utter_ask_schedule_appointment_form_sched_patient")


async def ask_patient(dispatcher: CollectingDispatcher, tracker: Tracker, response: str) -> list[dict[str, Any]]:
    """The patient question: the matching patients as a list when a name fit several, else the question."""
    ctx = staff_context(tracker.sender_id)
    query = decode_query(tracker.get_slot("staff_patient_query"))
    if ctx is not None and query is not None:
        try:
            patients = await find_patients(ctx, query)
        except CareError as exc:
            return explain(dispatcher, tracker, exc)
        if len(patients) > 1:
            ask_which(dispatcher, ctx, query, patients)
            return []
    dispatcher.utter_message(response=response)
    return []


class AskScheduleWhen(Action):
    def name(self) -> str:
        return "action_ask_schedule_appointment_form_sched_when"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_ask_schedule_appointment_form_sched_when")
        return []


class AskSchedulePractitioner(Action):
    def name(self) -> str:
        return "action_ask_schedule_appointment_form_sched_practitioner"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        ctx = staff_context(tracker.sender_id)
        if ctx is None:
            return []
        query = tracker.get_slot("sched_practitioner_query")
        try:
            found = await (match_practitioners(ctx, query) if query else practitioners(ctx))
        except CareError as exc:
            return explain(dispatcher, tracker, exc)
        buttons = [practitioner_button(p) for _, p in found[:10]]
        if query and len(found) > 1:
            dispatcher.utter_message(response="utter_staff_which_practitioner", query=query, buttons=buttons)
        elif not found:
            dispatcher.utter_message(response="utter_staff_no_practitioners")
        else:
            dispatcher.utter_message(response="utter_staff_ask_practitioner", buttons=buttons)
        return []


class AskScheduleSlot(Action):
    """The free times of the chosen day as a list (nearest to the asked time or part of day first)."""

    def name(self) -> str:
        return "action_ask_schedule_appointment_form_sched_slot"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        ctx = staff_context(tracker.sender_id)
        decoded = decode_when(tracker.get_slot("sched_when"))
        pid, fid = tracker.get_slot("sched_practitioner"), tracker.get_slot("sched_facility")
        if ctx is None or decoded is None or not pid or not fid:
            return []
        day, start, end = decoded
        try:
            free = await free_slots_on(ctx, fid, pid, day)
        except CareError as exc:
            return explain(dispatcher, tracker, exc)
        shown = slots_near(free, ctx.tz, start, end, limit=10)
        doctor = doctor_name(tracker, domain)
        if (
            shown
            and start is not None
            and end is not None
            and not slots_near(free, ctx.tz, start, end, limit=1, strict=True)
        ):
            dispatcher.utter_message(
                response="utter_staff_none_in_window", doctor=doctor, day=day_phrase(day, ctx.today())
            )
        if not shown:
            dispatcher.utter_message(
                response="utter_staff_no_free_time_day", doctor=doctor, day=day_phrase(day, ctx.today())
            )
            return [SlotSet("sched_when", None)]
        dispatcher.utter_message(
            response="utter_staff_free_slots",
            doctor=doctor,
            day=day_phrase(day, ctx.today()),
            buttons=[slot_button(s, ctx.tz) for s in shown],
        )
        return []


class AskScheduleConfirm(Action):
    def name(self) -> str:
        return "action_ask_schedule_appointment_form_sched_confirm"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        start = tracker.get_slot("sched_slot_start")
        tz, today = clock.timezone_name(), clock.today()  # the hospital's zone and day
        moving = bool(tracker.get_slot("sched_replaces"))
        # always with the date, as the patient part says it: "tomorrow, Thu 3 Dec, 11 am", "Fri 4 Dec, 9:30 am"
        when = format_local_dated(dt.datetime.fromisoformat(start), tz, today) if start else ""
        patient = tracker.get_slot("sched_patient_name") or render(domain, response="utter_staff_fragment_the_patient")
        values = dict(patient=patient, doctor=doctor_name(tracker, domain), when=when)
        if moving:
            dispatcher.utter_message(response="utter_staff_confirm_reschedule", **values)
        else:
            dispatcher.utter_message(response="utter_staff_confirm_booking", **values)
        return []


class ActionStaffBook(Action):
    """The booking form is done: book through CARE (or say nothing was booked)."""

    def name(self) -> str:
        return "action_staff_book"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        done = clear(*SCHEDULE_SLOTS, "staff_patient_query", STOPPED_SLOT)
        ctx = staff_context(tracker.sender_id)
        if ctx is None:
            return done + session_ended(dispatcher)
        if tracker.get_slot("sched_confirm") is not True:
            dispatcher.utter_message(response="utter_staff_not_booked")
            return done
        patient_id, slot_id = tracker.get_slot("sched_patient"), tracker.get_slot("sched_slot")
        fid, replaces = tracker.get_slot("sched_facility"), tracker.get_slot("sched_replaces")
        try:
            appt = await book(ctx.care, slot_id, patient_id, BOOKING_NOTE, facility_id=fid)
        except CareInvalid:
            # someone else took the slot between the list and the yes: offer the day again
            dispatcher.utter_message(response="utter_staff_slot_taken")
            keep = {n: tracker.get_slot(n) for n in SCHEDULE_SLOTS}
            keep.update(sched_slot=None, sched_slot_start=None, sched_confirm=None)
            return start_form(FORM, **keep)
        except CareError as exc:
            return done + explain(dispatcher, tracker, exc)
        start = appt.start or dt.datetime.fromisoformat(tracker.get_slot("sched_slot_start"))
        values = dict(
            patient=tracker.get_slot("sched_patient_name") or appt.patient_name,
            doctor=doctor_name(tracker, domain),
            when=format_local_dated(start, ctx.tz, ctx.today()),
        )
        if replaces:
            try:
                await cancel(ctx.care, replaces, facility_id=fid, reason="rescheduled")
            except CareError as exc:
                dispatcher.utter_message(response="utter_staff_booked", **values)
                return done + explain(dispatcher, tracker, exc) + [SlotSet(FOCUS, patient_id)]
            dispatcher.utter_message(response="utter_staff_rescheduled", **values)
        else:
            dispatcher.utter_message(response="utter_staff_booked", **values)
        return done + [SlotSet(FOCUS, patient_id)]

"""Booking, cancelling and moving appointments for staff: the hooks that start them.

`schedule_appointment_form` collects the patient, the practitioner (by name, or by specialty, among the
facility's schedulable users) and a day/time in natural language ("tomorrow morning", "next Monday 3pm",
"25/12"), offers the free slots as a list, confirms with buttons and books through CARE with the staff
member's own token. Whatever the first message already said ("book Ravi with Dr. Asha tomorrow at 10") is
taken from it; two Ravis or two Dr. Ashas are listed for the user to pick, never guessed.

The CARE-facing work (practitioners, free slots, days and time windows, upcoming appointments) is
actions/scheduling's. The booking form reads its answers in actions/staff/booking_form.py and asks its
questions and books in actions/staff/booking.py; the cancel form is in actions/staff/cancelling.py.

Hooks for actions/requests.py: `start_booking` and `start_cancel` (async, return events).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.care.errors import CareError
from actions.care.models import Appointment
from actions.scheduling.appointments import on_day, upcoming
from actions.scheduling.days import when_from_text
from actions.scheduling.windows import decode_when
from actions.shared.errors import explain
from actions.shared.formatting import doctor_of
from actions.shared.forms import STOPPED_SLOT, clear
from actions.shared.turn import is_tap, latest_text, render
from actions.shared.who import FOCUS
from actions.staff.patients import patient_for_request
from actions.staff.session import (
    CANCEL_SLOTS,
    SCHEDULE_SLOTS,
    StaffContext,
    access_of,
    require_staff,
    start_form,
)

logger = logging.getLogger(__name__)

FORM = "schedule_appointment_form"
CANCEL_FORM = "staff_cancel_form"
BOOKING_NOTE = "Booked on WhatsApp by staff"

__all__ = [
    "BOOKING_NOTE",
    "CANCEL_FORM",
    "FORM",
    "begin_change",
    "booking_for_patient",
    "start_booking",
    "start_cancel",
]


def doctor_name(tracker: Tracker, domain: dict[str, Any]) -> str:
    """The chosen doctor's name for a sentence (CARE's name; "the doctor" before one is chosen)."""
    return tracker.get_slot("sched_practitioner_name") or render(domain, response="utter_staff_fragment_the_doctor")


def appointment_doctor(appt: Appointment, domain: dict[str, Any]) -> str:
    return doctor_of(appt) or render(domain, response="utter_staff_fragment_the_hospital")


# ------------------------------------------------------------------ hooks for actions/requests.py


async def booking_refused(
    dispatcher: CollectingDispatcher, tracker: Tracker, ctx: StaffContext
) -> list[dict[str, Any]] | None:
    """None when the role may book, cancel and move appointments (actions/staff/permissions.py); else the
    events after saying why not (a volunteer: plainly, before any question)."""
    if not ctx.facility_id:
        dispatcher.utter_message(response="utter_staff_no_facility")
        return []
    try:
        access = await access_of(ctx)
    except CareError as exc:
        return explain(dispatcher, tracker, exc)
    if not access.book:
        dispatcher.utter_message(response="utter_staff_forbidden_booking")
        return []
    return None


async def start_booking(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
) -> list[dict[str, Any]]:
    """A staff member asked to book ("book Ravi with Dr. Asha tomorrow at 10"): start the booking form.
    What the message already says is read by the form itself."""
    ctx, events = require_staff(dispatcher, tracker)
    if ctx is None:
        return events
    refused = await booking_refused(dispatcher, tracker, ctx)
    if refused is not None:
        return refused
    return start_form(FORM, **dict.fromkeys((*SCHEDULE_SLOTS, STOPPED_SLOT)))


async def start_cancel(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
) -> list[dict[str, Any]]:
    """A staff member asked to cancel ("cancel Ravi's appointment"): pick the appointment, confirm, cancel."""
    return await start_change(dispatcher, tracker, "cancel")


async def start_change(dispatcher: CollectingDispatcher, tracker: Tracker, mode: str) -> list[dict[str, Any]]:
    """Cancel or move ("reschedule") one of a patient's appointments."""
    ctx, events = require_staff(dispatcher, tracker)
    if ctx is None:
        return events
    refused = await booking_refused(dispatcher, tracker, ctx)
    if refused is not None:
        return refused
    text = latest_text(tracker)
    when = None if is_tap(text) else when_from_text(text, ctx.now(), ctx.tz)
    patient, events = await patient_for_request(dispatcher, tracker, ctx, mode, use_text=False)
    if patient is None:
        return [SlotSet("staff_cancel_when", when), *events]
    return events + await begin_change(dispatcher, tracker, ctx, patient.id, patient.name, mode, when)


async def begin_change(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    ctx: StaffContext,
    patient_id: str,
    patient_name: str,
    mode: str,
    when: str | None,
) -> list[dict[str, Any]]:
    """The patient is known: find their upcoming appointments and start the cancel form."""
    try:
        coming = upcoming(await ctx.call(ctx.care.list_patient_appointments, patient_id), ctx.now())
    except CareError as exc:
        return explain(dispatcher, tracker, exc)
    if not coming:
        dispatcher.utter_message(response="utter_staff_no_upcoming", patient=patient_name)
        return [SlotSet(FOCUS, patient_id), *clear(*CANCEL_SLOTS)]
    slots: dict[str, Any] = dict.fromkeys((*CANCEL_SLOTS, STOPPED_SLOT))
    slots.update(staff_cancel_mode=mode, staff_cancel_when=when)
    decoded = decode_when(when)
    if decoded and mode == "cancel":  # "cancel Ravi's appointment on Friday": that day's, if there is one
        coming = on_day(coming, decoded[0], ctx.tz) or coming
    if len(coming) == 1:
        slots["staff_cancel_appt"] = coming[0].id
    return [SlotSet(FOCUS, patient_id), *start_form(CANCEL_FORM, **slots)]


def booking_for_patient(patient_id: str, patient_name: str) -> list[dict[str, Any]]:
    slots: dict[str, Any] = dict.fromkeys((*SCHEDULE_SLOTS, STOPPED_SLOT))
    slots.update(sched_patient=patient_id, sched_patient_name=patient_name)
    return start_form(FORM, **slots)

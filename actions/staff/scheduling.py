"""Booking, cancelling and moving appointments for staff.

`schedule_appointment_form` collects the patient, the practitioner (by name, or by specialty, among the
facility's schedulable users) and a day/time in natural language ("tomorrow morning", "next Monday 3pm",
"25/12"), offers the free slots as a list, confirms with buttons and books through CARE with the staff
member's own token. Whatever the first message already said ("book Ravi with Dr. Asha tomorrow at 10") is
taken from it; two Ravis or two Dr. Ashas are listed for the user to pick, never guessed.

This module starts booking, cancelling and moving (the hooks, `_start_change`) and validates the booking
form; its questions and the booking are in actions/staff/booking.py, the cancel form in
actions/staff/cancelling.py, practitioners and free slots in actions/staff/practitioners.py.

Hooks for the patient part's actions: `start_booking` and `start_cancel` (async, return events).
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.care.errors import CareError
from actions.care.models import Appointment
from actions.shared.errors import explain
from actions.shared.forms import escapes
from actions.shared.turn import entity, latest_intent, latest_text, render
from actions.shared.who import FOCUS
from actions.staff import formatting as fmt
from actions.staff.patients import patient_for_request
from actions.staff.practitioners import (
    LOOKAHEAD_DAYS,
    free_slots_on,
    match_practitioners,
    next_free_day,
    practitioners,
)
from actions.staff.search import clear_choice, decode_query, encode_query, find_patients, patient_query
from actions.staff.session import (
    CANCEL_SLOTS,
    SCHEDULE_SLOTS,
    StaffContext,
    access_of,
    require_staff,
    reset,
    staff_context,
    start_form,
)
from common.dates import format_day, format_time, parse_when

logger = logging.getLogger(__name__)

FORM = "schedule_appointment_form"
CANCEL_FORM = "staff_cancel_form"
BOOKING_NOTE = "Booked on WhatsApp by staff"


# ------------------------------------------------------------------ reading answers (pure)

def when_from_text(text: str, now: dt.datetime, tz: str) -> str | None:
    """The `sched_when` value for a message, or None. A time without a day is today if still ahead, else
    tomorrow ("at 4pm")."""
    w = parse_when(text, now, tz)
    if w is None or (w.day is None and w.start is None):
        return None
    local_now = now.astimezone(fmt.zone(tz))
    day = w.day
    if day is None:
        day = local_now.date()
        if w.start is not None and w.start <= local_now.time().replace(tzinfo=None):
            day = day + dt.timedelta(days=1)
    return fmt.encode_when(day, w.start, w.end)


def day_phrase(day: dt.date, today: dt.date) -> str:
    """"today", "tomorrow", "on Friday 27 Nov"."""
    text = format_day(day, today)
    return text if text in ("today", "tomorrow") else f"on {text}"


def _answer(tracker: Tracker, slot: str) -> bool:
    return tracker.get_slot("requested_slot") == slot


def _starting(tracker: Tracker) -> bool:
    return tracker.get_slot("requested_slot") is None


def _doctor(tracker: Tracker, domain: dict[str, Any]) -> str:
    """The chosen doctor's name for a sentence (CARE's name; "the doctor" before one is chosen)."""
    return tracker.get_slot("sched_practitioner_name") or render(domain, response="utter_staff_fragment_the_doctor")


def _appointment_doctor(appt: Appointment, domain: dict[str, Any]) -> str:
    return appt.practitioner.name if appt.practitioner else render(domain, response="utter_staff_fragment_the_hospital")


def _choice(tracker: Tracker, kind: str) -> str | None:
    if latest_intent(tracker) != "staff_choose":
        return None
    parsed = fmt.parse_choice(entity(tracker, "staff_choice"))
    return parsed[1] if parsed and parsed[0] == kind else None


# ------------------------------------------------------------------ hooks for the patient part

async def booking_refused(dispatcher: CollectingDispatcher, tracker: Tracker,
                          ctx: StaffContext) -> list[dict[str, Any]] | None:
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


async def start_booking(dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: dict[str, Any]) -> list[dict[str, Any]]:
    """A staff member asked to book ("book Ravi with Dr. Asha tomorrow at 10"): start the booking form.
    What the message already says is read by the form itself."""
    ctx, events = require_staff(dispatcher, tracker)
    if ctx is None:
        return events
    refused = await booking_refused(dispatcher, tracker, ctx)
    if refused is not None:
        return refused
    return start_form(FORM, **{n: None for n in SCHEDULE_SLOTS})


async def start_cancel(dispatcher: CollectingDispatcher, tracker: Tracker,
                       domain: dict[str, Any]) -> list[dict[str, Any]]:
    """A staff member asked to cancel ("cancel Ravi's appointment"): pick the appointment, confirm, cancel."""
    return await _start_change(dispatcher, tracker, "cancel")


async def _start_change(dispatcher: CollectingDispatcher, tracker: Tracker, mode: str) -> list[dict[str, Any]]:
    ctx, events = require_staff(dispatcher, tracker)
    if ctx is None:
        return events
    refused = await booking_refused(dispatcher, tracker, ctx)
    if refused is not None:
        return refused
    when = when_from_text(latest_text(tracker), ctx.now(), ctx.tz) if not latest_text(tracker).startswith("/") else None
    patient, events = await patient_for_request(dispatcher, tracker, ctx, mode, use_text=False)
    if patient is None:
        return [SlotSet("staff_cancel_when", when), *events]
    return events + await begin_change(dispatcher, tracker, ctx, patient.id, patient.name, mode, when)


async def begin_change(dispatcher: CollectingDispatcher, tracker: Tracker, ctx: StaffContext, patient_id: str,
                       patient_name: str, mode: str, when: str | None) -> list[dict[str, Any]]:
    """The patient is known: find their upcoming appointments and start the cancel form."""
    try:
        upcoming = fmt.upcoming(await ctx.call(ctx.care.list_patient_appointments, patient_id), ctx.now())
    except CareError as exc:
        return explain(dispatcher, tracker, exc)
    if not upcoming:
        dispatcher.utter_message(response="utter_staff_no_upcoming", patient=patient_name)
        return [SlotSet(FOCUS, patient_id), *reset(*CANCEL_SLOTS)]
    slots: dict[str, Any] = {n: None for n in CANCEL_SLOTS}
    slots.update(staff_cancel_mode=mode, staff_cancel_when=when)
    decoded = fmt.decode_when(when)
    if decoded and mode == "cancel":  # "cancel Ravi's appointment on Friday": that day's, if there is one
        on_day = [a for a in upcoming if a.start.astimezone(fmt.zone(ctx.tz)).date() == decoded[0]]
        upcoming = on_day or upcoming
    if len(upcoming) == 1:
        slots["staff_cancel_appt"] = upcoming[0].id
    return [SlotSet(FOCUS, patient_id), *start_form(CANCEL_FORM, **slots)]


def booking_for_patient(patient_id: str, patient_name: str) -> list[dict[str, Any]]:
    slots: dict[str, Any] = {n: None for n in SCHEDULE_SLOTS}
    slots.update(sched_patient=patient_id, sched_patient_name=patient_name)
    return start_form(FORM, **slots)


# ------------------------------------------------------------------ the booking form

def _yes_no(tracker: Tracker, slot: str) -> dict[str, Any] | None:
    """A confirmation's answer: yes/no -> the slot, a control word (help, menu...) -> {} (no answer), else None."""
    intent = latest_intent(tracker)
    if intent in ("affirm", "deny"):
        return {slot: intent == "affirm"}
    return {} if escapes(tracker) else None


def _validate_yes_no(slot: str, value: Any, dispatcher: CollectingDispatcher) -> dict[str, Any]:
    """"?" (something other than yes or no was typed) asks for yes or no and keeps the question open."""
    if value in (True, False):
        return {slot: value}
    if value == "?":
        dispatcher.utter_message(response="utter_staff_yes_or_no")
    return {slot: None}


class ValidateScheduleAppointmentForm(FormValidationAction):
    def name(self) -> str:
        return "validate_schedule_appointment_form"

    async def next_requested_slot(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: dict[str, Any]) -> dict[str, Any] | None:
        # Ending here, not in required_slots: required_slots also decides which answers are validated, and
        # the "no" just extracted must still be validated (else Rasa rejects the form)
        if tracker.get_slot("sched_confirm") is False or staff_context(tracker.sender_id) is None:
            return SlotSet("requested_slot", None)  # answered "no", or the login is gone: action_staff_book says so
        return await super().next_requested_slot(dispatcher, tracker, domain)

    async def get_validation_events(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: dict[str, Any]) -> list[dict[str, Any]]:
        events = await super().get_validation_events(dispatcher, tracker, domain)
        changed = {e["name"] for e in events if e.get("event") == "slot"}
        if changed & {"sched_when", "sched_practitioner"} or _starting(tracker):
            extra = await self._check_day(dispatcher, tracker, domain)
            tracker.slots.update(extra)
            events += [SlotSet(k, v) for k, v in extra.items()]
        return events

    async def _check_day(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                         domain: dict[str, Any]) -> dict[str, Any]:
        """Once doctor and day are known: take an exact time if it is free, move to the next free day if
        that day has nothing."""
        ctx = staff_context(tracker.sender_id)
        decoded = fmt.decode_when(tracker.get_slot("sched_when"))
        pid, fid = tracker.get_slot("sched_practitioner"), tracker.get_slot("sched_facility")
        if ctx is None or decoded is None or not pid or not fid or tracker.get_slot("sched_slot"):
            return {}
        day, start, end = decoded
        doctor, today = _doctor(tracker, domain), ctx.today()
        try:
            free = await free_slots_on(ctx, fid, pid, day)
            if free and start is not None and end is None:
                exact = [s for s in free if fmt.local_time(s, ctx.tz) == start]
                if exact:
                    return {"sched_slot": exact[0].id, "sched_slot_start": exact[0].start.isoformat()}
                dispatcher.utter_message(response="utter_staff_time_not_free", time=format_time(start),
                                         doctor=doctor, day=day_phrase(day, today))
            if free:
                return {}
            nxt = await next_free_day(ctx, fid, pid, day)
        except CareError as exc:
            explain(dispatcher, tracker, exc)
            return {"sched_when": None}
        if nxt is None:
            dispatcher.utter_message(response="utter_staff_no_free_time_soon", doctor=doctor, days=LOOKAHEAD_DAYS)
            return {"sched_when": None}
        dispatcher.utter_message(response="utter_staff_no_free_time", doctor=doctor, when=day_phrase(day, today),
                                 next_day=format_day(nxt, today))
        return {"sched_when": fmt.encode_when(nxt, start, end)}

    # ------------------------------------------------------------------ patient

    def extract_sched_patient(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: dict[str, Any]) -> dict[str, Any]:
        if _starting(tracker):
            if tracker.get_slot("sched_patient"):
                return {}
            query = patient_query(tracker, use_text=False)
            if query is not None:
                return {"sched_patient": encode_query(query)}
            focus = tracker.get_slot(FOCUS)
            return {"sched_patient": f"id:{focus}"} if focus else {}
        if not _answer(tracker, "sched_patient"):
            return {}
        chosen = _choice(tracker, fmt.CHOICE_PATIENT)
        if chosen:
            return {"sched_patient": f"id:{chosen}"}
        if escapes(tracker):
            return {}
        query = patient_query(tracker, use_text=True, answer=True)
        return {"sched_patient": encode_query(query) if query else "?"}

    async def validate_sched_patient(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: dict[str, Any]) -> dict[str, Any]:
        ctx = staff_context(tracker.sender_id)
        text = str(value or "")
        if ctx is None or text == "?":
            return {"sched_patient": None}
        try:
            if text.startswith("id:"):
                patient = await ctx.call(ctx.care.get_patient, text[3:])
                return {"sched_patient": patient.id, "sched_patient_name": patient.name, "staff_patient_query": None}
            query = decode_query(text)
            if query is None:  # already an id (set before the form started)
                return {"sched_patient": text}
            patients = await find_patients(ctx, query)
        except CareError as exc:
            explain(dispatcher, tracker, exc)
            return {"sched_patient": None}
        one = clear_choice(query, patients)
        if one is not None:
            return {"sched_patient": one.id, "sched_patient_name": one.name, "staff_patient_query": None}
        if not patients:
            dispatcher.utter_message(response="utter_staff_search_none", query=query.label)
            return {"sched_patient": None, "staff_patient_query": None}
        return {"sched_patient": None, "staff_patient_query": encode_query(query)}

    # ------------------------------------------------------------------ practitioner

    def extract_sched_practitioner(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: dict[str, Any]) -> dict[str, Any]:
        if _starting(tracker):
            named = entity(tracker, "practitioner")
            return {"sched_practitioner": f"q:{named}"} if named and not tracker.get_slot("sched_practitioner") else {}
        if not _answer(tracker, "sched_practitioner"):
            return {}
        chosen = _choice(tracker, fmt.CHOICE_DOCTOR)
        if chosen:
            return {"sched_practitioner": f"id:{chosen}"}
        if escapes(tracker):
            return {}
        return {"sched_practitioner": f"q:{entity(tracker, 'practitioner') or latest_text(tracker).strip()}"}

    async def validate_sched_practitioner(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                          domain: dict[str, Any]) -> dict[str, Any]:
        ctx = staff_context(tracker.sender_id)
        text = str(value or "")
        if ctx is None:
            return {"sched_practitioner": None}
        if not (text.startswith("id:") or text.startswith("q:")):
            return {"sched_practitioner": text or None}  # set before the form started (reschedule)
        try:
            if text.startswith("id:"):
                found = [(fid, p) for fid, p in await practitioners(ctx) if p.id == text[3:]]
            else:
                found = await match_practitioners(ctx, text[2:])
        except CareError as exc:
            explain(dispatcher, tracker, exc)
            return {"sched_practitioner": None}
        if len(found) == 1:
            fid, p = found[0]
            return {"sched_practitioner": p.id, "sched_practitioner_name": p.name, "sched_facility": fid,
                    "sched_practitioner_query": None, "sched_slot": None}
        if not found:
            if text.startswith("q:"):
                dispatcher.utter_message(response="utter_staff_practitioner_not_found", query=text[2:])
            return {"sched_practitioner": None, "sched_practitioner_query": None}
        return {"sched_practitioner": None, "sched_practitioner_query": text[2:]}

    # ------------------------------------------------------------------ day and time

    def extract_sched_when(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                           domain: dict[str, Any]) -> dict[str, Any]:
        ctx = staff_context(tracker.sender_id)
        text = latest_text(tracker)
        if ctx is None or text.startswith("/"):
            return {}
        if _starting(tracker):
            when = when_from_text(text, ctx.now(), ctx.tz)
            return {"sched_when": when} if when and not tracker.get_slot("sched_when") else {}
        if not _answer(tracker, "sched_when") or escapes(tracker):
            return {}
        return {"sched_when": when_from_text(text, ctx.now(), ctx.tz) or "?"}

    def validate_sched_when(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: dict[str, Any]) -> dict[str, Any]:
        ctx = staff_context(tracker.sender_id)
        decoded = fmt.decode_when(value)
        if ctx is None:
            return {"sched_when": None}
        if decoded is None:
            dispatcher.utter_message(response="utter_staff_when_not_understood")
            return {"sched_when": None}
        day, start, _ = decoded
        local_now = ctx.now().astimezone(fmt.zone(ctx.tz))
        if day < local_now.date() or (day == local_now.date() and start is not None and
                                      start < local_now.time().replace(tzinfo=None) and decoded[2] is None):
            dispatcher.utter_message(response="utter_staff_when_past")
            return {"sched_when": None}
        return {"sched_when": value, "sched_slot": None}

    # ------------------------------------------------------------------ slot

    def extract_sched_slot(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                           domain: dict[str, Any]) -> dict[str, Any]:
        if not _answer(tracker, "sched_slot"):
            return {}
        chosen = _choice(tracker, fmt.CHOICE_SLOT)
        if chosen:
            return {"sched_slot": f"id:{chosen}"}
        if escapes(tracker):
            return {}
        return self._new_time(tracker, latest_text(tracker)) or {"sched_slot": "?"}

    @staticmethod
    def _new_time(tracker: Tracker, text: str) -> dict[str, Any]:
        """Another day or time typed instead of a choice ("friday", "10:30", "evening")."""
        ctx = staff_context(tracker.sender_id)
        if ctx is None:
            return {}
        w = parse_when(text, ctx.now(), ctx.tz)
        if w is None:
            return {}
        current = fmt.decode_when(tracker.get_slot("sched_when"))
        if w.day is None and current is not None:
            return {"sched_when": fmt.encode_when(current[0], w.start, w.end), "sched_slot": None}
        when = when_from_text(text, ctx.now(), ctx.tz)
        return {"sched_when": when, "sched_slot": None} if when else {}

    async def validate_sched_slot(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: dict[str, Any]) -> dict[str, Any]:
        ctx = staff_context(tracker.sender_id)
        text = str(value or "")
        if ctx is None or not text:
            return {"sched_slot": None}
        if text == "?":
            dispatcher.utter_message(response="utter_staff_slot_not_understood")
            return {"sched_slot": None}
        if not text.startswith("id:"):
            return {"sched_slot": text}  # taken by _check_day, already checked
        decoded = fmt.decode_when(tracker.get_slot("sched_when"))
        pid, fid = tracker.get_slot("sched_practitioner"), tracker.get_slot("sched_facility")
        if decoded is None or not pid or not fid:
            return {"sched_slot": None}
        try:
            free = await free_slots_on(ctx, fid, pid, decoded[0])
        except CareError as exc:
            explain(dispatcher, tracker, exc)
            return {"sched_slot": None}
        slot = next((s for s in free if s.id == text[3:]), None)
        if slot is None:
            dispatcher.utter_message(response="utter_staff_slot_taken")
            return {"sched_slot": None}
        return {"sched_slot": slot.id, "sched_slot_start": slot.start.isoformat()}

    # ------------------------------------------------------------------ confirm

    def extract_sched_confirm(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: dict[str, Any]) -> dict[str, Any]:
        if not _answer(tracker, "sched_confirm"):
            return {}
        said = _yes_no(tracker, "sched_confirm")
        if said is not None:
            return said
        changed = self._new_time(tracker, latest_text(tracker))  # "make it 11 instead"
        if changed:
            return {**changed, "sched_confirm": None}
        return {"sched_confirm": "?"}

    def validate_sched_confirm(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: dict[str, Any]) -> dict[str, Any]:
        return _validate_yes_no("sched_confirm", value, dispatcher)

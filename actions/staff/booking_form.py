"""The staff booking form's reading (`validate_schedule_appointment_form`): patient, doctor, day and time,
free slot and yes, from taps (staff_choice rows) or typed words, on the shared AssistantForm.

Its questions and the booking are in actions/staff/booking.py; the hooks that start it in
actions/staff/scheduling.py; the CARE-facing work (free slots, next free day, days and time windows) is
actions/scheduling's.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.care.errors import CareError
from actions.care.models import Patient, Slot
from actions.scheduling.days import is_past, when_from_text
from actions.scheduling.slots import LOOKAHEAD_DAYS
from actions.scheduling.windows import decode_when, encode_when, local_time
from actions.shared.errors import explain
from actions.shared.formatting import day_phrase
from actions.shared.forms import NOT_UNDERSTOOD, AssistantForm, escapes, yes_or_no
from actions.shared.turn import entity, is_tap, latest_text
from actions.shared.who import FOCUS
from actions.staff.practitioners import free_slots_on, match_practitioners, next_free_day, practitioners
from actions.staff.rows import CHOICE_DOCTOR, CHOICE_PATIENT, CHOICE_SLOT, chosen
from actions.staff.scheduling import doctor_name
from actions.staff.search import decode_query, encode_query, patient_query, pick_patient
from actions.staff.session import staff_context
from common.dates import format_day, format_time, parse_when

TYPED = "t:"  # an answer typed instead of tapped, read by the slot's validator ("friday", "make it 11")


def _iso(slot: Slot) -> str | None:
    return slot.start.isoformat() if slot.start else None


class ValidateScheduleAppointmentForm(AssistantForm):
    def name(self) -> str:
        return "validate_schedule_appointment_form"

    async def form_slots(self, domain_slots: list[str], tracker: Tracker) -> list[str]:
        # the login is gone: nothing to ask; action_staff_book says so
        return domain_slots if staff_context(tracker.sender_id) is not None else []

    def start_answers(self, tracker: Tracker) -> dict[str, Any]:
        """What the request said: "book Ravi with Dr. Asha tomorrow at 10" (else the patient in focus)."""
        found: dict[str, Any] = {}
        if not tracker.get_slot("sched_patient"):
            query = patient_query(tracker, use_text=False)
            focus = tracker.get_slot(FOCUS)
            if query is not None:
                found["sched_patient"] = encode_query(query)
            elif focus:
                found["sched_patient"] = f"id:{focus}"
        named = entity(tracker, "practitioner")
        if named and not tracker.get_slot("sched_practitioner"):
            found["sched_practitioner"] = f"q:{named}"
        ctx, text = staff_context(tracker.sender_id), latest_text(tracker)
        if ctx is not None and not is_tap(text) and not tracker.get_slot("sched_when"):
            when = when_from_text(text, ctx.now(), ctx.tz)
            if when:
                found["sched_when"] = when
        return found

    def answer(self, slot: str, tracker: Tracker) -> Any:
        """Taps carry the staff_choice entity ("p:<id>", "d:<id>", "s:<id>"); typed answers are read by the
        slot's validator."""
        kinds = {"sched_patient": CHOICE_PATIENT, "sched_practitioner": CHOICE_DOCTOR, "sched_slot": CHOICE_SLOT}
        tapped = chosen(tracker, kinds[slot]) if slot in kinds else None
        if tapped:
            return f"id:{tapped}"
        text = latest_text(tracker).strip()
        if slot == "sched_confirm" and yes_or_no(tracker) is not None:
            return yes_or_no(tracker)
        if escapes(tracker):
            return None
        if slot == "sched_patient":
            query = patient_query(tracker, use_text=True, answer=True)
            return encode_query(query) if query else NOT_UNDERSTOOD
        if slot == "sched_practitioner":
            return f"q:{entity(tracker, 'practitioner') or text}"
        if slot == "sched_when":
            ctx = staff_context(tracker.sender_id)
            return (when_from_text(text, ctx.now(), ctx.tz) if ctx else None) or NOT_UNDERSTOOD
        if slot in ("sched_slot", "sched_confirm"):
            return TYPED + text  # another day or time instead of a choice ("friday", "make it 11 instead")
        return super().answer(slot, tracker)

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        events = await super().get_validation_events(dispatcher, tracker, domain)
        changed = {e["name"] for e in events if e.get("event") == "slot"}
        if changed & {"sched_when", "sched_practitioner"} or tracker.get_slot("requested_slot") is None:
            extra = await self._check_day(dispatcher, tracker, domain)
            tracker.slots.update(extra)
            events += [SlotSet(k, v) for k, v in extra.items()]
        return events

    async def _check_day(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """Once doctor and day are known: take an exact time if it is free, move to the next free day if
        that day has nothing."""
        ctx = staff_context(tracker.sender_id)
        decoded = decode_when(tracker.get_slot("sched_when"))
        pid, fid = tracker.get_slot("sched_practitioner"), tracker.get_slot("sched_facility")
        if ctx is None or decoded is None or not pid or not fid or tracker.get_slot("sched_slot"):
            return {}
        day, start, end = decoded
        doctor, today = doctor_name(tracker, domain), ctx.today()
        try:
            free = await free_slots_on(ctx, fid, pid, day)
            if free and start is not None and end is None:
                exact = [s for s in free if local_time(s, ctx.tz) == start]
                if exact:
                    return {"sched_slot": exact[0].id, "sched_slot_start": _iso(exact[0])}
                dispatcher.utter_message(
                    response="utter_staff_time_not_free",
                    time=format_time(start),
                    doctor=doctor,
                    day=day_phrase(day, today),
                )
            if free:
                return {}
            nxt = await next_free_day(ctx, fid, pid, day)
        except CareError as exc:
            explain(dispatcher, tracker, exc)
            return {"sched_when": None}
        if nxt is None:
            dispatcher.utter_message(response="utter_staff_no_free_time_soon", doctor=doctor, days=LOOKAHEAD_DAYS)
            return {"sched_when": None}
        dispatcher.utter_message(
            response="utter_staff_no_free_time",
            doctor=doctor,
            when=day_phrase(day, today),
            next_day=format_day(nxt, today),
        )
        return {"sched_when": encode_when(nxt, start, end)}

    # ------------------------------------------------------------------ patient

    async def validate_sched_patient(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        ctx = staff_context(tracker.sender_id)
        text = str(value or "")
        if ctx is None or not text:
            return {"sched_patient": None}
        query = decode_query(text)
        if text.startswith("id:"):
            try:
                one: Patient | None = await ctx.call(ctx.care.get_patient, text[3:])
            except CareError as exc:
                explain(dispatcher, tracker, exc)
                return {"sched_patient": None}
            listed = None
        elif query is None:  # already an id (set before the form started)
            return {"sched_patient": text}
        else:
            one, listed = await pick_patient(dispatcher, tracker, ctx, query)
        if one is not None:
            return {"sched_patient": one.id, "sched_patient_name": one.name, "staff_patient_query": None}
        return {"sched_patient": None, "staff_patient_query": listed}

    # ------------------------------------------------------------------ practitioner

    async def validate_sched_practitioner(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        ctx = staff_context(tracker.sender_id)
        text = str(value or "")
        if ctx is None:
            return {"sched_practitioner": None}
        if not text.startswith(("id:", "q:")):
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
            return {
                "sched_practitioner": p.id,
                "sched_practitioner_name": p.name,
                "sched_facility": fid,
                "sched_practitioner_query": None,
                "sched_slot": None,
            }
        if not found:
            if text.startswith("q:"):
                dispatcher.utter_message(response="utter_staff_practitioner_not_found", query=text[2:])
            return {"sched_practitioner": None, "sched_practitioner_query": None}
        return {"sched_practitioner": None, "sched_practitioner_query": text[2:]}

    # ------------------------------------------------------------------ day and time

    def validate_sched_when(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        ctx = staff_context(tracker.sender_id)
        decoded = decode_when(value)
        if ctx is None:
            return {"sched_when": None}
        if decoded is None:
            dispatcher.utter_message(response="utter_staff_when_not_understood")
            return {"sched_when": None}
        if is_past(*decoded, ctx.now(), ctx.tz):
            dispatcher.utter_message(response="utter_staff_when_past")
            return {"sched_when": None}
        return {"sched_when": value, "sched_slot": None}

    def _new_time(
        self, text: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """Another day or time typed instead of a choice ("friday", "10:30", "evening"), checked like a day
        answer; {} when the text names none."""
        ctx = staff_context(tracker.sender_id)
        if ctx is None:
            return {}
        w = parse_when(text, ctx.now(), ctx.tz)
        if w is None:
            return {}
        current = decode_when(tracker.get_slot("sched_when"))
        if w.day is None and current is not None:
            when: str | None = encode_when(current[0], w.start, w.end)
        else:
            when = when_from_text(text, ctx.now(), ctx.tz)
        if not when:
            return {}
        return {**self.validate_sched_when(when, dispatcher, tracker, domain), "sched_slot": None}

    # ------------------------------------------------------------------ slot

    async def validate_sched_slot(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        ctx = staff_context(tracker.sender_id)
        text = str(value or "")
        if ctx is None or not text:
            return {"sched_slot": None}
        if text.startswith(TYPED):
            changed = self._new_time(text[len(TYPED) :], dispatcher, tracker, domain)
            if not changed:
                dispatcher.utter_message(response="utter_staff_slot_not_understood")
            return changed or {"sched_slot": None}
        if not text.startswith("id:"):
            return {"sched_slot": text}  # taken by _check_day, already checked
        decoded = decode_when(tracker.get_slot("sched_when"))
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
        return {"sched_slot": slot.id, "sched_slot_start": _iso(slot)}

    # ------------------------------------------------------------------ confirm

    def validate_sched_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if value is True:
            return {"sched_confirm": True}
        if value is False:
            return self.stop(sched_confirm=False)  # action_staff_book says nothing was booked
        changed = self._new_time(str(value or "")[len(TYPED) :], dispatcher, tracker, domain)  # "make it 11"
        if changed:
            return {**changed, "sched_confirm": None}
        dispatcher.utter_message(response="utter_staff_yes_or_no")
        return {"sched_confirm": None}

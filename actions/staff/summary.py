"""A patient's summary for staff, and the single sections (records, medications, appointments, procedures).

Every part is read with the staff member's own token, so CARE refuses what the role may not read: a part
CARE refuses (403) reads "your role can't see this". Beyond that, what the role is not meant to see is
neither read nor shown (actions/staff/permissions.py): CARE hands a volunteer's token a patient's blood group
and visit, but a role without clinical access gets the patient's name, age, gender and masked phone (and
their appointments where the role may list them); a section it may not see ("Meera's medications") is a
plain "Your role can't see that.", without asking which patient.

`show_section` is the hook the patient part's actions call for a staff login (docs/dialogue-contract.md).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.care.errors import CareError, CareForbidden
from actions.care.models import Patient
from actions.scheduling.appointments import upcoming as still_to_come
from actions.shared import formatting as fmt
from actions.shared.errors import explain
from actions.shared.turn import render
from actions.staff.patients import patient_for_request
from actions.staff.permissions import Access
from actions.staff.rows import blood_group, patient_facts
from actions.staff.session import StaffContext, access_of, require_staff

T = TypeVar("T")
SECTIONS = ("records", "medications", "appointments", "procedures")
HIDDEN = object()  # CARE refused this part to this role
MAX_PAST = 5
MAX_VISITS = 5


async def _part(ctx: StaffContext, fn: Callable[..., T], *args: Any) -> T | object:
    """One CARE read; a 403 becomes HIDDEN (the rest of the summary still shows), other errors raise."""
    try:
        return await ctx.call(fn, *args)
    except CareForbidden:
        return HIDDEN


def _block(domain: dict[str, Any], value: Any, make: Callable[[Any], str], empty: str) -> str:
    """The text of one part: its lines, `empty` when there are none, a note when the role may not see it."""
    if value is HIDDEN:
        return render(domain, response="utter_staff_fragment_hidden")
    return make(value) or empty


def demographics(domain: dict[str, Any], patient: Patient, today: dt.date, access: Access) -> str:
    """The first lines of a summary: age · gender · masked phone; the blood group where the role sees
    clinical data; whether the patient has died."""
    lines = [patient_facts(patient, today)]
    group = blood_group(patient)
    if access.clinical and group:
        lines.append(render(domain, response="utter_staff_fragment_blood_group", blood_group=group))
    if patient.deceased:
        lines.append(render(domain, response="utter_staff_fragment_deceased"))
    return "\n".join(lines)


async def _hidden() -> object:
    """A part the role is not meant to see: not asked of CARE, shown like a refused one."""
    return HIDDEN


async def summary_message(
    dispatcher: CollectingDispatcher, domain: dict[str, Any], ctx: StaffContext, patient: Patient, access: Access
) -> None:
    care, pid, tz, today, now = ctx.care, patient.id, ctx.tz, ctx.today(), ctx.now()
    facts = demographics(domain, patient, today, access)
    no_appointments = render(domain, response="utter_staff_fragment_no_appointments")

    def upcoming(found: list) -> str:
        return fmt.lines((fmt.appointment_line(a, tz, today) for a in still_to_come(found, now)), "")

    def appointments_part() -> Awaitable[Any]:
        return _part(ctx, care.list_patient_appointments, pid) if access.appointments else _hidden()

    hidden = render(domain, response="utter_staff_fragment_hidden")
    if not access.clinical and not access.appointments:
        dispatcher.utter_message(
            response="utter_staff_patient_summary_basic", name=patient.name, demographics=facts, hidden=hidden
        )
        return
    if not access.clinical:
        dispatcher.utter_message(
            response="utter_staff_patient_summary_desk",
            name=patient.name,
            demographics=facts,
            appointments=_block(domain, await appointments_part(), upcoming, no_appointments),
            hidden=hidden,
        )
        return
    encounters, diagnoses, medications, appointments = await asyncio.gather(
        _part(ctx, care.list_encounters, pid),
        _part(ctx, care.list_diagnoses, pid),
        _part(ctx, care.list_medication_requests, pid),
        appointments_part(),
    )

    def active_visit(found: list) -> str:
        return fmt.lines((fmt.encounter_line(e, tz, today) for e in found if e.is_active), "")

    def current_diagnoses(found: list) -> str:
        return fmt.lines(
            (fmt.diagnosis_line(c) for c in found if c.clinical_status in ("", "active", "recurrence", "relapse")), ""
        )

    def current_medications(found: list) -> str:
        return fmt.lines((fmt.medication_line(m) for m in found if m.is_active), "")

    none = render(domain, response="utter_staff_fragment_none")
    dispatcher.utter_message(
        response="utter_staff_patient_summary",
        name=patient.name,
        demographics=facts,
        encounter=_block(domain, encounters, active_visit, render(domain, response="utter_staff_fragment_no_visit")),
        diagnoses=_block(domain, diagnoses, current_diagnoses, none),
        medications=_block(domain, medications, current_medications, none),
        appointments=_block(domain, appointments, upcoming, no_appointments),
    )


async def section_message(
    section: str, dispatcher: CollectingDispatcher, domain: dict[str, Any], ctx: StaffContext, patient: Patient
) -> None:
    """One section; raises CareForbidden when the role may not see it at all."""
    care, pid, tz, today, now = ctx.care, patient.id, ctx.tz, ctx.today(), ctx.now()
    none = render(domain, response="utter_staff_fragment_none")
    if section == "records":
        encounters, diagnoses = await asyncio.gather(
            ctx.call(care.list_encounters, pid), _part(ctx, care.list_diagnoses, pid)
        )
        recent = sorted(
            encounters, key=lambda e: e.period_start or dt.datetime.min.replace(tzinfo=dt.timezone.utc), reverse=True
        )[:MAX_VISITS]
        dispatcher.utter_message(
            response="utter_staff_section_records",
            name=patient.name,
            encounters=fmt.lines((fmt.encounter_line(e, tz, today) for e in recent), none),
            diagnoses=_block(domain, diagnoses, lambda found: fmt.lines(map(fmt.diagnosis_line, found), ""), none),
        )
    elif section == "medications":
        meds = await ctx.call(care.list_medication_requests, pid)
        past = sorted(
            (m for m in meds if not m.is_active),
            key=lambda m: m.authored_on or dt.datetime.min.replace(tzinfo=dt.timezone.utc),
            reverse=True,
        )[:MAX_PAST]
        dispatcher.utter_message(
            response="utter_staff_section_medications",
            name=patient.name,
            current=fmt.lines((fmt.medication_line(m) for m in meds if m.is_active), none),
            past=fmt.lines(map(fmt.past_medication_line, past), none),
        )
    elif section == "appointments":
        found = await ctx.call(care.list_patient_appointments, pid)
        dispatcher.utter_message(
            response="utter_staff_section_appointments",
            name=patient.name,
            appointments=fmt.lines(
                (fmt.appointment_line(a, tz, today) for a in still_to_come(found, now)),
                render(domain, response="utter_staff_fragment_no_appointments"),
            ),
        )
    elif section == "procedures":
        encounters = await ctx.call(care.list_encounters, pid)
        recent = sorted(
            encounters, key=lambda e: (not e.is_active, -(e.period_start.timestamp() if e.period_start else 0))
        )[:3]
        lists = await asyncio.gather(
            *(ctx.call(care.list_service_requests, e.facility_id or ctx.facility_id, e.id) for e in recent)
        )
        requests = sorted(
            (s for found in lists for s in found),
            key=lambda s: s.occurrence or dt.datetime.max.replace(tzinfo=dt.timezone.utc),
        )
        dispatcher.utter_message(
            response="utter_staff_section_procedures",
            name=patient.name,
            procedures=fmt.lines((fmt.procedure_line(s, tz, today) for s in requests), none),
        )
    else:
        raise ValueError(f"unknown section {section!r}")


async def show_patient(
    pending: str,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: dict[str, Any],
    ctx: StaffContext,
    patient: Patient,
) -> list[dict[str, Any]]:
    try:
        access = await access_of(ctx)
        if pending in SECTIONS and not access.may_see(pending):
            dispatcher.utter_message(response="utter_staff_forbidden")
        elif pending in SECTIONS:
            await section_message(pending, dispatcher, domain, ctx, patient)
        else:
            await summary_message(dispatcher, domain, ctx, patient, access)
    except CareError as exc:
        return explain(dispatcher, tracker, exc)
    return []


async def show_section(
    section: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
) -> list[dict[str, Any]]:
    """Hook for the patient part's actions when a staff member asks for records, medications, appointments
    or procedures. The patient is the `person` (or `phone_number`) of the latest message, else the one in
    focus, else the user is asked. Returns events."""
    if section not in SECTIONS:
        raise ValueError(f"unknown section {section!r}")
    ctx, events = require_staff(dispatcher, tracker)
    if ctx is None:
        return events
    try:
        allowed = (await access_of(ctx)).may_see(section)
    except CareError as exc:
        return explain(dispatcher, tracker, exc)
    if not allowed:  # not even "which patient?" for something the role may not see
        dispatcher.utter_message(response="utter_staff_forbidden")
        return []
    patient, events = await patient_for_request(dispatcher, tracker, ctx, section, use_text=False)
    if patient is None:
        return events
    return events + await show_patient(section, dispatcher, tracker, domain, ctx, patient)


class ActionPatientSummary(Action):
    """ "tell me about Meera", "summary of Ravi Kumar", "patient details 98765 43210"."""

    def name(self) -> str:
        return "action_patient_summary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        ctx, events = require_staff(dispatcher, tracker)
        if ctx is None:
            return events
        patient, events = await patient_for_request(dispatcher, tracker, ctx, "summary", use_text=True)
        if patient is None:
            return events
        return events + await show_patient("summary", dispatcher, tracker, domain, ctx, patient)

"""CARE records as WhatsApp text: short lines, *bold* labels, local dates; pure functions (no I/O, no Rasa).

Each `*_blocks` function turns a list of records into one text block per record; `pack` joins blocks into
messages that stay under WhatsApp's length limit without cutting a record in half. Row titles for list
messages (slots, appointments) are built here too, so the patient and staff parts word things alike.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

from actions.care.models import Appointment, Condition, Encounter, MedicationRequest, ServiceRequest, Slot
from common.dates import format_day, format_local, format_local_dated, format_time
from common.text import TITLE_SEPARATOR

BLOCK_SEPARATOR = "\n\n"

# CARE's encounter classes (FHIR ActCode) in words a patient uses
ENCOUNTER_CLASSES = {
    "amb": "Outpatient visit",
    "imp": "Admission",
    "emer": "Emergency visit",
    "obsenc": "Observation",
    "hh": "Home visit",
    "vr": "Online consultation",
}
SERVICE_CATEGORIES = {
    "laboratory": "Lab test",
    "imaging": "Scan / imaging",
    "surgical_procedure": "Procedure",
    "counselling": "Counselling",
    "education": "Education",
}
STATUS_WORDS = {
    "in_progress": "ongoing",
    "on_hold": "on hold",
    "entered_in_error": "entered in error",
    "noshow": "missed",
    "checked_in": "checked in",
}


def humanize(code: str) -> str:
    """`in_progress` -> `ongoing`, `completed` -> `completed`, `surgical_procedure` -> `surgical procedure`."""
    if not code:
        return ""
    return STATUS_WORDS.get(code, code.replace("_", " "))


def _line(label: str, value: str) -> str:
    return f"• *{label}:* {value}" if value else ""


def _join(lines: Iterable[str]) -> str:
    return "\n".join(line for line in lines if line)


def to_local(value: dt.datetime, tz: str) -> dt.datetime:
    """CARE's UTC (or offset) datetime in the hospital's zone; a naive one is taken as UTC, as CARE sends."""
    aware = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return aware.astimezone(ZoneInfo(tz))


def _local_date(value: dt.datetime | None, tz: str) -> dt.date | None:
    return to_local(value, tz).date() if value is not None else None


def _day(value: dt.datetime | None, tz: str, today: dt.date) -> str:
    d = _local_date(value, tz)
    return format_day(d, today) if d else ""


# ---------------------------------------------------------------------------------------------- records

def encounter_blocks(encounters: Sequence[Encounter], diagnoses: Sequence[Condition], tz: str,
                     today: dt.date) -> list[str]:
    """Visits, newest first, each with its diagnoses (symptoms left out: the issue asks for diagnoses)."""
    by_encounter: dict[str, list[Condition]] = {}
    for cond in diagnoses:
        if not cond.is_symptom and cond.verification_status not in ("refuted", "entered_in_error"):
            by_encounter.setdefault(cond.encounter_id, []).append(cond)
    ordered = sorted(encounters, key=lambda e: e.period_start or dt.datetime.min.replace(tzinfo=dt.timezone.utc),
                     reverse=True)
    blocks = []
    for enc in ordered:
        start, end = _day(enc.period_start, tz, today), _day(enc.period_end, tz, today)
        dates = f"{start} – {end}" if start and end and start != end else start
        if start and not end and enc.is_active:
            dates = f"since {start}"
        kind = ENCOUNTER_CLASSES.get(enc.encounter_class, "Visit")
        names = [_diagnosis(c) for c in by_encounter.get(enc.id, [])]
        blocks.append(_join([
            f"🏥 *{enc.facility_name or 'Hospital visit'}*",
            _line("Visit", kind),
            _line("Dates", dates),
            _line("Status", humanize(enc.status)),
            _line("Diagnoses", ", ".join(names)),
        ]))
    return blocks


def _diagnosis(cond: Condition) -> str:
    extra = [w for w in (cond.severity, "provisional" if cond.verification_status == "provisional" else "") if w]
    return f"{cond.name} ({', '.join(extra)})" if extra else cond.name


# ---------------------------------------------------------------------------------------------- medications

def medication_blocks(meds: Sequence[MedicationRequest], tz: str, today: dt.date, *, past: bool = False) -> list[str]:
    """Current medicines with dose, frequency, route and instructions; past ones add status and date."""
    ordered = sorted(meds, key=lambda m: (m.name.lower(),))
    blocks = []
    for med in ordered:
        title = f"💊 *{med.name}*" + (f" {med.dose}" if med.dose else "")
        when = med.frequency + (" (only when needed)" if med.as_needed else "")
        lines = [title, _line("When", when), _line("How", med.route), _line("For", _duration(med.duration)),
                 _line("Instructions", med.instructions)]
        if past:
            lines.append(_line("Status", humanize(med.status)))
            lines.append(_line("Prescribed", _day(med.authored_on, tz, today)))
        blocks.append(_join(lines))
    return blocks


def _duration(code: str) -> str:
    """`5 d` -> `5 days`, `2 wk` -> `2 weeks` (UCUM units as CARE sends them)."""
    if not code:
        return ""
    parts = code.split()
    if len(parts) != 2:
        return code
    number, unit = parts
    words = {"d": "day", "wk": "week", "mo": "month", "h": "hour", "min": "minute", "a": "year"}
    word = words.get(unit, unit)
    return f"{number} {word}" + ("" if number == "1" else "s")


# ---------------------------------------------------------------------------------------------- appointments

def appointment_blocks(appointments: Sequence[Appointment], tz: str, today: dt.date) -> list[str]:
    blocks = []
    for appt in sorted(appointments, key=_appointment_key):
        when = format_local(appt.start, tz, today) if appt.start else "time not set"
        doctor = appt.practitioner.name if appt.practitioner else ""
        blocks.append(_join([
            f"📅 *{when}*",
            _line("Doctor", doctor),
            _line("Where", appt.facility_name),
            _line("Note", appt.note),
        ]))
    return blocks


def _appointment_key(appt: Appointment) -> dt.datetime:
    return appt.start or dt.datetime.max.replace(tzinfo=dt.timezone.utc)


def appointment_title(appt: Appointment, tz: str, today: dt.date) -> str:
    """A list row: `tomorrow, 9 am · Dr. Asha Menon` (the connector moves what passes 24 characters into
    the row's description)."""
    when = format_local(appt.start, tz, today) if appt.start else "time not set"
    doctor = appt.practitioner.name if appt.practitioner else ""
    return f"{when}{TITLE_SEPARATOR}{doctor}" if doctor else when  # the connector splits rows there


def appointment_when(appt: Appointment, tz: str, today: dt.date) -> str:
    """For confirmations: the date always, also next to 'tomorrow' ('tomorrow, Thu 3 Dec, 9:30 am')."""
    return format_local_dated(appt.start, tz, today) if appt.start else "a time not set yet"


# ---------------------------------------------------------------------------------------------- slots

def slot_title(slot: Slot, tz: str) -> str:
    """`9:15 am`: the day is said in the question above the list."""
    if slot.start is None:
        return "time not set"
    return format_time(to_local(slot.start, tz).time())


def slot_when(slot: Slot, tz: str, today: dt.date) -> str:
    """For confirmations, like appointment_when: 'tomorrow, Thu 3 Dec, 9:30 am'."""
    return format_local_dated(slot.start, tz, today) if slot.start else "a time not set yet"


# ---------------------------------------------------------------------------------------------- procedures

def service_request_blocks(requests_: Sequence[ServiceRequest], tz: str, today: dt.date) -> list[str]:
    """Procedures, lab tests and scans: upcoming first (by planned date), then done ones."""
    def key(sr: ServiceRequest) -> tuple[int, dt.datetime]:
        done = sr.status in ("completed", "revoked", "entered_in_error")
        when = sr.occurrence or dt.datetime.max.replace(tzinfo=dt.timezone.utc)
        return (1 if done else 0, when)

    blocks = []
    for sr in sorted(requests_, key=key):
        kind = SERVICE_CATEGORIES.get(sr.category, humanize(sr.category).capitalize())
        name = sr.title or sr.code.display
        blocks.append(_join([
            f"🧪 *{name}*",
            _line("Type", kind),
            _line("When", format_local(sr.occurrence, tz, today) if sr.occurrence else ""),
            _line("Status", humanize(sr.status)),
            _line("Priority", sr.priority if sr.priority and sr.priority != "routine" else ""),
            _line("Instructions", sr.patient_instruction),
        ]))
    return blocks


# ---------------------------------------------------------------------------------------------- packing

def pack(blocks: Sequence[str], limit: int, first_overhead: int = 0) -> list[str]:
    """Blocks joined by blank lines into messages of at most `limit` characters, never splitting a block
    unless one block alone is too long (then it is cut at line ends). `first_overhead` reserves room in the
    first message for a header the caller puts in front."""
    first_budget = max(limit - first_overhead, 1)
    messages: list[str] = []
    current = ""
    for block in blocks:
        for piece in _fit(block, first_budget):
            budget = first_budget if not messages else limit
            candidate = f"{current}{BLOCK_SEPARATOR}{piece}" if current else piece
            if len(candidate) <= budget:
                current = candidate
                continue
            if current:
                messages.append(current)
            current = piece
    if current:
        messages.append(current)
    return messages


def _fit(block: str, limit: int) -> list[str]:
    if len(block) <= limit:
        return [block]
    from common.text import split_text

    return split_text(block, limit)

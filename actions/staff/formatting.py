"""WhatsApp text for staff answers (pure: no I/O, no clock, no settings).

The fixed words of every message are `utter_*` responses in domain/staff.yml; this module only turns CARE
records into the lines that fill them ({lines}, {diagnoses}, ...) and into list rows (buttons).
Phone numbers are always masked; a list row title fits WhatsApp's 24 characters.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable, Sequence

from actions.care.models import Appointment, Condition, Encounter, MedicationRequest, Patient, ServiceRequest, Slot
from common.dates import format_local, format_time
from common.phone import mask_phone
from common.text import truncate

ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
GENDER = {"male": "M", "female": "F", "non_binary": "non-binary", "transgender": "transgender"}
ENCOUNTER_CLASS = {"amb": "OP", "imp": "IP", "emer": "emergency", "hh": "home visit", "vr": "tele",
                   "obsenc": "observation"}
STATUS = {"in_progress": "in progress", "planned": "planned", "on_hold": "on hold", "completed": "completed",
          "discharged": "discharged", "cancelled": "cancelled"}

CHOICE_PATIENT, CHOICE_DOCTOR, CHOICE_SLOT, CHOICE_APPOINTMENT = "p", "d", "s", "a"


# ------------------------------------------------------------------ choices (list rows / buttons)

def choice_payload(kind: str, ident: str) -> str:
    """The payload of a list row: `/staff_choose{"staff_choice":"p:<id>"}` (ours, never typed by a user)."""
    return '/staff_choose{"staff_choice":"%s:%s"}' % (kind, ident)


def parse_choice(value: str | None) -> tuple[str, str] | None:
    """`"p:<id>"` -> ("p", "<id>"); anything else -> None."""
    if not value or ":" not in value:
        return None
    kind, _, ident = str(value).partition(":")
    return (kind, ident) if kind in "pdsa" and len(kind) == 1 and ident else None


def button(title: str, payload: str, description: str = "") -> dict[str, str]:
    """A Rasa button; `description` is a list row's second line (shown by connectors that support it)."""
    b = {"title": truncate(title, ROW_TITLE_MAX), "payload": payload}
    if description:
        b["description"] = truncate(description, ROW_DESCRIPTION_MAX)
    return b


# ------------------------------------------------------------------ patients

def age(p: Patient, today: dt.date) -> str:
    """The one age format staff see: "41 y", from the date of birth (counting the birthday) or, when CARE
    has only the year of birth, from that year; "" when CARE has neither. `today` is the hospital's day
    (StaffContext.today), not the server's."""
    if p.date_of_birth:
        dob = p.date_of_birth
        years = today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))
    elif p.year_of_birth:
        years = today.year - p.year_of_birth
    else:
        return ""
    return f"{max(years, 0)} y"


def patient_facts(p: Patient, today: dt.date) -> str:
    """"41 y · M · +91 98•••••678": age, gender and the masked phone."""
    parts = [age(p, today), GENDER.get(p.gender, p.gender), mask_phone(p.phone_number)]
    return " · ".join(x for x in parts if x)


def patient_line(p: Patient, today: dt.date, number: int | None = None) -> str:
    head = f"{number}. " if number is not None else ""
    return f"{head}*{p.name}* · {patient_facts(p, today)}"


def patient_lines(patients: Sequence[Patient], today: dt.date, start: int = 1) -> str:
    return "\n".join(patient_line(p, today, i) for i, p in enumerate(patients, start=start))


def patient_button(p: Patient, today: dt.date, number: int | None = None) -> dict[str, str]:
    """Row title: "1. Ravi Kumar" (short); description: the facts."""
    head = f"{number}. " if number is not None else ""
    return button(head + p.name, choice_payload(CHOICE_PATIENT, p.id), patient_facts(p, today))


def blood_group(p: Patient) -> str:
    """"A+", "O−"; "" when CARE has none or "unknown"."""
    if not p.blood_group or p.blood_group == "unknown":
        return ""
    return p.blood_group.replace("_positive", "+").replace("_negative", "−")


# ------------------------------------------------------------------ clinical

def encounter_line(e: Encounter, tz: str, today: dt.date) -> str:
    kind = ENCOUNTER_CLASS.get(e.encounter_class, e.encounter_class or "visit")
    since = f" since {format_local(e.period_start, tz, today)}" if e.period_start else ""
    where = f" at {e.facility_name}" if e.facility_name else ""
    status = STATUS.get(e.status, e.status)
    ident = f" ({e.external_identifier})" if e.external_identifier else ""
    return f"• {kind}{ident}{where}, {status}{since}"


def diagnosis_line(c: Condition) -> str:
    extras = [x for x in (c.severity, "provisional" if c.verification_status == "provisional" else "") if x]
    tail = f" ({', '.join(extras)})" if extras else ""
    return f"• {c.name}{tail}"


def medication_line(m: MedicationRequest) -> str:
    details = [x for x in (m.dose, m.frequency, m.route if m.route and m.route != "Oral route" else "") if x]
    if m.as_needed:
        details.append("when needed")
    if m.duration:
        details.append(f"for {m.duration.replace(' d', ' days').replace(' wk', ' weeks')}")
    text = f"• *{m.name}*"
    if details:
        text += " " + ", ".join(details)
    if m.instructions:
        text += f"\n  _{m.instructions}_"
    return text


def past_medication_line(m: MedicationRequest) -> str:
    return f"• {m.name} ({m.status.replace('_', ' ')})"


def when_phrase(start: dt.datetime, tz: str, today: dt.date, on: bool = True) -> str:
    """For a sentence: "tomorrow at 2 pm", "today at 9:30 am", "on Mon 30 Nov at 9 am". `on=False` after
    another preposition ("move it to Mon 30 Nov at 9 am"). Not for confirmations and their questions: those
    always carry the date (common.dates.format_local_dated, as the patient part: "tomorrow, Thu 3 Dec, 2 pm")."""
    local = start.astimezone(zone(tz))
    day = local.date()
    time_text = format_time(local.time().replace(tzinfo=None))
    if day == today:
        return f"today at {time_text}"
    if day == today + dt.timedelta(days=1):
        return f"tomorrow at {time_text}"
    day_text = f"{local.strftime('%a')} {day.day} {local.strftime('%b')}" + (f" {day.year}" if day.year != today.year else "")
    return f"{'on ' if on else ''}{day_text} at {time_text}"


def appointment_when(a: Appointment, tz: str, today: dt.date) -> str:
    return format_local(a.start, tz, today) if a.start else "a time CARE didn't give"


def appointment_line(a: Appointment, tz: str, today: dt.date, with_patient: bool = False) -> str:
    who = a.practitioner.name if a.practitioner else "the hospital"
    lead = f"{a.patient_name}: " if with_patient and a.patient_name else ""
    return f"• {lead}{appointment_when(a, tz, today)} with {who}"


def appointment_button(a: Appointment, tz: str, today: dt.date) -> dict[str, str]:
    when = appointment_when(a, tz, today)
    who = a.practitioner.name if a.practitioner else ""
    return button(when, choice_payload(CHOICE_APPOINTMENT, a.id), who)


def procedure_line(s: ServiceRequest, tz: str, today: dt.date) -> str:
    when = f", {format_local(s.occurrence, tz, today)}" if s.occurrence else ""
    status = f" ({s.status})" if s.status and s.status != "active" else ""
    text = f"• *{s.title or s.code.display}*{when}{status}"
    if s.patient_instruction:
        text += f"\n  _{s.patient_instruction}_"
    return text


def lines(items: Iterable[str], empty: str) -> str:
    out = [x for x in items if x]
    return "\n".join(out) if out else empty


# ------------------------------------------------------------------ scheduling

def upcoming(appointments: Iterable[Appointment], now: dt.datetime) -> list[Appointment]:
    """Not cancelled and not yet started, soonest first."""
    found = [a for a in appointments if not a.is_cancelled and a.status != "fulfilled" and a.start and a.start >= now]
    return sorted(found, key=lambda a: a.start)


def free_slots(slots: Iterable[Slot], now: dt.datetime) -> list[Slot]:
    return sorted((s for s in slots if s.is_free and s.start and s.start > now), key=lambda s: s.start)


def zone(tz: str) -> dt.tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(tz)
    except Exception:  # no system tz database (slim images): pytz ships its own
        import pytz

        return pytz.timezone(tz)


def local_time(s: Slot, tz: str) -> dt.time:
    return s.start.astimezone(zone(tz)).time().replace(tzinfo=None)


def slot_time(s: Slot, tz: str) -> str:
    return format_time(local_time(s, tz)) if s.start else ""


def slot_button(s: Slot, tz: str) -> dict[str, str]:
    left = f"{s.remaining} places left" if s.remaining > 1 else ""
    return button(slot_time(s, tz), choice_payload(CHOICE_SLOT, s.id), " · ".join(x for x in (s.availability_name, left) if x))


def slots_near(slots: Sequence[Slot], tz: str, start: dt.time | None, end: dt.time | None,
               limit: int = 10, strict: bool = False) -> list[Slot]:
    """Up to `limit` free slots: inside the window if any are (only those when `strict`), nearest to the asked
    time first, then in order."""
    def local(s: Slot) -> dt.time:
        return local_time(s, tz)

    if start is not None and end is not None:
        inside = [s for s in slots if start <= local(s) < end]
        if inside or strict:
            return inside[:limit]
    if start is not None and end is None:
        minutes = start.hour * 60 + start.minute
        ranked = sorted(slots, key=lambda s: abs(local(s).hour * 60 + local(s).minute - minutes))
        return sorted(ranked[:limit], key=lambda s: s.start)
    return list(slots[:limit])


def encode_when(day: dt.date, start: dt.time | None = None, end: dt.time | None = None) -> str:
    """The `sched_when` slot: "2026-03-09", "2026-03-09 10:00" or "2026-03-09 06:00-12:00"."""
    text = day.isoformat()
    if start is not None:
        text += " " + start.strftime("%H:%M")
        if end is not None:
            text += "-" + end.strftime("%H:%M")
    return text


def decode_when(value: str | None) -> tuple[dt.date, dt.time | None, dt.time | None] | None:
    if not value:
        return None
    try:
        day_text, _, rest = str(value).partition(" ")
        day = dt.date.fromisoformat(day_text)
        start = end = None
        if rest:
            a, _, b = rest.partition("-")
            start = dt.time.fromisoformat(a)
            end = dt.time.fromisoformat(b) if b else None
        return day, start, end
    except ValueError:
        return None

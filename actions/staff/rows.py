"""What only staff see: list rows whose tap names a patient, doctor, slot or appointment, and the one-line
facts about a patient (age · gender · masked phone). Records themselves are written by the shared formatter
(actions/shared/formatting); phone numbers are always masked; a row title fits WhatsApp's 24 characters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from rasa_sdk import Tracker

from actions.care.models import Appointment, Patient, Practitioner, Slot
from actions.shared.formatting import appointment_short, slot_time
from actions.shared.formatting.appointments import doctor_of
from actions.shared.turn import entity, latest_intent, tap_payload
from common.phone import mask_phone
from common.text import truncate

ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
GENDER = {"male": "M", "female": "F", "non_binary": "non-binary", "transgender": "transgender"}

CHOICE_PATIENT, CHOICE_DOCTOR, CHOICE_SLOT, CHOICE_APPOINTMENT = "p", "d", "s", "a"
CHOOSE_INTENT, CHOICE_ENTITY = "staff_choose", "staff_choice"


# ------------------------------------------------------------------ choices (list rows / buttons)


def choice_payload(kind: str, ident: str) -> str:
    """The payload of a list row: `/staff_choose{"staff_choice":"p:<id>"}` (ours, never typed by a user)."""
    return tap_payload(CHOOSE_INTENT, **{CHOICE_ENTITY: f"{kind}:{ident}"})


def parse_choice(value: str | None) -> tuple[str, str] | None:
    """`"p:<id>"` -> ("p", "<id>"); anything else -> None."""
    if not value or ":" not in value:
        return None
    kind, _, ident = str(value).partition(":")
    return (kind, ident) if kind in "pdsa" and len(kind) == 1 and ident else None


def chosen(tracker: Tracker, kind: str) -> str | None:
    """The id of the `kind` row the latest message tapped, or None."""
    if latest_intent(tracker) != CHOOSE_INTENT:
        return None
    parsed = parse_choice(entity(tracker, CHOICE_ENTITY))
    return parsed[1] if parsed and parsed[0] == kind else None


def button(title: str, payload: str, description: str = "") -> dict[str, str]:
    """A Rasa button; `description` is a list row's second line (shown by connectors that support it)."""
    b = {"title": truncate(title, ROW_TITLE_MAX), "payload": payload}
    if description:
        b["description"] = truncate(description, ROW_DESCRIPTION_MAX)
    return b


def practitioner_button(p: Practitioner) -> dict[str, str]:
    return button(p.name, choice_payload(CHOICE_DOCTOR, p.id), p.user_type.capitalize())


def slot_button(s: Slot, tz: str) -> dict[str, str]:
    left = f"{s.remaining} places left" if s.remaining > 1 else ""
    return button(
        slot_time(s, tz), choice_payload(CHOICE_SLOT, s.id), " · ".join(x for x in (s.availability_name, left) if x)
    )


def appointment_button(a: Appointment, tz: str, today: dt.date) -> dict[str, str]:
    return button(appointment_short(a, tz, today), choice_payload(CHOICE_APPOINTMENT, a.id), doctor_of(a))


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
    """ "41 y · M · +91 98•••••678": age, gender and the masked phone."""
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
    """ "A+", "O−"; "" when CARE has none or "unknown"."""
    if not p.blood_group or p.blood_group == "unknown":
        return ""
    return p.blood_group.replace("_positive", "+").replace("_negative", "−")

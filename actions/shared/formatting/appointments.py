"""Appointments: blocks and list rows for a patient, one line each for staff, and the "when" of a confirmation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from actions.care.models import Appointment
from actions.shared.formatting.text import join, line
from common.dates import format_local, format_local_dated
from common.text import TITLE_SEPARATOR

NO_TIME = "time not set"  # a list row or a line: CARE gave no time
NO_TIME_SENTENCE = "a time not set yet"  # in a sentence ("... for a time not set yet")
_LATEST = dt.datetime.max.replace(tzinfo=dt.timezone.utc)


def appointment_short(appt: Appointment, tz: str, today: dt.date) -> str:
    """For lists (their heading says the day): 'tomorrow, 9 am', 'Fri 27 Nov, 10:30 am'."""
    return format_local(appt.start, tz, today) if appt.start else NO_TIME


def appointment_when(appt: Appointment, tz: str, today: dt.date) -> str:
    """For confirmations: the date always, also next to 'tomorrow' ('tomorrow, Thu 3 Dec, 9:30 am')."""
    return format_local_dated(appt.start, tz, today) if appt.start else NO_TIME_SENTENCE


def doctor_of(appt: Appointment) -> str:
    return appt.practitioner.name if appt.practitioner else ""


def by_time(appt: Appointment) -> dt.datetime:
    """Sort key: soonest first, no time last."""
    return appt.start or _LATEST


def appointment_blocks(appointments: Sequence[Appointment], tz: str, today: dt.date) -> list[str]:
    return [
        join(
            [
                f"📅 *{appointment_short(appt, tz, today)}*",
                line("Doctor", doctor_of(appt)),
                line("Where", appt.facility_name),
                line("Note", appt.note),
            ]
        )
        for appt in sorted(appointments, key=by_time)
    ]


def appointment_title(appt: Appointment, tz: str, today: dt.date) -> str:
    """A list row: `tomorrow, 9 am · Dr. Asha Menon` (the connector moves what passes 24 characters into
    the row's description: it splits rows at TITLE_SEPARATOR)."""
    when, doctor = appointment_short(appt, tz, today), doctor_of(appt)
    return f"{when}{TITLE_SEPARATOR}{doctor}" if doctor else when


def appointment_line(
    appt: Appointment, tz: str, today: dt.date, with_patient: bool = False, no_doctor: str = "the hospital"
) -> str:
    """ "• Meera Nair: tomorrow, 9:30 am with Dr. Asha Menon" (staff lists)."""
    lead = f"{appt.patient_name}: " if with_patient and appt.patient_name else ""
    return f"• {lead}{appointment_short(appt, tz, today)} with {doctor_of(appt) or no_doctor}"

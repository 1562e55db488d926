"""A patient's appointments: which are still to come, which is close to a new booking; booking and
cancelling through whichever CARE view asks (a patient's own token, or a staff member's)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from actions.care.calls import care_call
from actions.care.client import CareClient, PatientSession
from actions.care.models import Appointment, Slot
from actions.shared.clock import to_local

Client = CareClient | PatientSession

# seen or in the room: no longer "upcoming", still an appointment of that day
DONE = ("fulfilled", "checked_in", "in_consultation")
NEAR_HOURS = 3  # another appointment this close to a new one is asked about, whichever the doctor
_LATEST = float("inf")


def upcoming(appointments: Iterable[Appointment], now: dt.datetime, patient_id: str | None = None) -> list[Appointment]:
    """Booked appointments from now on (of `patient_id` when given: a patient's token lists every
    family member's), soonest first, those without a time last."""
    found = [
        a
        for a in appointments
        if (patient_id is None or a.patient_id == patient_id)
        and not a.is_cancelled
        and a.status not in DONE
        and (a.start is None or a.start >= now)
    ]
    return sorted(found, key=lambda a: a.start.timestamp() if a.start else _LATEST)


def on_day(appointments: Iterable[Appointment], day: dt.date, tz: str | None = None) -> list[Appointment]:
    return [a for a in appointments if a.start is not None and to_local(a.start, tz).date() == day]


def nearby(
    appointments: Iterable[Appointment], patient_id: str, practitioner_id: str | None, slot: Slot, tz: str | None = None
) -> Appointment | None:
    """The patient's appointment closest to `slot` that makes a second booking worth a question: the same
    doctor on the same day, or any doctor within NEAR_HOURS. None when there is none."""
    new = slot.start
    if new is None:
        return None
    day = to_local(new, tz).date()
    found = []
    for a in appointments:
        if a.patient_id != patient_id or a.is_cancelled or a.start is None or a.status in DONE:
            continue
        same_doctor_day = (
            a.practitioner is not None and a.practitioner.id == practitioner_id and to_local(a.start, tz).date() == day
        )
        if same_doctor_day or abs(a.start - new) <= dt.timedelta(hours=NEAR_HOURS):
            found.append(a)
    return min(found, key=lambda a: abs((a.start or new) - new), default=None)


async def book(client: Client, slot_id: str, patient_id: str, note: str, facility_id: str = "") -> Appointment:
    """Book `slot_id` for the patient: with a patient's token (CARE's /otp/slots/), or a staff member's at
    `facility_id`."""
    if isinstance(client, PatientSession):
        return await care_call(client.book_appointment, slot_id, patient_id, note)
    return await care_call(client.book_appointment, facility_id, slot_id, patient_id, note)


async def cancel(
    client: Client, appointment_id: str, *, patient_id: str = "", facility_id: str = "", reason: str = "cancelled"
) -> Appointment:
    """Cancel an appointment: a patient's token names the patient, a staff member's the facility and why."""
    if isinstance(client, PatientSession):
        return await care_call(client.cancel_appointment, patient_id, appointment_id)
    return await care_call(client.cancel_appointment, facility_id, appointment_id, reason)

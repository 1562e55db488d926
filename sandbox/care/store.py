"""The sandbox's state and the rules that change it: lazily made slots, bookings, OTPs, logged-out tokens.

aiohttp serves one request at a time on one event loop and no handler awaits in the middle of a
change, so no lock is needed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sandbox.care.records import (
    Availability,
    Booking,
    Condition,
    Department,
    Encounter,
    Facility,
    MedicationRequest,
    MedicationStatement,
    Patient,
    Role,
    Schedule,
    ServiceRequest,
    Slot,
    User,
)

NAMESPACE = uuid.UUID("5b0c3f2e-6a7d-4b8e-9c1f-2d3e4f5a6b7c")
CANCELLED = frozenset({"cancelled", "entered_in_error", "rescheduled"})
MAX_UNUSED_OTPS = 10  # CARE refuses more than 10 unused codes per phone in its window
LOGOUT_REVOCATION = dt.timedelta(minutes=30)  # CARE's cache entry per logged-out token (1800 s)


def stable_id(*parts: object) -> str:
    """The same fixture key gives the same id on every start (links in demos keep working)."""
    return str(uuid.uuid5(NAMESPACE, "|".join(str(p) for p in parts)))


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class BookingRefused(ValueError):
    """CARE's 400 validation_error on create_appointment (full slot, double booking)."""


@dataclass
class Store:
    tz: ZoneInfo
    today: dt.date
    password: str
    otp_code: str
    geo: dict[str, str] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    facilities: dict[str, Facility] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    patients: dict[str, Patient] = field(default_factory=dict)
    encounters: dict[str, Encounter] = field(default_factory=dict)
    conditions: dict[str, Condition] = field(default_factory=dict)
    medications: dict[str, MedicationRequest] = field(default_factory=dict)
    statements: dict[str, MedicationStatement] = field(default_factory=dict)
    service_requests: dict[str, ServiceRequest] = field(default_factory=dict)
    schedules: dict[str, Schedule] = field(default_factory=dict)
    slots: dict[str, Slot] = field(default_factory=dict)
    bookings: dict[str, Booking] = field(default_factory=dict)
    unused_otps: dict[str, int] = field(default_factory=dict)
    revoked: dict[str, dt.datetime] = field(default_factory=dict)  # logged-out token -> revoked until

    # ------------------------------------------------------------------ look-ups

    def user_by_name(self, username: str) -> User | None:
        return next((u for u in self.users.values() if u.username == username), None)

    def patients_on_phone(self, phone: str) -> list[Patient]:
        return sorted((p for p in self.patients.values() if p.phone_number == phone), key=lambda p: p.created)

    def department(self, dept_id: str) -> Department | None:
        for fac in self.facilities.values():
            for dept in fac.departments:
                if dept.id == dept_id:
                    return dept
        return None

    def schedulable_users(self, facility_id: str) -> list[User]:
        ids = {s.user_id for s in self.schedules.values() if s.facility_id == facility_id}
        return [u for u in self.users.values() if u.id in ids]

    # ------------------------------------------------------------------ slots

    def slots_for_day(self, user_id: str, facility_id: str, day: dt.date) -> list[Slot]:
        """Every slot of that day, made on first ask like CARE does (ids stay stable)."""
        out: list[Slot] = []
        for sched in self.schedules.values():
            if sched.user_id != user_id or sched.facility_id != facility_id:
                continue
            for av in sched.availabilities:
                if day.weekday() not in av.days:
                    continue
                start = dt.datetime.combine(day, av.start, self.tz)
                stop = dt.datetime.combine(day, av.end, self.tz)
                while start + dt.timedelta(minutes=av.slot_minutes) <= stop:
                    if sched.valid_from <= start <= sched.valid_to:
                        out.append(self._slot(user_id, facility_id, av, start))
                    start += dt.timedelta(minutes=av.slot_minutes)
        return sorted(out, key=lambda s: s.start)

    def _slot(self, user_id: str, facility_id: str, av: Availability, start_local: dt.datetime) -> Slot:
        start = start_local.astimezone(dt.timezone.utc)
        sid = stable_id("slot", av.id, start.isoformat())
        if sid not in self.slots:
            self.slots[sid] = Slot(
                id=sid,
                user_id=user_id,
                facility_id=facility_id,
                availability=av,
                start=start,
                end=start + dt.timedelta(minutes=av.slot_minutes),
            )
        return self.slots[sid]

    # ------------------------------------------------------------------ bookings

    def check_bookable(self, slot: Slot, patient: Patient) -> None:
        if slot.allocated >= slot.availability.tokens_per_slot:
            raise BookingRefused("Slot is already full")
        if any(
            b.slot_id == slot.id and b.patient_id == patient.id and b.status not in CANCELLED
            for b in self.bookings.values()
        ):
            raise BookingRefused("Patient already has a booking for this slot")

    def book(
        self,
        slot: Slot,
        patient: Patient,
        note: str,
        booked_by: str | None,
        booking_id: str | None = None,
        status: str = "booked",
        now: dt.datetime | None = None,
    ) -> Booking:
        self.check_bookable(slot, patient)
        when = now or utcnow()
        booking = Booking(
            id=booking_id or str(uuid.uuid4()),
            slot_id=slot.id,
            patient_id=patient.id,
            status=status,
            note=note,
            booked_on=when,
            modified=when,
            booked_by=booked_by,
        )
        slot.allocated += 1
        self.bookings[booking.id] = booking
        return booking

    def cancel(self, booking: Booking, reason: str = "cancelled", note: str | None = None) -> Booking:
        """The status becomes the reason; the note is replaced only when one is given (125, 127)."""
        if booking.status not in CANCELLED:  # a second cancel must not free the slot twice
            self.slots[booking.slot_id].allocated -= 1
        booking.status = reason
        if note is not None:
            booking.note = note
        booking.modified = utcnow()
        return booking

    def reschedule(
        self, booking: Booking, slot: Slot, note: str, previous_note: str | None, booked_by: str | None
    ) -> Booking:
        """CARE's staff reschedule (131, 132): the old booking becomes `rescheduled` (its slot freed, its
        note `previous_note` when given) and a new booking is made on `slot`. Nothing changes if the new
        slot refuses the patient."""
        patient = self.patients[booking.patient_id]
        self.check_bookable(slot, patient)
        self.cancel(booking, "rescheduled", previous_note)
        return self.book(slot, patient, note, booked_by)

    def bookings_of(self, patient_ids: Iterable[str]) -> list[Booking]:
        wanted = set(patient_ids)
        return sorted((b for b in self.bookings.values() if b.patient_id in wanted), key=lambda b: b.booked_on)

    # ------------------------------------------------------------------ logout

    def revoke(self, *tokens: str) -> None:
        """Logout: exactly these token strings stop working for 30 minutes (CARE's cache entries, 147)."""
        until = utcnow() + LOGOUT_REVOCATION
        for token in tokens:
            self.revoked[token] = until

    def is_revoked(self, token: str) -> bool:
        until = self.revoked.get(token)
        if until is not None and until <= utcnow():
            del self.revoked[token]
            return False
        return until is not None

    # ------------------------------------------------------------------ OTP

    def send_otp(self, phone: str) -> bool:
        if self.unused_otps.get(phone, 0) >= MAX_UNUSED_OTPS:
            return False
        self.unused_otps[phone] = self.unused_otps.get(phone, 0) + 1
        return True

    def use_otp(self, phone: str, otp: str) -> bool:
        """Each sent code works once (recording 40), whatever its value."""
        if otp != self.otp_code or self.unused_otps.get(phone, 0) <= 0:
            return False
        self.unused_otps[phone] -= 1
        return True

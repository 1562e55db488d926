"""The sandbox's in-memory records. Shapes on the wire are made by `shapes.py`, not here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Role:
    id: str
    name: str
    user_type: str
    permissions: list[str]
    list_any_bookings: bool = False


@dataclass
class Department:
    id: str
    name: str
    facility_id: str


@dataclass
class Facility:
    id: str
    name: str
    facility_type: str
    address: str
    phone_number: str
    pincode: int
    departments: list[Department] = field(default_factory=list)


@dataclass
class User:
    id: str
    username: str
    first_name: str
    last_name: str
    role: Role
    prefix: str = ""
    gender: str | None = None
    phone_number: str = ""
    qualification: str | None = None
    facility_ids: list[str] = field(default_factory=list)
    department_id: str | None = None
    superuser: bool = False
    totp_secret: str | None = None  # set: MFA is on
    totp_pending: str | None = None  # made by /mfa/totp/setup/, becomes totp_secret on /mfa/totp/verify/
    backup_codes: list[str] = field(default_factory=list)
    last_login: dt.datetime | None = None
    created: dt.datetime | None = None

    @property
    def mfa_enabled(self) -> bool:
        return bool(self.totp_secret)

    @property
    def email(self) -> str:
        return f"{self.username}@sandbox.care.invalid"

    def can(self, permission: str) -> bool:
        return self.superuser or permission in self.role.permissions


@dataclass
class Patient:
    id: str
    name: str
    gender: str
    phone_number: str
    created: dt.datetime
    emergency_phone_number: str = ""
    address: str = ""
    pincode: int | None = None
    date_of_birth: str | None = None
    year_of_birth: int | None = None
    blood_group: str = ""
    created_by: str | None = None
    modified: dt.datetime | None = None


@dataclass
class Encounter:
    id: str
    patient_id: str
    facility_id: str
    status: str
    encounter_class: str
    start: dt.datetime
    created: dt.datetime
    end: dt.datetime | None = None
    priority: str = "routine"
    external_identifier: str = ""
    hospitalization: dict[str, Any] = field(default_factory=dict)
    department_ids: list[str] = field(default_factory=list)
    created_by: str | None = None


@dataclass
class Condition:
    id: str
    patient_id: str
    encounter_id: str
    category: str
    code: dict[str, str]
    created: dt.datetime
    clinical_status: str = "active"
    verification_status: str = "confirmed"
    severity: str | None = None
    onset: str | None = None  # ISO datetime with offset, as CARE echoes it
    note: str | None = None
    created_by: str | None = None


@dataclass
class MedicationRequest:
    id: str
    patient_id: str
    encounter_id: str
    medication: dict[str, str]
    dosage_instruction: list[dict[str, Any]]
    authored_on: str
    created: dt.datetime
    status: str = "active"
    intent: str = "order"
    category: str = "outpatient"
    priority: str = "routine"
    note: str | None = None
    created_by: str | None = None


@dataclass
class MedicationStatement:
    id: str
    patient_id: str
    encounter_id: str
    medication: dict[str, str]
    status: str
    created: dt.datetime
    dosage_text: str | None = None
    effective_period: dict[str, str] | None = None
    information_source: str | None = None
    reason: str | None = None
    note: str | None = None
    created_by: str | None = None


@dataclass
class ServiceRequest:
    id: str
    encounter_id: str
    facility_id: str
    title: str
    category: str
    code: dict[str, str]
    created: dt.datetime
    status: str = "active"
    intent: str = "order"
    priority: str = "routine"
    occurance: str | None = None  # CARE's spelling
    note: str | None = None
    patient_instruction: str | None = None
    requester_id: str | None = None
    created_by: str | None = None


@dataclass
class Availability:
    id: str
    name: str
    slot_minutes: int
    tokens_per_slot: int
    reason: str | None
    days: list[int]
    start: dt.time
    end: dt.time


@dataclass
class Schedule:
    id: str
    user_id: str
    facility_id: str
    name: str
    valid_from: dt.datetime
    valid_to: dt.datetime
    availabilities: list[Availability]
    created_by: str | None = None


@dataclass
class Slot:
    id: str
    user_id: str
    facility_id: str
    availability: Availability
    start: dt.datetime  # aware, UTC
    end: dt.datetime
    allocated: int = 0


@dataclass
class Booking:
    id: str
    slot_id: str
    patient_id: str
    status: str
    note: str
    booked_on: dt.datetime
    modified: dt.datetime
    booked_by: str | None = None  # None: the patient booked it with an OTP token

"""Typed results of the CARE client, parsed from CARE's JSON with `from_api(dict)`.

Only what the assistant needs is kept. Parsers are tolerant: a missing optional key gives a
default instead of an exception, because CARE's list and detail shapes differ (lists leave out
nested objects) and newer CARE versions add or drop keys. Tokens never show up in `repr`.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

JSON = Mapping[str, Any]


# ---------------------------------------------------------------- parsing helpers


def _s(d: JSON | None, key: str, default: str = "") -> str:
    v = (d or {}).get(key)
    return default if v is None else str(v)


def _obj(d: JSON | None, key: str) -> JSON:
    v = (d or {}).get(key)
    return v if isinstance(v, Mapping) else {}


def _list(d: JSON | None, key: str) -> list[Any]:
    v = (d or {}).get(key)
    return v if isinstance(v, list) else []


def parse_datetime(value: Any) -> dt.datetime | None:
    """ISO 8601 from CARE (`...Z`, `...+05:30`, `2026-11-25 03:04:26+00:00`) -> aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def parse_date(value: Any) -> dt.date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _fmt_number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _person_name(d: JSON) -> str:
    return " ".join(p for p in (_s(d, "prefix"), _s(d, "first_name"), _s(d, "last_name")) if p).strip()


def jwt_expiry(token: str) -> dt.datetime | None:
    """The `exp` claim of a JWT, read without verifying it (only to know when to refresh)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return dt.datetime.fromtimestamp(int(claims["exp"]), tz=dt.timezone.utc)
    except (IndexError, ValueError, KeyError, TypeError):
        return None


# ---------------------------------------------------------------- auth


@dataclass(frozen=True)
class TokenPair:
    """A staff (or service account) login: CARE's `{access, refresh}`; refresh rotates."""

    access: str = field(repr=False)
    refresh: str = field(repr=False)

    @classmethod
    def from_api(cls, d: JSON) -> TokenPair:
        return cls(access=_s(d, "access"), refresh=_s(d, "refresh"))

    @property
    def access_expires_at(self) -> dt.datetime | None:
        return jwt_expiry(self.access)

    @property
    def refresh_expires_at(self) -> dt.datetime | None:
        return jwt_expiry(self.refresh)


@dataclass(frozen=True)
class MfaChallenge:
    """CARE asked for a second factor: finish with `CareClient.login_mfa(challenge, code)`."""

    temp_token: str = field(repr=False)

    @classmethod
    def from_api(cls, d: JSON) -> MfaChallenge:
        return cls(temp_token=_s(d, "temp_token"))


@dataclass(frozen=True)
class PatientToken:
    """The `patient_login` JWT from an OTP login: 1 h, no refresh, carries only the phone."""

    access: str = field(repr=False)
    phone_number: str

    @classmethod
    def from_api(cls, d: JSON, phone_number: str) -> PatientToken:
        return cls(access=_s(d, "access"), phone_number=phone_number)

    @property
    def expires_at(self) -> dt.datetime | None:
        return jwt_expiry(self.access)


# ---------------------------------------------------------------- people and places


@dataclass(frozen=True)
class FacilityRef:
    id: str
    name: str

    @classmethod
    def from_api(cls, d: JSON) -> FacilityRef:
        return cls(id=_s(d, "id"), name=_s(d, "name"))


@dataclass(frozen=True)
class Facility:
    id: str
    name: str
    facility_type: str = ""
    address: str = ""
    phone_number: str = ""
    pincode: str = ""
    is_public: bool = False

    @classmethod
    def from_api(cls, d: JSON) -> Facility:
        return cls(
            id=_s(d, "id"),
            name=_s(d, "name"),
            facility_type=_s(d, "facility_type"),
            address=_s(d, "address"),
            phone_number=_s(d, "phone_number"),
            pincode=_s(d, "pincode"),
            is_public=bool(d.get("is_public", False)),
        )


@dataclass(frozen=True)
class Practitioner:
    """A schedulable user of a facility (also the `resource` of an appointment)."""

    id: str
    first_name: str = ""
    last_name: str = ""
    prefix: str = ""
    username: str = ""
    user_type: str = ""
    gender: str = ""

    @classmethod
    def from_api(cls, d: JSON) -> Practitioner:
        return cls(
            id=_s(d, "id"),
            first_name=_s(d, "first_name"),
            last_name=_s(d, "last_name"),
            prefix=_s(d, "prefix"),
            username=_s(d, "username"),
            user_type=_s(d, "user_type"),
            gender=_s(d, "gender"),
        )

    @property
    def name(self) -> str:
        return _person_name({"prefix": self.prefix, "first_name": self.first_name, "last_name": self.last_name})


@dataclass(frozen=True)
class CurrentUser:
    """`/users/getcurrentuser/`: who a staff token belongs to, with roles, facilities and permissions."""

    id: str
    username: str
    first_name: str = ""
    last_name: str = ""
    user_type: str = ""
    is_superuser: bool = False
    mfa_enabled: bool = False
    roles: tuple[str, ...] = ()
    facilities: tuple[FacilityRef, ...] = ()
    permissions: frozenset[str] = frozenset()

    @classmethod
    def from_api(cls, d: JSON) -> CurrentUser:
        roles = tuple(
            _s(o, "name") for o in _list(d, "organizations") if isinstance(o, Mapping) and o.get("org_type") == "role"
        )
        return cls(
            id=_s(d, "id"),
            username=_s(d, "username"),
            first_name=_s(d, "first_name"),
            last_name=_s(d, "last_name"),
            user_type=_s(d, "user_type"),
            is_superuser=bool(d.get("is_superuser", False)),
            mfa_enabled=bool(d.get("mfa_enabled", False)),
            roles=roles,
            facilities=tuple(FacilityRef.from_api(f) for f in _list(d, "facilities") if isinstance(f, Mapping)),
            permissions=frozenset(str(p) for p in _list(d, "permissions")),
        )

    @property
    def name(self) -> str:
        return _person_name({"first_name": self.first_name, "last_name": self.last_name})

    def can(self, permission: str) -> bool:
        return self.is_superuser or permission in self.permissions


@dataclass(frozen=True)
class Patient:
    id: str
    name: str
    gender: str = ""
    phone_number: str = ""
    emergency_phone_number: str = ""
    address: str = ""
    pincode: str = ""
    date_of_birth: dt.date | None = None
    year_of_birth: int | None = None
    blood_group: str = ""
    deceased: bool = False

    @classmethod
    def from_api(cls, d: JSON) -> Patient:
        yob = d.get("year_of_birth")
        return cls(
            id=_s(d, "id"),
            name=_s(d, "name"),
            gender=_s(d, "gender"),
            phone_number=_s(d, "phone_number"),
            emergency_phone_number=_s(d, "emergency_phone_number"),
            address=_s(d, "address"),
            pincode=_s(d, "pincode"),
            date_of_birth=parse_date(d.get("date_of_birth")),
            year_of_birth=yob if isinstance(yob, int) else None,
            blood_group=_s(d, "blood_group"),
            deceased=bool(d.get("deceased_datetime")),
        )


# ---------------------------------------------------------------- clinical


@dataclass(frozen=True)
class Coding:
    code: str = ""
    display: str = ""
    system: str = ""

    @classmethod
    def from_api(cls, d: JSON | None) -> Coding:
        return cls(code=_s(d, "code"), display=_s(d, "display"), system=_s(d, "system"))


@dataclass(frozen=True)
class Encounter:
    id: str
    status: str = ""
    encounter_class: str = ""
    priority: str = ""
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None
    patient_id: str = ""
    patient_name: str = ""
    facility_id: str = ""
    facility_name: str = ""
    external_identifier: str = ""
    organizations: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, d: JSON) -> Encounter:
        period, patient, facility = _obj(d, "period"), _obj(d, "patient"), _obj(d, "facility")
        return cls(
            id=_s(d, "id"),
            status=_s(d, "status"),
            encounter_class=_s(d, "encounter_class"),
            priority=_s(d, "priority"),
            period_start=parse_datetime(period.get("start")),
            period_end=parse_datetime(period.get("end")),
            patient_id=_s(patient, "id"),
            patient_name=_s(patient, "name"),
            facility_id=_s(facility, "id"),
            facility_name=_s(facility, "name"),
            external_identifier=_s(d, "external_identifier"),
            organizations=tuple(_s(o, "name") for o in _list(d, "organizations") if isinstance(o, Mapping)),
        )

    @property
    def is_active(self) -> bool:
        return self.status in ("planned", "in_progress", "on_hold")


SYMPTOM_CATEGORY = "problem_list_item"


@dataclass(frozen=True)
class Condition:
    """A diagnosis (`encounter_diagnosis`, `chronic_condition`) or a symptom (`problem_list_item`)."""

    id: str
    code: Coding
    category: str = ""
    clinical_status: str = ""
    verification_status: str = ""
    severity: str = ""
    encounter_id: str = ""
    onset: dt.datetime | None = None
    note: str = ""

    @classmethod
    def from_api(cls, d: JSON) -> Condition:
        return cls(
            id=_s(d, "id"),
            code=Coding.from_api(_obj(d, "code")),
            category=_s(d, "category"),
            clinical_status=_s(d, "clinical_status"),
            verification_status=_s(d, "verification_status"),
            severity=_s(d, "severity"),
            encounter_id=_s(d, "encounter"),
            onset=parse_datetime(_obj(d, "onset").get("onset_datetime")),
            note=_s(d, "note"),
        )

    @property
    def name(self) -> str:
        return self.code.display or self.code.code

    @property
    def is_symptom(self) -> bool:
        return self.category == SYMPTOM_CATEGORY


@dataclass(frozen=True)
class MedicationRequest:
    """A prescription line. Dose, frequency and route come from the first dosage instruction."""

    id: str
    name: str
    status: str = ""
    dose: str = ""  # "500 mg"
    frequency: str = ""  # the timing code's display, e.g. "Two times a day"
    route: str = ""  # "Oral route"
    instructions: str = ""  # the prescriber's free text
    as_needed: bool = False
    duration: str = ""  # "5 d"
    authored_on: dt.datetime | None = None
    encounter_id: str = ""
    intent: str = ""
    category: str = ""
    note: str = ""
    code: Coding = field(default_factory=Coding)

    @classmethod
    def from_api(cls, d: JSON) -> MedicationRequest:
        med = Coding.from_api(_obj(d, "medication"))
        dosages = [x for x in _list(d, "dosage_instruction") if isinstance(x, Mapping)]
        first: JSON = dosages[0] if dosages else {}
        dq = _obj(_obj(first, "dose_and_rate"), "dose_quantity")
        unit = _obj(dq, "unit")
        dose_value = _number(dq.get("value"))
        dose = ""
        if dose_value is not None:
            dose = f"{_fmt_number(dose_value)} {_s(unit, 'display') or _s(unit, 'code')}".strip()
        timing = _obj(first, "timing")
        repeat = _obj(timing, "repeat")
        frequency = _s(_obj(timing, "code"), "display")
        if not frequency and repeat.get("frequency") is not None:
            period = _fmt_number(_number(repeat.get("period")))
            frequency = f"{repeat.get('frequency')} per {period} {_s(repeat, 'period_unit')}".strip()
        bounds = _obj(repeat, "bounds_duration")
        duration = f"{_fmt_number(_number(bounds.get('value')))} {_s(bounds, 'unit')}".strip() if bounds else ""
        return cls(
            id=_s(d, "id"),
            name=med.display or med.code,
            code=med,
            status=_s(d, "status"),
            dose=dose,
            frequency=frequency,
            route=_s(_obj(first, "route"), "display"),
            instructions=_s(first, "text"),
            as_needed=bool(first.get("as_needed_boolean", False)),
            duration=duration,
            authored_on=parse_datetime(d.get("authored_on")),
            encounter_id=_s(d, "encounter"),
            intent=_s(d, "intent"),
            category=_s(d, "category"),
            note=_s(d, "note"),
        )

    @property
    def is_active(self) -> bool:
        return self.status in ("active", "on_hold", "draft")


@dataclass(frozen=True)
class MedicationStatement:
    """What the patient reports taking (built from openapi.yaml: no recording of it exists)."""

    id: str
    name: str
    status: str = ""
    dosage_text: str = ""
    effective_start: dt.datetime | None = None
    effective_end: dt.datetime | None = None
    encounter_id: str = ""
    reason: str = ""
    note: str = ""

    @classmethod
    def from_api(cls, d: JSON) -> MedicationStatement:
        med = Coding.from_api(_obj(d, "medication"))
        period = _obj(d, "effective_period")
        return cls(
            id=_s(d, "id"),
            name=med.display or med.code,
            status=_s(d, "status"),
            dosage_text=_s(d, "dosage_text"),
            effective_start=parse_datetime(period.get("start")),
            effective_end=parse_datetime(period.get("end")),
            encounter_id=_s(d, "encounter"),
            reason=_s(d, "reason"),
            note=_s(d, "note"),
        )


@dataclass(frozen=True)
class ServiceRequest:
    """A procedure, lab test or imaging order. CARE spells the date `occurance`."""

    id: str
    title: str
    status: str = ""
    intent: str = ""
    priority: str = ""
    category: str = ""
    code: Coding = field(default_factory=Coding)
    occurrence: dt.datetime | None = None
    patient_instruction: str = ""
    note: str = ""
    encounter_id: str = ""
    patient_id: str = ""
    requester_name: str = ""

    @classmethod
    def from_api(cls, d: JSON) -> ServiceRequest:
        enc = d.get("encounter")
        enc_obj = enc if isinstance(enc, Mapping) else {}
        return cls(
            id=_s(d, "id"),
            title=_s(d, "title"),
            status=_s(d, "status"),
            intent=_s(d, "intent"),
            priority=_s(d, "priority"),
            category=_s(d, "category"),
            code=Coding.from_api(_obj(d, "code")),
            occurrence=parse_datetime(d.get("occurance") or d.get("occurrence")),
            patient_instruction=_s(d, "patient_instruction"),
            note=_s(d, "note"),
            encounter_id=_s(enc_obj, "id") if enc_obj else (str(enc) if enc else ""),
            patient_id=_s(_obj(enc_obj, "patient"), "id"),
            requester_name=_person_name(_obj(d, "requester")),
        )


# ---------------------------------------------------------------- scheduling


@dataclass(frozen=True)
class Slot:
    """A token slot of a practitioner's schedule; times are UTC as CARE sends them."""

    id: str
    start: dt.datetime | None
    end: dt.datetime | None
    allocated: int = 0
    tokens_per_slot: int = 1
    availability_name: str = ""

    @classmethod
    def from_api(cls, d: JSON) -> Slot:
        av = _obj(d, "availability")
        tps = av.get("tokens_per_slot")
        alloc = d.get("allocated")
        return cls(
            id=_s(d, "id"),
            start=parse_datetime(d.get("start_datetime")),
            end=parse_datetime(d.get("end_datetime")),
            allocated=alloc if isinstance(alloc, int) else 0,
            tokens_per_slot=tps if isinstance(tps, int) else 1,
            availability_name=_s(av, "name"),
        )

    @property
    def remaining(self) -> int:
        return max(self.tokens_per_slot - self.allocated, 0)

    @property
    def is_free(self) -> bool:
        return self.remaining > 0


CANCELLED_STATUSES = frozenset({"cancelled", "entered_in_error", "rescheduled", "noshow"})


@dataclass(frozen=True)
class Appointment:
    id: str
    status: str
    slot: Slot
    patient_id: str = ""
    patient_name: str = ""
    practitioner: Practitioner | None = None
    resource_type: str = ""
    facility_id: str = ""
    facility_name: str = ""
    note: str = ""
    booked_on: dt.datetime | None = None
    booked_by_staff: bool = False  # False when the patient booked it with the OTP token

    @classmethod
    def from_api(cls, d: JSON) -> Appointment:
        patient, facility, resource = _obj(d, "patient"), _obj(d, "facility"), _obj(d, "resource")
        return cls(
            id=_s(d, "id"),
            status=_s(d, "status"),
            slot=Slot.from_api(_obj(d, "token_slot")),
            patient_id=_s(patient, "id"),
            patient_name=_s(patient, "name"),
            practitioner=Practitioner.from_api(resource) if resource else None,
            resource_type=_s(d, "resource_type"),
            facility_id=_s(facility, "id"),
            facility_name=_s(facility, "name"),
            note=_s(d, "note"),
            booked_on=parse_datetime(d.get("booked_on")),
            booked_by_staff=bool(_obj(d, "booked_by")),
        )

    @property
    def start(self) -> dt.datetime | None:
        return self.slot.start

    @property
    def is_cancelled(self) -> bool:
        return self.status in CANCELLED_STATUSES

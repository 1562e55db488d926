"""The CARE REST client the actions use. Paths, bodies and quirks follow the recordings of a real
CARE in `shared/care-api/` (see its README); transport, retries and logging are in `transport.py`
(retries: tenacity, only for idempotent calls, see there why), authentication in `auth.py`.

    care = CareClient.from_settings()                  # the assistant's service account
    staff = care.as_staff(tokens, on_refresh=store)    # calls as that staff member (CARE checks roles)
    patient = care.as_patient(token)                   # OTP token: own patients and appointments only

Every method returns typed results (`models`) or raises a `CareError` subclass (`errors`).
Phone numbers are normalised to E.164 with `common.phone`. No presentation here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import requests

from actions.care.auth import (
    PatientTokenAuth,
    ServiceAccountAuth,
    StaffTokenAuth,
    password_login,
    refresh_pair,
)
from actions.care.errors import CareInvalid
from actions.care.models import (
    Appointment,
    Condition,
    CurrentUser,
    Encounter,
    Facility,
    MedicationRequest,
    MedicationStatement,
    MfaChallenge,
    Patient,
    PatientToken,
    Practitioner,
    ServiceRequest,
    Slot,
    TokenPair,
)
from actions.care.transport import Auth, CareHttp, results_of
from common.phone import InvalidPhoneNumber, to_e164

# `/diagnosis/` also returns symptoms unless filtered (recording 97)
DIAGNOSIS_CATEGORIES = ("encounter_diagnosis", "chronic_condition")
PRACTITIONER = "practitioner"


def e164(phone: str) -> str:
    try:
        return to_e164(phone)
    except InvalidPhoneNumber as exc:
        raise CareInvalid(["phone_number: not a valid phone number"], status=None) from exc


def _day(day: dt.date | str) -> str:
    return day.isoformat() if isinstance(day, dt.date) else str(day)


class CareClient:
    """Staff-side API: as the service account (default) or as a staff member (`as_staff`)."""

    def __init__(self, http: CareHttp, auth: Auth | None) -> None:
        self._http = http
        self._auth = auth

    @classmethod
    def create(
        cls,
        base_url: str,
        *,
        username: str = "",
        password: str = "",
        timeout: float = 8.0,
        max_retries: int = 2,
        backoff: float = 0.25,
        session: requests.Session | None = None,
    ) -> CareClient:
        """`timeout` bounds each attempt (connect and read); `backoff` is the first retry's wait in seconds."""
        http = CareHttp(base_url, timeout=timeout, max_retries=max_retries, backoff=backoff, session=session)
        return cls(http, ServiceAccountAuth(username, password))

    @classmethod
    def from_settings(cls, settings: Any = None) -> CareClient:
        if settings is None:
            from settings import get_settings  # late: keeps this module importable without the environment

            settings = get_settings()
        return cls.create(
            settings.care_base_url,
            username=settings.care_username,
            password=settings.care_password,
            timeout=settings.care_timeout_seconds,
            max_retries=settings.care_max_retries,
        )

    def as_staff(self, tokens: TokenPair, on_refresh: Callable[[TokenPair], None] | None = None) -> CareClient:
        """The same API with a staff member's tokens; `on_refresh` receives every rotated pair."""
        return CareClient(self._http, StaffTokenAuth(tokens, on_refresh))

    def as_patient(self, token: PatientToken) -> PatientSession:
        return PatientSession(self._http, PatientTokenAuth(token))

    # ------------------------------------------------------------------ login (no token needed)

    def login(self, username: str, password: str) -> TokenPair | MfaChallenge:
        """Staff login. A wrong password raises CareUnauthenticated (401 `no_active_account`)."""
        return password_login(self._http, username, password)

    def login_mfa(self, challenge: MfaChallenge, code: str, method: str = "totp") -> TokenPair:
        """Second step when `login` returned a challenge; `method` is `totp` or `backup`."""
        body = self._http.call(
            "POST",
            "/api/v1/mfa/login/",
            idempotent=False,
            json={"method": method, "code": code, "temp_token": challenge.temp_token},
        )
        return TokenPair.from_api(body)

    def refresh(self, refresh_token: str) -> TokenPair:
        """Rotating refresh: the returned pair replaces the old one."""
        return refresh_pair(self._http, refresh_token)

    def send_otp(self, phone: str) -> None:
        """CARE texts the code to the phone; it answers 200 even when no patient has that phone."""
        self._http.call("POST", "/api/v1/otp/send/", json={"phone_number": e164(phone)}, idempotent=False)

    def login_otp(self, phone: str, otp: str) -> PatientToken:
        """Wrong, reused or mis-sized codes raise CareInvalid with CARE's message."""
        number = e164(phone)
        body = self._http.call(
            "POST", "/api/v1/otp/login/", json={"phone_number": number, "otp": otp.strip()}, idempotent=False
        )
        return PatientToken.from_api(body, number)

    # ------------------------------------------------------------------ who and where

    def current_user(self) -> CurrentUser:
        return CurrentUser.from_api(self._get("/api/v1/users/getcurrentuser/"))

    def list_facilities(self) -> list[Facility]:
        return [Facility.from_api(d) for d in self._pages("/api/v1/facility/")]

    def get_facility(self, facility_id: str) -> Facility:
        return Facility.from_api(self._get("/api/v1/facility/{fid}/", fid=facility_id))

    def list_practitioners(self, facility_id: str) -> list[Practitioner]:
        """The facility's schedulable users."""
        return [
            Practitioner.from_api(d) for d in self._pages("/api/v1/facility/{fid}/schedulable_users/", fid=facility_id)
        ]

    # ------------------------------------------------------------------ patients

    def search_patients(self, name: str, max_results: int = 20) -> list[Patient]:
        """Name contains `name` (case-insensitive)."""
        return [
            Patient.from_api(d)
            for d in self._pages("/api/v1/patient/", params={"name": name.strip()}, max_items=max_results)
        ]

    def find_patients_by_phone(self, phone: str) -> list[Patient]:
        """Exact phone match with real ids (`/patient/search/` would return random ids)."""
        return [Patient.from_api(d) for d in self._pages("/api/v1/patient/", params={"phone_number": e164(phone)})]

    def get_patient(self, patient_id: str) -> Patient:
        return Patient.from_api(self._get("/api/v1/patient/{pid}/", pid=patient_id))

    # ------------------------------------------------------------------ clinical

    def list_encounters(
        self, patient_id: str, facility_id: str | None = None, live: bool | None = None
    ) -> list[Encounter]:
        params = {"patient": patient_id, "facility": facility_id, "live": None if live is None else str(live).lower()}
        return [Encounter.from_api(d) for d in self._pages("/api/v1/encounter/", params=params)]

    def get_encounter(self, encounter_id: str) -> Encounter:
        return Encounter.from_api(self._get("/api/v1/encounter/{eid}/", eid=encounter_id))

    def list_diagnoses(
        self, patient_id: str, encounter_id: str | None = None, categories: Iterable[str] = DIAGNOSIS_CATEGORIES
    ) -> list[Condition]:
        params = {"category": ",".join(categories) or None, "encounter": encounter_id}
        return [
            Condition.from_api(d)
            for d in self._pages("/api/v1/patient/{pid}/diagnosis/", pid=patient_id, params=params)
        ]

    def list_symptoms(self, patient_id: str, encounter_id: str | None = None) -> list[Condition]:
        return [
            Condition.from_api(d)
            for d in self._pages("/api/v1/patient/{pid}/symptom/", pid=patient_id, params={"encounter": encounter_id})
        ]

    def list_medication_requests(
        self, patient_id: str, status: str | None = None, encounter_id: str | None = None
    ) -> list[MedicationRequest]:
        params = {"status": status, "encounter": encounter_id}
        return [
            MedicationRequest.from_api(d)
            for d in self._pages("/api/v1/patient/{pid}/medication/request/", pid=patient_id, params=params)
        ]

    def get_medication_request(self, patient_id: str, request_id: str) -> MedicationRequest:
        return MedicationRequest.from_api(
            self._get("/api/v1/patient/{pid}/medication/request/{mid}/", pid=patient_id, mid=request_id)
        )

    def list_medication_statements(
        self, patient_id: str, status: str | None = None, encounter_id: str | None = None
    ) -> list[MedicationStatement]:
        params = {"status": status, "encounter": encounter_id}
        return [
            MedicationStatement.from_api(d)
            for d in self._pages("/api/v1/patient/{pid}/medication/statement/", pid=patient_id, params=params)
        ]

    def list_service_requests(self, facility_id: str, encounter_id: str) -> list[ServiceRequest]:
        """CARE requires an encounter (or location) filter: 400 without (recording 82)."""
        return [
            ServiceRequest.from_api(d)
            for d in self._pages(
                "/api/v1/facility/{fid}/service_request/", fid=facility_id, params={"encounter": encounter_id}
            )
        ]

    def get_service_request(self, facility_id: str, request_id: str) -> ServiceRequest:
        return ServiceRequest.from_api(
            self._get("/api/v1/facility/{fid}/service_request/{sid}/", fid=facility_id, sid=request_id)
        )

    # ------------------------------------------------------------------ scheduling

    def get_slots_for_day(self, facility_id: str, practitioner_id: str, day: dt.date | str) -> list[Slot]:
        """Every slot of that day (full ones too: check `Slot.is_free`)."""
        body = self._http.call(
            "POST",
            "/api/v1/facility/{fid}/slots/get_slots_for_day/",
            {"fid": facility_id},
            json={"resource_type": PRACTITIONER, "resource_id": practitioner_id, "day": _day(day)},
            auth=self._auth,
            idempotent=True,
        )  # a read, despite the POST
        return [Slot.from_api(d) for d in results_of(body)]

    def book_appointment(self, facility_id: str, slot_id: str, patient_id: str, note: str = "") -> Appointment:
        body = self._http.call(
            "POST",
            "/api/v1/facility/{fid}/slots/{sid}/create_appointment/",
            {"fid": facility_id, "sid": slot_id},
            json={"patient": patient_id, "note": note},
            auth=self._auth,
            idempotent=False,
        )
        return Appointment.from_api(body)

    def cancel_appointment(self, facility_id: str, appointment_id: str, reason: str = "cancelled") -> Appointment:
        """`reason` is `cancelled`, `entered_in_error` or `rescheduled` (no recording: from CARE's API)."""
        body = self._http.call(
            "POST",
            "/api/v1/facility/{fid}/appointments/{aid}/cancel/",
            {"fid": facility_id, "aid": appointment_id},
            json={"reason": reason},
            auth=self._auth,
            idempotent=False,
        )
        return Appointment.from_api(body)

    def get_appointment(self, facility_id: str, appointment_id: str) -> Appointment:
        return Appointment.from_api(
            self._get("/api/v1/facility/{fid}/appointments/{aid}/", fid=facility_id, aid=appointment_id)
        )

    def list_appointments(
        self,
        facility_id: str,
        practitioner_ids: Sequence[str] = (),
        *,
        patient_id: str | None = None,
        status: str | None = None,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
    ) -> list[Appointment]:
        """A doctor must pass their own id in `practitioner_ids` (CARE answers 403 otherwise)."""
        params = {
            "resource_type": PRACTITIONER,
            "resource_ids": ",".join(practitioner_ids) or None,
            "patient": patient_id,
            "status": status,
            "date_after": date_from.isoformat() if date_from else None,
            "date_before": date_to.isoformat() if date_to else None,
        }
        return [
            Appointment.from_api(d)
            for d in self._pages("/api/v1/facility/{fid}/appointments/", fid=facility_id, params=params)
        ]

    def list_patient_appointments(self, patient_id: str) -> list[Appointment]:
        return [Appointment.from_api(d) for d in self._pages("/api/v1/patient/{pid}/get_appointments/", pid=patient_id)]

    # ------------------------------------------------------------------ plumbing

    def _get(self, template: str, **ids: str) -> Any:
        return self._http.call("GET", template, ids, auth=self._auth)

    def _pages(
        self, template: str, params: dict[str, Any] | None = None, max_items: int | None = None, **ids: str
    ) -> list[Any]:
        return self._http.paginate(template, ids, params=params, auth=self._auth, max_items=max_items)


class PatientSession:
    """What CARE opens to a patient's OTP token: the patients on that phone and their appointments."""

    def __init__(self, http: CareHttp, auth: PatientTokenAuth) -> None:
        self._http = http
        self._auth = auth

    def list_patients(self) -> list[Patient]:
        """Everyone registered on the phone (family members); empty for an unknown phone."""
        return [Patient.from_api(d) for d in self._http.paginate("/api/v1/otp/patient/", auth=self._auth)]

    def get_slots_for_day(self, facility_id: str, practitioner_id: str, day: dt.date | str) -> list[Slot]:
        body = self._http.call(
            "POST",
            "/api/v1/otp/slots/get_slots_for_day/",
            idempotent=True,
            auth=self._auth,
            json={
                "facility": facility_id,
                "resource_type": PRACTITIONER,
                "resource_id": practitioner_id,
                "day": _day(day),
            },
        )
        return [Slot.from_api(d) for d in results_of(body)]

    def get_slot(self, slot_id: str) -> Slot:
        return Slot.from_api(self._http.call("GET", "/api/v1/otp/slots/{sid}/", {"sid": slot_id}, auth=self._auth))

    def book_appointment(self, slot_id: str, patient_id: str, note: str = "") -> Appointment:
        """Only for a patient on the token's phone (400 "Patient not allowed" otherwise)."""
        body = self._http.call(
            "POST",
            "/api/v1/otp/slots/{sid}/create_appointment/",
            {"sid": slot_id},
            json={"patient": patient_id, "note": note},
            auth=self._auth,
            idempotent=False,
        )
        return Appointment.from_api(body)

    def cancel_appointment(self, patient_id: str, appointment_id: str) -> Appointment:
        body = self._http.call(
            "POST",
            "/api/v1/otp/slots/cancel_appointment/",
            auth=self._auth,
            idempotent=False,
            json={"patient": patient_id, "appointment": appointment_id},
        )
        return Appointment.from_api(body)

    def list_appointments(self) -> list[Appointment]:
        """All appointments of every patient on the phone, cancelled ones included (no `count`)."""
        body = self._http.call("GET", "/api/v1/otp/slots/get_appointments/", auth=self._auth)
        return [Appointment.from_api(d) for d in results_of(body)]

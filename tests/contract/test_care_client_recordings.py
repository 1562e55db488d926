"""The client against the real CARE's recorded exchanges (shared/care-api/), fed through `responses`.

For each recording that a client method corresponds to, the fake CARE answers only if the client's
request matches the recorded one (method, path, query, JSON body); the recorded answer must then
parse into results that carry the recorded values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import responses
from care_support import fake_jwt, recording
from responses import matchers

from actions.care.client import CareClient, PatientSession
from actions.care.errors import CareForbidden, CareInvalid, CareNotFound, CareUnauthenticated
from actions.care.models import (
    Appointment,
    Condition,
    CurrentUser,
    Encounter,
    Facility,
    MedicationRequest,
    Patient,
    PatientToken,
    Practitioner,
    ServiceRequest,
    Slot,
    TokenPair,
)

BASE = "http://care.test"
FAC = "788d76a3-70dc-4d84-93ad-9751f20ba63f"
RAMESH, SUNITA, ANITA = (
    "ee456dc9-7f58-47ed-bded-e0b4c97fe596",
    "dce684f0-9962-4497-988f-fe7947379b21",
    "e66f3c5f-b2b6-40a9-940f-9f00490e2a27",
)
DOCTOR = "bd54a959-57e2-48e9-b170-c87fde12b80a"
ENC_RAMESH, ENC_ANITA = "c566c37c-682e-4773-9d6c-b07232e57477", "706ae5c6-45d3-413c-be7a-d435f6079bb2"
SLOT_43 = "3221e538-83db-4a75-aedb-81bd093d4a0b"


class Callers:
    def __init__(self) -> None:
        self.anon = CareClient.create(BASE, max_retries=0)
        self.staff = self.anon.as_staff(
            TokenPair(fake_jwt({"token_type": "access"}), fake_jwt({"token_type": "refresh"}))
        )

    def patient(self, phone: str) -> PatientSession:
        return self.anon.as_patient(PatientToken(fake_jwt({"token_type": "patient_login"}), phone))


def _ids(items: list[Any]) -> list[str]:
    return [i.id for i in items]


def _rec_ids(body: dict[str, Any]) -> list[str]:
    return [r["id"] for r in body["results"]]


# number -> (call, check(result, recorded response body))
Case = tuple[Callable[[Callers], Any], Callable[[Any, Any], None]]
OK_CASES: dict[str, Case] = {
    "01": (
        lambda c: c.anon.login("care-doctor", "Ohcn@123"),
        lambda r, b: (isinstance(r, TokenPair), r.access == b["access"]),
    ),
    "64": (lambda c: c.anon.refresh("<refresh-jwt>"), lambda r, b: r.refresh == b["refresh"]),
    "02": (
        lambda c: c.staff.current_user(),
        lambda r, b: (
            isinstance(r, CurrentUser),
            r.id == b["id"],
            r.roles == ("Doctor",),
            r.facilities[0].id == FAC,
            r.can("can_write_booking"),
            not r.can("no_such_permission"),
        ),
    ),
    "03": (
        lambda c: c.staff.list_facilities(),
        lambda r, b: (all(isinstance(f, Facility) for f in r), _ids(r) == _rec_ids(b)),
    ),
    "85": (lambda c: c.staff.get_facility(FAC), lambda r, b: (r.id == FAC, r.name == b["name"])),
    "25": (
        lambda c: c.staff.list_practitioners(FAC),
        lambda r, b: (
            isinstance(r[0], Practitioner),
            _ids(r) == _rec_ids(b),
            r[0].name == f"{b['results'][0]['first_name']} {b['results'][0]['last_name']}",
        ),
    ),
    "27": (
        lambda c: c.staff.get_slots_for_day(FAC, DOCTOR, dt.date(2026, 11, 26)),
        lambda r, b: (
            isinstance(r[0], Slot),
            _ids(r) == _rec_ids(b),
            all(s.is_free for s in r),
            r[0].start == dt.datetime(2026, 11, 26, 3, 30, tzinfo=dt.timezone.utc),
        ),
    ),
    "28": (
        lambda c: c.staff.book_appointment(
            FAC, "e2fdd76b-200b-4af2-bff9-d234b6184e19", RAMESH, "Follow-up for diabetes review"
        ),
        lambda r, b: (
            isinstance(r, Appointment),
            r.id == b["id"],
            r.patient_id == RAMESH,
            r.booked_by_staff,
            r.practitioner.id == DOCTOR,
            r.status == "booked",
        ),
    ),
    "31": (
        lambda c: c.staff.get_appointment(FAC, "4ac87299-e395-48ea-9ec0-23c76997a992"),
        lambda r, b: (r.id == b["id"], r.slot.allocated == 1, r.facility_id == FAC),
    ),
    "33": (
        lambda c: c.staff.list_appointments(
            FAC, [DOCTOR], status="booked", date_from=dt.date(2026, 11, 26), date_to=dt.date(2026, 11, 30)
        ),
        lambda r, b: _ids(r) == _rec_ids(b),
    ),
    "34": (lambda c: c.staff.list_patient_appointments(RAMESH), lambda r, b: _ids(r) == _rec_ids(b)),
    "35": (
        lambda c: c.staff.list_appointments(FAC, [DOCTOR], patient_id=RAMESH),
        lambda r, b: (_ids(r) == _rec_ids(b), r[0].patient_name == "Ramesh Kumar"),
    ),
    "36": (lambda c: c.anon.send_otp("919876543210"), lambda r, b: r is None),  # a WhatsApp wa_id
    "55": (
        lambda c: c.anon.login_otp("+91 91234 56789", "45612"),
        lambda r, b: (isinstance(r, PatientToken), r.access == b["access"], r.phone_number == "+919123456789"),
    ),
    "41": (
        lambda c: c.patient("+919876543210").list_patients(),
        lambda r, b: (
            isinstance(r[0], Patient),
            _ids(r) == [RAMESH, SUNITA],
            r[1].date_of_birth is None,
            r[0].date_of_birth == dt.date(1968, 4, 12),
        ),
    ),
    "56": (lambda c: c.patient("+919123456789").list_patients(), lambda r, b: _ids(r) == [ANITA]),
    "58": (lambda c: c.patient("+919000000001").list_patients(), lambda r, b: r == []),
    "42": (
        lambda c: c.patient("+919876543210").get_slots_for_day(FAC, DOCTOR, "2026-11-27"),
        lambda r, b: _ids(r) == _rec_ids(b),
    ),
    "43": (lambda c: c.patient("+919876543210").get_slot(SLOT_43), lambda r, b: (r.id == b["id"], r.remaining == 2)),
    "44": (
        lambda c: c.patient("+919876543210").book_appointment(SLOT_43, SUNITA, "Booked via WhatsApp"),
        lambda r, b: (r.id == b["id"], not r.booked_by_staff, r.patient_name == "Sunita Kumar"),
    ),
    "46": (
        lambda c: c.patient("+919876543210").list_appointments(),
        lambda r, b: (_ids(r) == _rec_ids(b), [a.booked_by_staff for a in r] == [True, False]),
    ),
    "47": (
        lambda c: c.patient("+919876543210").cancel_appointment(SUNITA, "c8975934-abbb-4763-abe0-3ed85eb1cd55"),
        lambda r, b: (r.status == "cancelled", r.is_cancelled, r.slot.allocated == 0),
    ),
    "48": (
        lambda c: c.patient("+919876543210").list_appointments(),
        lambda r, b: [a.is_cancelled for a in r] == [False, True],
    ),
    "65": (lambda c: c.staff.find_patients_by_phone("9876543210"), lambda r, b: _ids(r) == [SUNITA, RAMESH]),
    "93": (lambda c: c.staff.find_patients_by_phone("+919123456789"), lambda r, b: _ids(r) == [ANITA]),
    "66": (lambda c: c.staff.search_patients("anita"), lambda r, b: (_ids(r) == [ANITA], r[0].name == "Anita Sharma")),
    "70": (
        lambda c: c.staff.get_patient(RAMESH),
        lambda r, b: (r.id == RAMESH, r.phone_number == "+919876543210", r.blood_group == "B_positive"),
    ),
    "92": (lambda c: c.staff.get_patient(ANITA), lambda r, b: r.emergency_phone_number == "+919988776655"),
    "71": (
        lambda c: c.staff.list_encounters(ANITA),
        lambda r, b: (
            isinstance(r[0], Encounter),
            _ids(r) == [ENC_ANITA],
            r[0].facility_id == FAC,
            r[0].is_active,
            r[0].period_start is not None,
        ),
    ),
    "72": (lambda c: c.staff.list_encounters(RAMESH, facility_id=FAC, live=True), lambda r, b: r == []),
    "73": (
        lambda c: c.staff.get_encounter(ENC_ANITA),
        lambda r, b: (r.encounter_class == "imp", r.organizations == ("Lall-Agate",), r.patient_id == ANITA),
    ),
    "94": (lambda c: c.staff.get_encounter(ENC_ANITA), lambda r, b: r.id == ENC_ANITA),
    "74": (
        lambda c: c.staff.list_medication_requests(ANITA),
        lambda r, b: (
            isinstance(r[0], MedicationRequest),
            _ids(r) == _rec_ids(b),
            [m.name for m in r] == ["Paracetamol", "Amlodipine", "Amoxicillin"],
            (r[0].dose, r[0].frequency, r[0].route, r[0].as_needed, r[0].duration)
            == ("650 mg", "Every 6 hours", "Oral route", True, "3 d"),
            r[2].instructions == "500 mg three times a day for 7 days",
        ),
    ),
    "95": (lambda c: c.staff.list_medication_requests(ANITA), lambda r, b: len(r) == 3),
    "75": (
        lambda c: c.staff.list_medication_requests(RAMESH, status="active", encounter_id=ENC_RAMESH),
        lambda r, b: ([m.name for m in r] == ["Metformin", "Paracetamol"], all(m.is_active for m in r)),
    ),
    "76": (
        lambda c: c.staff.get_medication_request(RAMESH, "3c0ba77a-dbf7-4425-a1c8-2bad0b62e83a"),
        lambda r, b: (
            r.frequency == "Two times a day",
            r.dose == "500 mg",
            r.encounter_id == ENC_RAMESH,
            r.authored_on == dt.datetime(2026, 11, 25, 4, 0, tzinfo=dt.timezone.utc),
        ),
    ),
    "78": (
        lambda c: c.staff.list_diagnoses(RAMESH, categories=()),
        lambda r, b: (isinstance(r[0], Condition), [x.is_symptom for x in r] == [True, False]),
    ),
    "97": (
        lambda c: c.staff.list_diagnoses(RAMESH),
        lambda r, b: ([x.name for x in r] == ["Diabetes mellitus type 2"], r[0].severity == "moderate"),
    ),
    "79": (
        lambda c: c.staff.list_diagnoses(ANITA, encounter_id=ENC_ANITA, categories=()),
        lambda r, b: _ids(r) == _rec_ids(b),
    ),
    "80": (lambda c: c.staff.list_symptoms(ANITA), lambda r, b: [x.name for x in r] == ["Headache"]),
    "98": (lambda c: c.staff.list_symptoms(RAMESH), lambda r, b: (r[0].name == "Fever", r[0].onset is not None)),
    "81": (
        lambda c: c.staff.list_service_requests(FAC, ENC_ANITA),
        lambda r, b: (
            isinstance(r[0], ServiceRequest),
            r[0].title == "Laparoscopic appendectomy",
            r[0].patient_id == ANITA,
            r[0].occurrence == dt.datetime(2026, 11, 28, 2, 30, tzinfo=dt.timezone.utc),
        ),
    ),
    "83": (
        lambda c: c.staff.get_service_request(FAC, "449d23ed-35e9-485c-966e-19340cbf6af5"),
        lambda r, b: (r.patient_instruction == "Nil by mouth from midnight", r.requester_name == "Krisha Pillay"),
    ),
}

# number -> (call, expected error, a message CARE sent that must reach the error)
ERROR_CASES: dict[str, tuple[Callable[[Callers], Any], type[Exception], str]] = {
    "63": (lambda c: c.anon.login("care-doctor", "wrong"), CareUnauthenticated, "No active account"),
    "37": (lambda c: c.anon.login_otp("+919876543210", "11111"), CareInvalid, "otp: Invalid OTP"),
    "38": (lambda c: c.anon.login_otp("+919876543210", "123456"), CareInvalid, "otp: String should have at most 5"),
    "40": (lambda c: c.anon.login_otp("+919876543210", "45612"), CareInvalid, "otp: Invalid OTP"),
    "45": (
        lambda c: c.patient("+919876543210").book_appointment(SLOT_43, ANITA, "not my patient"),
        CareInvalid,
        "Patient not allowed",
    ),
    "32": (lambda c: c.staff.list_appointments(FAC, patient_id=RAMESH), CareForbidden, "permission to list bookings"),
    "86": (lambda c: c.staff.get_patient("00000000-0000-4000-8000-000000000000"), CareNotFound, "No Patient matches"),
    "87": (lambda c: c.staff.get_encounter("00000000-0000-4000-8000-000000000000"), CareNotFound, "No Encounter"),
    "90": (lambda c: c.staff.list_medication_requests(ANITA), CareForbidden, "Permission denied to user"),
    "91": (lambda c: c.staff.list_diagnoses(ANITA, categories=()), CareForbidden, "Permission denied to user"),
    "53": (lambda c: c.patient("+919876543210").list_patients(), CareUnauthenticated, "not provided"),
    "61": (lambda c: c.patient("+919876543210").list_patients(), CareUnauthenticated, "not provided"),
}


def _register(rsps: responses.RequestsMock, rec: dict[str, Any]) -> None:
    req, resp = rec["request"], rec["response"]
    query = {k: str(v) for k, v in req["query"].items() if k not in ("limit", "offset")}  # paging is ours
    match = [matchers.query_param_matcher(query, strict_match=False)]
    if req["body"] is not None:
        match.append(matchers.json_params_matcher(req["body"]))
    if "Authorization" in req["headers"]:
        match.append(matchers.header_matcher({"Authorization": matchers.re.compile(r"Bearer \S+")}))
    body = resp["body"]
    kwargs = {"json": body} if not isinstance(body, str) else {"body": body, "content_type": "text/html"}
    rsps.add(req["method"], BASE + req["path"], status=resp["status"], match=match, **kwargs)


@pytest.mark.usefixtures("recordings_dir")
@pytest.mark.parametrize("number", sorted(OK_CASES, key=int))
def test_client_sends_the_recorded_request_and_parses_the_answer(number: str) -> None:
    rec = recording(number)
    call, check = OK_CASES[number]
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        _register(rsps, rec)
        result = call(Callers())
    verdict = check(result, rec["response"]["body"])
    assert all(verdict) if isinstance(verdict, tuple) else verdict


@pytest.mark.usefixtures("recordings_dir")
@pytest.mark.parametrize("number", sorted(ERROR_CASES, key=int))
def test_recorded_errors_become_typed_errors(number: str) -> None:
    rec = recording(number)
    call, error, text = ERROR_CASES[number]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(
            rec["request"]["method"],
            BASE + rec["request"]["path"],
            status=rec["response"]["status"],
            json=rec["response"]["body"],
        )
        with pytest.raises(error) as info:
            call(Callers())
    assert text in str(info.value)
    assert info.value.status == rec["response"]["status"]

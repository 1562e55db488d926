"""CARE client results: parsed from recorded bodies, tolerant of missing keys, tokens kept out of repr."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from actions.care import models
from actions.care.errors import error_messages

RECORDINGS = Path(os.environ.get("CARE_RECORDINGS_DIR", Path(__file__).resolve().parents[1] / "fixtures" / "care-api"))


def body(number: str) -> Any:
    paths = list(RECORDINGS.glob(f"{number}-*.json"))
    assert paths, f"CARE recording {number} not found in {RECORDINGS}"
    return json.loads(paths[0].read_text())["response"]["body"]


def jwt_with(claims: dict[str, Any]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJub25lIn0.{payload}.sig"


PARSERS = [
    models.TokenPair,
    models.MfaChallenge,
    models.FacilityRef,
    models.Facility,
    models.Practitioner,
    models.CurrentUser,
    models.Patient,
    models.Coding,
    models.Encounter,
    models.Condition,
    models.MedicationRequest,
    models.MedicationStatement,
    models.ServiceRequest,
    models.Slot,
    models.Appointment,
]


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.__name__)
def test_every_result_parses_an_empty_object(parser) -> None:
    parser.from_api({})


def test_medication_request_carries_what_a_patient_asks_about() -> None:
    paracetamol, amlodipine, amoxicillin = (models.MedicationRequest.from_api(d) for d in body("74")["results"])
    assert (paracetamol.name, paracetamol.dose, paracetamol.frequency, paracetamol.route) == (
        "Paracetamol",
        "650 mg",
        "Every 6 hours",
        "Oral route",
    )
    assert paracetamol.as_needed and not amlodipine.as_needed
    assert amoxicillin.instructions == "500 mg three times a day for 7 days" and amoxicillin.duration == "7 d"
    assert amoxicillin.authored_on == dt.datetime(2026, 11, 25, 4, 0, tzinfo=dt.timezone.utc)
    assert all(m.is_active for m in (paracetamol, amlodipine, amoxicillin))


def test_medication_without_a_timing_code_falls_back_to_the_repeat() -> None:
    med = models.MedicationRequest.from_api(
        {
            "medication": {"display": "Iron"},
            "dosage_instruction": [{"timing": {"repeat": {"frequency": 1, "period": 1.0, "period_unit": "d"}}}],
        }
    )
    assert med.frequency == "1 per 1 d" and med.dose == "" and med.status == ""


def test_conditions_tell_diagnoses_from_symptoms() -> None:
    symptom, diagnosis = (models.Condition.from_api(d) for d in body("78")["results"])
    assert symptom.is_symptom and symptom.name == "Fever"
    assert not diagnosis.is_symptom and diagnosis.name == "Diabetes mellitus type 2"
    assert diagnosis.onset == dt.datetime(2026, 11, 20, 4, 30, tzinfo=dt.timezone.utc)


def test_current_user_roles_facilities_and_permissions() -> None:
    me = models.CurrentUser.from_api(body("02"))
    assert me.roles == ("Doctor",) and me.facilities[0].name == "Rastogi Inc"
    assert me.can("can_view_clinical_data") and not me.can("can_do_anything")
    assert models.CurrentUser.from_api({"is_superuser": True}).can("can_do_anything")


def test_slot_freedom_follows_tokens_per_slot() -> None:
    slot = models.Slot.from_api(body("27")["results"][0])
    assert slot.is_free and slot.remaining == 2
    full = dataclasses.replace(slot, allocated=2)
    assert not full.is_free and full.remaining == 0


def test_appointments_say_who_booked_them() -> None:
    by_staff = models.Appointment.from_api(body("28"))
    by_patient = models.Appointment.from_api(body("44"))
    assert by_staff.booked_by_staff and not by_patient.booked_by_staff
    assert by_staff.practitioner and by_staff.practitioner.name == "Krisha Pillay"
    assert by_staff.start == dt.datetime(2026, 11, 26, 3, 30, tzinfo=dt.timezone.utc)
    assert models.Appointment.from_api(body("47")).is_cancelled


def test_patients_from_the_otp_list() -> None:
    ramesh, sunita = (models.Patient.from_api(d) for d in body("41")["results"])
    assert ramesh.date_of_birth == dt.date(1968, 4, 12) and sunita.date_of_birth is None
    assert sunita.year_of_birth == 1974 and not ramesh.deceased


def test_service_request_reads_cares_spelling_of_occurrence() -> None:
    sr = models.ServiceRequest.from_api(body("83"))
    assert sr.occurrence == dt.datetime(2026, 11, 28, 2, 30, tzinfo=dt.timezone.utc)
    assert sr.encounter_id == "706ae5c6-45d3-413c-be7a-d435f6079bb2" and sr.requester_name == "Krisha Pillay"


def test_tokens_never_show_in_repr_and_expiry_is_read_from_the_jwt() -> None:
    exp = int(dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc).timestamp())
    access = jwt_with({"token_type": "access", "exp": exp})
    pair = models.TokenPair(access, "refresh-secret")
    patient = models.PatientToken(access, "+919876543210")
    assert access not in repr(pair) and "refresh-secret" not in repr(pair) and access not in repr(patient)
    assert pair.access_expires_at == dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    assert pair.refresh_expires_at is None  # not a JWT: unknown, never a crash
    assert "temp" not in repr(models.MfaChallenge("temp"))


@pytest.mark.parametrize(
    "number, expected",
    [
        ("37", ["otp: Invalid OTP"]),
        ("38", ["otp: String should have at most 5 characters"]),
        ("39", ["phone_number: Value error, Invalid phone number"]),
        ("29", ["Resource Type is required"]),
        ("86", ["No Patient matches the given query."]),
        ("90", ["Permission denied to user"]),
    ],
)
def test_cares_error_bodies_flatten_to_plain_strings(number: str, expected: list[str]) -> None:
    assert error_messages(body(number)) == expected


def test_error_messages_never_copy_the_offending_input() -> None:
    messages = error_messages(body("39"))  # the rejected input was a phone number
    assert not any("9876543210" in m for m in messages)
    assert error_messages({"username": ["This field is required."]}) == ["username: This field is required."]
    assert error_messages("oops") == []

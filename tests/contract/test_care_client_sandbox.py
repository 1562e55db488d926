"""The client against the sandbox subprocess: what a patient or a staff member would notice."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from care_support import CallLog, SandboxProcess

from actions.care.auth import ServiceAccountAuth
from actions.care.client import CareClient
from actions.care.errors import CareForbidden, CareInvalid, CareUnauthenticated
from actions.care.models import MfaChallenge, Slot, TokenPair
from actions.care.transport import CareHttp

PASSWORD = "Ohcn@123"
OTP = "45612"
FAMILY_PHONE = "919876543210"  # as WhatsApp gives it: Ramesh and Sunita Kumar share it
ANITA_PHONE = "+919123456789"


def service(
    sandbox: SandboxProcess, username: str = "care-doctor", session: requests.Session | None = None
) -> CareClient:
    return CareClient.create(
        sandbox.url, username=username, password=PASSWORD, timeout=5, max_retries=1, session=session
    )


def logged(sandbox: SandboxProcess) -> tuple[CareClient, CallLog]:
    """A service-account client whose requests are counted."""
    session = requests.Session()
    return service(sandbox, session=session), CallLog(session)


def facility_and_doctor(care: CareClient) -> tuple[str, str]:
    me = care.current_user()
    return me.facilities[0].id, me.id


def free_slot(care: CareClient, fac: str, practitioner: str, skip_days: int = 0) -> tuple[dt.date, Slot]:
    """A free future slot; `skip_days` keeps tests that book apart from each other."""
    today = dt.date.today()
    for i in range(1 + skip_days, 40):
        day = today + dt.timedelta(days=i)
        slots = [s for s in care.get_slots_for_day(fac, practitioner, day) if s.is_free]
        if slots:
            return day, slots[-1]
    raise AssertionError("no free slot in the coming weeks")


# ---------------------------------------------------------------------- patients


def test_otp_login_shows_every_family_member_on_the_phone(care_sandbox: SandboxProcess) -> None:
    care = service(care_sandbox)
    care.send_otp(FAMILY_PHONE)
    token = care.login_otp(FAMILY_PHONE, OTP)
    assert token.phone_number == "+919876543210"
    assert token.expires_at is not None and token.expires_at > dt.datetime.now(dt.timezone.utc)
    names = sorted(p.name for p in care.as_patient(token).list_patients())
    assert names == ["Ramesh Kumar", "Sunita Kumar"]


def test_each_otp_works_once_and_wrong_codes_are_refused(care_sandbox: SandboxProcess) -> None:
    care = service(care_sandbox)
    care.send_otp(ANITA_PHONE)
    with pytest.raises(CareInvalid) as wrong:
        care.login_otp(ANITA_PHONE, "00000")
    assert wrong.value.messages == ["otp: Invalid OTP"]
    with pytest.raises(CareInvalid) as too_long:
        care.login_otp(ANITA_PHONE, OTP + "1")
    assert "at most 5" in too_long.value.messages[0]
    care.login_otp(ANITA_PHONE, OTP)
    with pytest.raises(CareInvalid):
        care.login_otp(ANITA_PHONE, OTP)  # the code was spent by the login above


def test_a_phone_without_patients_can_log_in_and_sees_nobody(care_sandbox: SandboxProcess) -> None:
    care = service(care_sandbox)
    care.send_otp("+919000000001")
    assert care.as_patient(care.login_otp("+919000000001", OTP)).list_patients() == []


def test_clinical_data_of_an_otp_proven_patient_via_the_service_account(care_sandbox: SandboxProcess) -> None:
    care = service(care_sandbox)
    care.send_otp(ANITA_PHONE)
    anita = care.as_patient(care.login_otp(ANITA_PHONE, OTP)).list_patients()[0]
    meds = care.list_medication_requests(anita.id)
    assert len(meds) >= 2 and all(m.name and m.dose and m.frequency and m.instructions for m in meds)
    diagnoses = care.list_diagnoses(anita.id)
    assert diagnoses and not any(d.is_symptom for d in diagnoses)
    assert all(s.is_symptom for s in care.list_symptoms(anita.id))
    encounter = care.list_encounters(anita.id)[0]
    procedures = care.list_service_requests(encounter.facility_id, encounter.id)
    assert procedures and procedures[0].patient_id == anita.id


def test_a_patient_token_cannot_read_staff_endpoints(care_sandbox: SandboxProcess) -> None:
    care = service(care_sandbox)
    care.send_otp(ANITA_PHONE)
    token = care.login_otp(ANITA_PHONE, OTP)
    as_staff = care.as_staff(TokenPair(token.access, token.access))
    with pytest.raises(CareUnauthenticated):
        as_staff.get_patient(care.as_patient(token).list_patients()[0].id)


def test_a_patient_books_and_cancels_and_the_slot_follows(care_sandbox: SandboxProcess) -> None:
    care = service(care_sandbox)
    fac, doctor = facility_and_doctor(care)
    care.send_otp(FAMILY_PHONE)
    patient = care.as_patient(care.login_otp(FAMILY_PHONE, OTP))
    sunita = next(p for p in patient.list_patients() if p.name == "Sunita Kumar")
    day, slot = free_slot(care, fac, doctor, skip_days=20)

    booked = patient.book_appointment(slot.id, sunita.id, "Booked via WhatsApp")
    assert booked.status == "booked" and not booked.booked_by_staff
    assert not patient.get_slot(slot.id).is_free
    assert slot.id not in {s.id for s in patient.get_slots_for_day(fac, doctor, day) if s.is_free}
    assert booked.id in {a.id for a in patient.list_appointments() if not a.is_cancelled}
    assert booked.id in {a.id for a in care.list_appointments(fac, [doctor], patient_id=sunita.id)}

    cancelled = patient.cancel_appointment(sunita.id, booked.id)
    assert cancelled.is_cancelled
    assert patient.get_slot(slot.id).is_free
    assert booked.id in {a.id for a in patient.list_appointments() if a.is_cancelled}


def test_a_patient_cannot_book_for_another_family(care_sandbox: SandboxProcess) -> None:
    care = service(care_sandbox)
    fac, doctor = facility_and_doctor(care)
    care.send_otp(FAMILY_PHONE)
    patient = care.as_patient(care.login_otp(FAMILY_PHONE, OTP))
    anita = care.find_patients_by_phone(ANITA_PHONE)[0]
    _, slot = free_slot(care, fac, doctor, skip_days=21)
    with pytest.raises(CareInvalid) as info:
        patient.book_appointment(slot.id, anita.id)
    assert info.value.messages == ["Patient not allowed"]


# ---------------------------------------------------------------------- staff


def test_staff_search_by_name_and_phone(care_sandbox: SandboxProcess) -> None:
    care = service(care_sandbox)
    assert {p.name for p in care.search_patients("ravi")} == {"Ravi Kumar", "Ravi Prasad"}
    assert {p.name for p in care.find_patients_by_phone("98765 43210")} == {"Ramesh Kumar", "Sunita Kumar"}
    assert care.get_patient(care.search_patients("meera")[0].id).name == "Meera Nair"


def test_two_practitioners_answer_to_asha(care_sandbox: SandboxProcess) -> None:
    care = service(care_sandbox)
    fac, _ = facility_and_doctor(care)
    ashas = [p.name for p in care.list_practitioners(fac) if "asha" in p.name.lower()]
    assert sorted(ashas) == ["Dr. Asha Menon", "Dr. Asha Pillai"]


def test_a_practitioner_has_free_slots_on_most_of_the_coming_two_weeks(care_sandbox: SandboxProcess) -> None:
    care = service(care_sandbox)
    fac, doctor = facility_and_doctor(care)
    today = dt.date.today()
    days = [today + dt.timedelta(days=i) for i in range(1, 15)]
    free_days = [d for d in days if any(s.is_free for s in care.get_slots_for_day(fac, doctor, d))]
    assert len(free_days) >= 10


def test_staff_books_a_slot_that_then_is_full_and_cancels_it(care_sandbox: SandboxProcess) -> None:
    care = service(care_sandbox, "care-staff")
    doctor = service(care_sandbox)
    fac, doctor_id = facility_and_doctor(doctor)
    meera = care.search_patients("Meera Nair")[0]
    day, slot = free_slot(care, fac, doctor_id, skip_days=22)

    booked = care.book_appointment(fac, slot.id, meera.id, "Thyroid review")
    assert booked.booked_by_staff and booked.practitioner and booked.practitioner.id == doctor_id
    with pytest.raises(CareInvalid) as full:
        care.book_appointment(fac, slot.id, care.search_patients("Ravi Kumar")[0].id)
    assert full.value.messages == ["Slot is already full"]
    assert booked.id in {a.id for a in doctor.list_appointments(fac, [doctor_id], status="booked")}
    assert booked.id in {a.id for a in care.list_patient_appointments(meera.id)}

    cancelled = care.cancel_appointment(fac, booked.id)
    assert cancelled.status == "cancelled"
    assert care.get_appointment(fac, booked.id).is_cancelled
    assert next(s for s in care.get_slots_for_day(fac, doctor_id, day) if s.id == slot.id).is_free


def test_a_doctor_lists_only_their_own_appointments(care_sandbox: SandboxProcess) -> None:
    care = service(care_sandbox)
    fac, me = facility_and_doctor(care)
    with pytest.raises(CareForbidden):
        care.list_appointments(fac)
    assert all(a.practitioner and a.practitioner.id == me for a in care.list_appointments(fac, [me]))


def test_a_volunteer_reads_demographics_but_not_clinical_data(care_sandbox: SandboxProcess) -> None:
    volunteer = service(care_sandbox, "care-volunteer")
    me = volunteer.current_user()
    assert me.roles == ("Volunteer",) and not me.can("can_view_clinical_data")
    anita = volunteer.find_patients_by_phone(ANITA_PHONE)[0]
    assert volunteer.get_patient(anita.id).name == "Anita Sharma"
    assert volunteer.get_encounter(volunteer.list_encounters(anita.id)[0].id).patient_id == anita.id
    with pytest.raises(CareForbidden):
        volunteer.list_medication_requests(anita.id)
    with pytest.raises(CareForbidden):
        volunteer.list_diagnoses(anita.id)


def test_a_staff_member_calls_with_their_own_tokens(care_sandbox: SandboxProcess) -> None:
    care = service(care_sandbox)
    tokens = care.login("care-nurse", PASSWORD)
    assert isinstance(tokens, TokenPair)
    nurse = care.as_staff(tokens)
    assert nurse.current_user().username == "care-nurse"
    with pytest.raises(CareUnauthenticated):
        care.login("care-nurse", "wrong password")


def test_mfa_login_takes_a_second_step(care_sandbox: SandboxProcess) -> None:
    care = service(care_sandbox)
    challenge = care.login("care-doctor-mfa", PASSWORD)
    assert isinstance(challenge, MfaChallenge)
    with pytest.raises(CareInvalid):
        care.login_mfa(challenge, "000000")
    tokens = care.login_mfa(challenge, "12345678", method="backup")
    assert care.as_staff(tokens).current_user().username == "care-doctor-mfa"


def test_medication_statements(care_sandbox: SandboxProcess) -> None:
    care = service(care_sandbox)
    ramesh = next(p for p in care.find_patients_by_phone(FAMILY_PHONE) if p.name == "Ramesh Kumar")
    statements = care.list_medication_statements(ramesh.id)
    assert [s.name for s in statements] == ["Aspirin"] and statements[0].dosage_text


def test_pagination_follows_offsets_until_count(care_sandbox: SandboxProcess) -> None:
    session = requests.Session()
    log = CallLog(session)
    http = CareHttp(care_sandbox.url, session=session)
    everyone = http.paginate("/api/v1/patient/", auth=ServiceAccountAuth("care-doctor", PASSWORD), page_size=2)
    assert len(everyone) >= 6 and len({p["id"] for p in everyone}) == len(everyone)
    assert log.count("GET", "/api/v1/patient/") == -(-len(everyone) // 2)  # ceil: one request per page


# ---------------------------------------------------------------------- tokens over time


def test_rotating_refresh_keeps_the_service_account_logged_in(start_sandbox) -> None:
    # access tokens of 6 s are always inside the client's 30 s refresh margin: every call refreshes
    sandbox = start_sandbox({"SANDBOX_ACCESS_TOKEN_MINUTES": "0.1"})
    care, log = logged(sandbox)
    for _ in range(3):
        assert care.current_user().username == "care-doctor"
    assert log.count("POST", "/auth/login/") == 1
    assert log.count("POST", "/auth/token/refresh/") == 2  # each with the rotated refresh token


def test_a_restarted_care_refuses_old_tokens_and_the_client_logs_in_once(start_sandbox) -> None:
    first = start_sandbox()
    care, log = logged(first)
    assert care.current_user().username == "care-doctor"
    first.stop()
    start_sandbox(port=first.port)  # a new signing key: the old access token is now "Token is invalid"
    assert care.current_user().username == "care-doctor"
    assert log.count("POST", "/auth/login/") == 2
    assert log.count("GET", "/users/getcurrentuser/") == 3  # the refused call and its one retry


def test_staff_tokens_are_rotated_and_handed_back(start_sandbox) -> None:
    sandbox = start_sandbox({"SANDBOX_ACCESS_TOKEN_MINUTES": "0.1"})
    care = service(sandbox)
    tokens = care.login("care-doctor", PASSWORD)
    seen: list[TokenPair] = []
    staff = care.as_staff(tokens, on_refresh=seen.append)
    staff.current_user()
    staff.current_user()
    assert len(seen) == 2 and len({t.refresh for t in seen} | {tokens.refresh}) == 3

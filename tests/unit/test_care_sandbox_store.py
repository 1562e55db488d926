"""The sandbox's seed and rules, without HTTP: dates relative to today, slots, bookings, OTPs, TOTP."""
from __future__ import annotations

import datetime as dt

import pytest

from sandbox.care.config import FIXTURES, SandboxConfig
from sandbox.care.seed import load, when
from sandbox.care.store import BookingRefused
from sandbox.care.tokens import ACCESS, PATIENT, REFRESH, TokenError, Tokens, totp, totp_ok

MONDAY = dt.date(2031, 3, 3)


@pytest.fixture
def store():
    return load(FIXTURES, today=MONDAY)


def test_relative_times_are_anchored_on_today(store) -> None:
    assert when("+3d 10:30", MONDAY, store.tz) == dt.datetime(2031, 3, 6, 10, 30, tzinfo=store.tz)
    assert when("-20d", MONDAY, store.tz).date() == dt.date(2031, 2, 11)
    with pytest.raises(ValueError):
        when("next tuesday", MONDAY, store.tz)


def test_the_seed_has_families_doctors_and_records(store) -> None:
    family = store.patients_on_phone("+919876543210")
    assert [p.name for p in family] == ["Ramesh Kumar", "Sunita Kumar"]
    assert family[0].id == "ee456dc9-7f58-47ed-bded-e0b4c97fe596"
    for p in store.patients.values():
        meds = [m for m in store.medications.values() if m.patient_id == p.id]
        assert 2 <= len(meds) <= 4, p.name
    usernames = {u.username for u in store.users.values()}
    assert {"care-doctor", "care-nurse", "care-staff", "care-volunteer", "care-admin"} <= usernames


def test_seeded_appointments_are_upcoming_and_on_working_days(store) -> None:
    upcoming = [b for b in store.bookings.values() if b.status == "booked"]
    assert upcoming
    for b in upcoming:
        start = store.slots[b.slot_id].start
        assert start.date() > MONDAY and start.astimezone(store.tz).weekday() != 6


def test_slots_are_stable_and_in_utc(store) -> None:
    doctor = store.user_by_name("care-doctor")
    fac = doctor.facility_ids[0]
    day = MONDAY + dt.timedelta(days=7)
    first = store.slots_for_day(doctor.id, fac, day)
    assert [s.id for s in first] == [s.id for s in store.slots_for_day(doctor.id, fac, day)]
    assert first[0].start == dt.datetime.combine(day, dt.time(3, 30), dt.timezone.utc)  # 09:00 in Kolkata
    assert store.slots_for_day(doctor.id, fac, day + dt.timedelta(days=6)) == []  # Sunday: no OPD


def test_a_full_slot_refuses_and_a_cancel_frees_it_once(store) -> None:
    doctor = store.user_by_name("care-doctor")
    slot = store.slots_for_day(doctor.id, doctor.facility_ids[0], MONDAY + dt.timedelta(days=8))[0]
    ramesh, sunita = store.patients_on_phone("+919876543210")
    booking = store.book(slot, ramesh, "", booked_by=None)
    with pytest.raises(BookingRefused, match="full"):
        store.book(slot, sunita, "", booked_by=None)
    store.cancel(booking)
    store.cancel(booking)
    assert slot.allocated == 0


def test_each_otp_sent_opens_one_login(store) -> None:
    assert not store.use_otp("+919123456789", store.otp_code)  # nothing sent yet
    store.send_otp("+919123456789")
    assert not store.use_otp("+919123456789", "11111")
    assert store.use_otp("+919123456789", store.otp_code)
    assert not store.use_otp("+919123456789", store.otp_code)


def test_tokens_carry_cares_claims_and_types() -> None:
    cfg = SandboxConfig.from_env({"SANDBOX_ACCESS_TOKEN_MINUTES": "0.5", "SANDBOX_JWT_SECRET": "k" * 32})
    assert cfg.access_lifetime == dt.timedelta(seconds=30)
    tokens = Tokens(cfg.jwt_secret, cfg.access_lifetime, cfg.refresh_lifetime, cfg.patient_lifetime, cfg.mfa_lifetime)
    pair = tokens.pair("u1")
    assert tokens.read(pair["access"], ACCESS)["user_id"] == "u1"
    with pytest.raises(TokenError, match="wrong type"):
        tokens.read(pair["refresh"], ACCESS)
    patient = tokens.read(tokens.issue(PATIENT, phone_number="+919876543210"), PATIENT)
    assert patient["phone_number"] == "+919876543210" and "user_id" not in patient
    with pytest.raises(TokenError, match="invalid"):
        tokens.read("not-a-token", REFRESH)


def test_totp_matches_rfc_6238() -> None:
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # RFC 6238's SHA-1 test key, base32
    assert totp(secret, at=59, digits=8) == "94287082"
    assert totp_ok(secret, totp(secret))

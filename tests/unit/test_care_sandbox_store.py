"""The sandbox's seed and rules, without HTTP: dates relative to today, slots, bookings, OTPs, TOTP, logout."""

from __future__ import annotations

import datetime as dt

import pytest

from sandbox.care import store as store_module
from sandbox.care.config import FIXTURES, SandboxConfig
from sandbox.care.seed import load, when
from sandbox.care.store import BookingRefused
from sandbox.care.tokens import (
    ACCESS,
    PATIENT,
    REFRESH,
    TokenError,
    Tokens,
    new_backup_codes,
    new_totp_secret,
    totp,
    totp_ok,
)

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


def test_a_cancel_keeps_the_note_unless_one_is_given(store) -> None:
    doctor = store.user_by_name("care-doctor")
    slot = store.slots_for_day(doctor.id, doctor.facility_ids[0], MONDAY + dt.timedelta(days=8))[1]
    ramesh = store.patients_on_phone("+919876543210")[0]
    booking = store.book(slot, ramesh, "Review", booked_by=doctor.id)
    store.cancel(booking, "cancelled", "Patient asked")
    store.cancel(booking, "cancelled")
    assert (booking.status, booking.note, slot.allocated) == ("cancelled", "Patient asked", 0)


def test_a_reschedule_frees_the_old_slot_and_books_the_new_one(store) -> None:
    doctor = store.user_by_name("care-doctor")
    old_slot, new_slot, full_slot = store.slots_for_day(
        doctor.id, doctor.facility_ids[0], MONDAY + dt.timedelta(days=9)
    )[:3]
    ramesh, sunita = store.patients_on_phone("+919876543210")
    old = store.book(old_slot, sunita, "Lipids", booked_by=doctor.id)
    new = store.reschedule(old, new_slot, "Moved", "Asked for later", booked_by=doctor.id)
    assert (old.status, old.note, old_slot.allocated) == ("rescheduled", "Asked for later", 0)
    assert (new.status, new.note, new.slot_id, new_slot.allocated) == ("booked", "Moved", new_slot.id, 1)
    store.book(full_slot, ramesh, "", booked_by=None)
    with pytest.raises(BookingRefused):  # a full new slot changes nothing
        store.reschedule(new, full_slot, "Again", None, booked_by=doctor.id)
    assert (new.status, new_slot.allocated) == ("booked", 1)


def test_logout_revokes_exactly_the_named_tokens_for_30_minutes(store, monkeypatch) -> None:
    store.revoke("access-1", "refresh-1")
    assert store.is_revoked("access-1") and store.is_revoked("refresh-1") and not store.is_revoked("refresh-2")
    later = store_module.utcnow() + dt.timedelta(minutes=31)
    monkeypatch.setattr(store_module, "utcnow", lambda: later)
    assert not store.is_revoked("access-1")


def test_the_mfa_temp_token_is_a_short_refresh_token() -> None:
    cfg = SandboxConfig.from_env({"SANDBOX_JWT_SECRET": "k" * 32})
    tokens = Tokens(cfg.jwt_secret, cfg.access_lifetime, cfg.refresh_lifetime, cfg.patient_lifetime, cfg.mfa_lifetime)
    claims = tokens.read(tokens.temp("u1"), REFRESH)
    assert claims["temp_token"] is True and claims["user_id"] == "u1" and claims["exp"] - claims["iat"] == 300
    with pytest.raises(TokenError, match="wrong type"):
        tokens.read(tokens.temp("u1"), ACCESS)


def test_totp_setup_material() -> None:
    secret = new_totp_secret()
    assert len(secret) == 32 and totp_ok(secret, totp(secret))
    codes = new_backup_codes()
    assert len(codes) == 10 and all(len(c) == 8 and c.isdigit() for c in codes)

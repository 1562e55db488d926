"""When reminders are due: medication clock times from CARE's dosage timing (the recordings' shapes), the
quiet hours, the patient's own times, appointment reminders before the slot, and the keys that keep each
reminder unique."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from notifications.timing import (
    APPOINTMENTS,
    MEDICATIONS,
    QuietHours,
    appointment_key,
    appointment_reminders,
    appointment_reminders_for,
    in_quiet_hours,
    medication_plan,
    medication_reminders,
    no_reminder_reason,
    zone,
)
from settings import Settings

CARE = Path(__file__).resolve().parents[1] / "fixtures" / "care-api"
IST = zone("Asia/Kolkata")
UTC = dt.timezone.utc
QUIET = QuietHours.parse("22:00-07:00")


def recorded(name: str) -> dict:
    return json.loads((CARE / name).read_text())["response"]["body"]


LISTED = {r["id"]: r for r in recorded("74-medication-request-list.json")["results"]}
PARACETAMOL_AS_NEEDED = LISTED["62315810-598e-4bcc-82a5-e7b0848e7f87"]  # Q6H, as needed
AMLODIPINE_ONCE = LISTED["037427ca-0818-4cf7-aedc-652d98f33acb"]  # QD for 30 days
AMOXICILLIN_THRICE = LISTED["46e4274c-f9b5-4c51-981b-896ea1fa76db"]  # TID for 7 days
PARACETAMOL_TWICE = recorded("76-medication-request-retrieve.json")  # BID for 5 days, authored 09:30 IST
AT_BEDTIME = recorded("102-medication-request-create-sunita-ok.json")  # HS


def local(day: str, clock: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=IST)


def day_of(request: dict, day: str, **kwargs) -> list[str]:
    """The local clock times of the request's reminders on that hospital day."""
    found = medication_reminders(
        request, start=local(day, "00:00"), end=local(day, "00:00") + dt.timedelta(days=1), tz=IST, **kwargs
    )
    return [r.params["local_time"] for r in found]


def with_timing(request: dict, *, frequency=None, period=None, unit=None, code=None, **changes) -> dict:
    changed = copy.deepcopy(request)
    changed.update({k: v for k, v in changes.items() if k != "as_needed"})
    instruction = changed["dosage_instruction"][0]
    repeat = instruction["timing"]["repeat"]
    for name, value in (("frequency", frequency), ("period", period), ("period_unit", unit)):
        if value is not None:
            repeat[name] = value
    if code is not None:
        instruction["timing"]["code"] = {"code": code}
    if "as_needed" in changes:
        instruction["as_needed_boolean"] = changes["as_needed"]
    return changed


# ---- medication times -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_, times",
    [
        (AMLODIPINE_ONCE, ["08:00"]),
        (PARACETAMOL_TWICE, ["08:00", "20:00"]),
        (AMOXICILLIN_THRICE, ["08:00", "14:00", "20:00"]),
        (AT_BEDTIME, ["21:00"]),
    ],
)
def test_the_recorded_prescriptions_are_reminded_at_awake_hours(request_, times):
    assert day_of(request_, "2026-11-27") == times


def test_four_a_day_or_every_six_hours_is_reminded_while_awake_not_at_two_at_night():
    every_6_hours = with_timing(PARACETAMOL_AS_NEEDED, as_needed=False)
    four_a_day = with_timing(AMLODIPINE_ONCE, frequency=4, code="QID")
    assert day_of(every_6_hours, "2026-11-26") == ["08:00", "12:00", "16:00", "20:00"]
    assert day_of(four_a_day, "2026-11-26") == ["08:00", "12:00", "16:00", "20:00"]


def test_five_or_six_a_day_are_spread_over_the_day_and_more_get_none_unless_the_patient_chose():
    assert day_of(with_timing(AMLODIPINE_ONCE, frequency=1, period=4, unit="h"), "2026-11-26") == [
        "08:00",
        "10:30",
        "12:45",
        "15:15",
        "17:30",
        "20:00",
    ]
    hourly = with_timing(AMLODIPINE_ONCE, frequency=1, period=1, unit="h")
    assert day_of(hourly, "2026-11-26") == []
    assert no_reminder_reason(hourly, IST) == "too_frequent"
    assert day_of(hourly, "2026-11-26", chosen_times=["09:00", "18:00"]) == ["09:00", "18:00"]


def test_as_needed_and_inactive_requests_get_no_reminders():
    assert day_of(PARACETAMOL_AS_NEEDED, "2026-11-26") == []
    assert no_reminder_reason(PARACETAMOL_AS_NEEDED, IST) == "as_needed"
    for status in ("completed", "stopped", "on-hold", "cancelled", "draft", "entered_in_error", "ended"):
        stopped = with_timing(PARACETAMOL_TWICE, status=status)
        assert day_of(stopped, "2026-11-26") == [] and no_reminder_reason(stopped, IST) == "not_active"
    assert no_reminder_reason(PARACETAMOL_TWICE, IST) is None


def test_reminders_start_at_the_prescription_and_end_with_its_duration():
    # BID for 5 days from 25 Nov 09:30: the evening of the 25th, then twice a day, the last on the 30th at 08:00
    everything = medication_reminders(
        PARACETAMOL_TWICE, start=local("2026-11-20", "00:00"), end=local("2026-12-31", "00:00"), tz=IST
    )
    assert len(everything) == 10
    assert (everything[0].params["local_date"], everything[0].params["local_time"]) == ("2026-11-25", "20:00")
    assert (everything[-1].params["local_date"], everything[-1].params["local_time"]) == ("2026-11-30", "08:00")


def test_due_times_are_the_hospitals_clock_stored_in_utc_with_one_key_per_dose():
    (morning, evening) = medication_reminders(
        PARACETAMOL_TWICE, start=local("2026-11-27", "00:00"), end=local("2026-11-28", "00:00"), tz=IST
    )
    assert morning.due_at == dt.datetime(2026, 11, 27, 2, 30, tzinfo=UTC)  # 08:00 IST
    assert morning.due_at.tzinfo == UTC and morning.purpose == MEDICATIONS
    assert morning.key == "med:3c0ba77a-dbf7-4425-a1c8-2bad0b62e83a:2026-11-27:08:00"
    assert evening.key == "med:3c0ba77a-dbf7-4425-a1c8-2bad0b62e83a:2026-11-27:20:00"
    assert set(morning.params) == {"request_id", "local_date", "local_time", "chosen"}  # ids and times only


def test_two_scans_over_overlapping_windows_find_the_same_keys_and_times():
    def scan(start: dt.datetime, end: dt.datetime) -> dict[str, dt.datetime]:
        return {r.key: r.due_at for r in medication_reminders(AMOXICILLIN_THRICE, start=start, end=end, tz=IST)}

    first = scan(local("2026-11-26", "00:00"), local("2026-11-27", "12:00"))
    second = scan(local("2026-11-26", "10:00"), local("2026-11-28", "00:00"))
    both = scan(local("2026-11-26", "10:00"), local("2026-11-27", "12:00"))
    assert len(both) == 3  # the 26th at 14:00 and 20:00, the 27th at 08:00
    assert {k: first[k] for k in first.keys() & second.keys()} == both == {k: second[k] for k in both}


def test_weekly_every_other_day_twice_a_week_and_monthly_count_from_the_prescription_day():
    authored = "2026-11-26T04:00:00Z"  # a Thursday, 09:30 IST
    weekly = with_timing(AMLODIPINE_ONCE, frequency=1, period=1, unit="wk", authored_on=authored)
    every_other_day = with_timing(AMLODIPINE_ONCE, frequency=1, period=2, unit="d", authored_on=authored)
    twice_a_week = with_timing(AMLODIPINE_ONCE, frequency=2, period=1, unit="wk", authored_on=authored)

    def days(request: dict) -> list[str]:
        found = medication_reminders(
            request, start=local("2026-11-26", "00:00"), end=local("2026-12-11", "00:00"), tz=IST
        )
        assert {r.params["local_time"] for r in found} == {"08:00"}
        return [r.params["local_date"][5:] for r in found]

    # the first day's 08:00 is before the prescription (09:30), so the rhythm shows from its next turn
    assert days(weekly) == ["12-03", "12-10"]
    assert days(every_other_day) == ["11-28", "11-30", "12-02", "12-04", "12-06", "12-08", "12-10"]
    assert days(twice_a_week) == ["11-29", "12-03", "12-06", "12-10"]

    monthly = with_timing(AMLODIPINE_ONCE, frequency=1, period=1, unit="mo", authored_on="2027-01-30T20:00:00Z")
    monthly["dosage_instruction"][0]["timing"]["repeat"]["bounds_duration"] = {"unit": "mo", "value": 6}
    found = medication_reminders(monthly, start=local("2027-01-01", "00:00"), end=local("2027-05-01", "00:00"), tz=IST)
    # prescribed on 31 Jan at 01:30 (IST): that morning, then the last day of shorter months
    assert [r.params["local_date"] for r in found] == ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30"]


def test_a_request_without_repeat_is_read_from_its_timing_code():
    coded = copy.deepcopy(PARACETAMOL_TWICE)
    del coded["dosage_instruction"][0]["timing"]["repeat"]
    coded["dosage_instruction"][0]["timing"]["code"]["code"] = "TID"
    assert day_of(coded, "2026-11-27") == ["08:00", "14:00", "20:00"]
    del coded["dosage_instruction"][0]["timing"]["code"]
    assert day_of(coded, "2026-11-27") == [] and no_reminder_reason(coded, IST) == "no_timing"


# ---- the patient's own times and the quiet hours --------------------------------------------------------------


def test_the_patients_times_replace_the_nearest_default_times():
    assert day_of(PARACETAMOL_TWICE, "2026-11-27", chosen_times=["8:00", "21:00"]) == ["08:00", "21:00"]
    assert day_of(AMOXICILLIN_THRICE, "2026-11-27", chosen_times=["09:00", "21:00"]) == ["09:00", "14:00", "21:00"]
    assert day_of(AMLODIPINE_ONCE, "2026-11-27", chosen_times=["07:30", "21:00"]) == ["07:30"]
    assert day_of(AT_BEDTIME, "2026-11-27", chosen_times=["07:30", "21:30"]) == ["21:30"]
    plan = medication_plan(PARACETAMOL_TWICE, IST, ["9:00"])
    assert [(d.time.isoformat("minutes"), d.chosen) for d in plan.times] == [("09:00", True), ("20:00", False)]


def test_no_reminder_in_the_quiet_hours_unless_the_patient_chose_that_time():
    night_shift = QuietHours.parse("19:30-08:30")
    assert day_of(AMOXICILLIN_THRICE, "2026-11-27", quiet=night_shift) == ["14:00"]
    assert day_of(PARACETAMOL_TWICE, "2026-11-27", quiet=QUIET, chosen_times=["06:00", "23:00"]) == ["06:00", "23:00"]
    assert day_of(PARACETAMOL_TWICE, "2026-11-27", quiet=None) == ["08:00", "20:00"]


@pytest.mark.parametrize(
    "clock, quiet", [("21:59", False), ("22:00", True), ("03:00", True), ("06:59", True), ("07:00", False)]
)
def test_quiet_hours_wrap_past_midnight(clock, quiet):
    assert (dt.time.fromisoformat(clock) in QUIET) is quiet
    assert in_quiet_hours(local("2026-11-27", clock).astimezone(UTC), IST, QUIET) is quiet


def test_quiet_hours_read_from_the_setting():
    assert QuietHours.parse("22:00-07:00") == QuietHours(dt.time(22), dt.time(7))
    assert QuietHours.parse("") is None  # MEDICATION_QUIET_HOURS=off
    assert dt.time(13) in QuietHours.parse("12:30-14:00") and dt.time(14) not in QuietHours.parse("12:30-14:00")
    with pytest.raises(ValueError):
        QuietHours.parse("late-early")


# ---- appointments ---------------------------------------------------------------------------------------------

SLOT = dt.datetime(2026, 12, 8, 3, 45, tzinfo=UTC)  # 9:15 IST


def test_appointment_reminders_come_24_and_2_hours_before_the_slot():
    day_before, same_day = appointment_reminders("appt-1", SLOT, offsets_hours=(2, 24))
    assert (day_before.due_at, same_day.due_at) == (SLOT - dt.timedelta(hours=24), SLOT - dt.timedelta(hours=2))
    assert day_before.key == "appt:appt-1:2026-12-08T03:45:00Z:24h" and same_day.key.endswith(":2h")
    assert day_before.purpose == APPOINTMENTS
    assert set(day_before.params) == {"appointment_id", "slot_start", "offset_hours"}


def test_an_offset_already_past_when_booked_is_skipped():
    booked_3h_before = appointment_reminders("a", SLOT, offsets_hours=(24, 2), booked_at=SLOT - dt.timedelta(hours=3))
    assert [r.key.rsplit(":", 1)[1] for r in booked_3h_before] == ["2h"]
    assert appointment_reminders("a", SLOT, offsets_hours=(24, 2), booked_at=SLOT - dt.timedelta(minutes=90)) == []


def test_a_moved_appointment_has_new_keys_so_the_old_reminders_are_recognisably_stale():
    moved = SLOT + dt.timedelta(minutes=15)
    old = {r.key for r in appointment_reminders("a", SLOT, offsets_hours=(24, 2))}
    new = {r.key for r in appointment_reminders("a", moved, offsets_hours=(24, 2))}
    assert not old & new
    assert appointment_key("a", SLOT.astimezone(IST), 24) in old  # any zone, same key
    assert appointment_key("a", SLOT, 1.5).endswith(":90m")


def test_a_recorded_care_appointment_gets_its_reminders_and_a_cancelled_one_none():
    booked = recorded("124-appointment-create-sunita.json")  # booked 1 Dec for 8 Dec 09:15 IST
    reminders = appointment_reminders_for(booked, offsets_hours=(24, 2))
    assert [r.key for r in reminders] == [
        "appt:abf6f7eb-b25b-42f6-9d8e-6a9283e0cf65:2026-12-08T03:45:00Z:24h",
        "appt:abf6f7eb-b25b-42f6-9d8e-6a9283e0cf65:2026-12-08T03:45:00Z:2h",
    ]
    assert appointment_reminders_for({**booked, "status": "cancelled"}, offsets_hours=(24, 2)) == []


# ---- settings -------------------------------------------------------------------------------------------------


def test_the_reminder_settings_have_the_documented_defaults_and_refuse_nonsense():
    defaults = Settings.from_env({})
    assert defaults.appointment_reminder_offsets_hours == (24.0, 2.0)
    assert QuietHours.parse(defaults.medication_quiet_hours) == QUIET
    assert defaults.notification_claim_seconds == 300
    chosen = Settings.from_env({"APPOINTMENT_REMINDER_OFFSETS_HOURS": "2, 48", "MEDICATION_QUIET_HOURS": "off"})
    assert chosen.appointment_reminder_offsets_hours == (48.0, 2.0) and chosen.medication_quiet_hours == ""
    for name, value in (("APPOINTMENT_REMINDER_OFFSETS_HOURS", "soon"), ("MEDICATION_QUIET_HOURS", "10pm-7am")):
        with pytest.raises(ValueError, match=name):
            Settings.from_env({name: value})

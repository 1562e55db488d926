"""actions/shared/formatting: one formatter for patients and staff; the same thing is said the same way."""

from __future__ import annotations

import datetime as dt

import pytest

from actions.care.models import Appointment, Coding, Condition, MedicationRequest, Practitioner, Slot
from actions.shared import formatting as fmt

TZ = "Asia/Kolkata"
TODAY = dt.date(2026, 11, 25)  # a Wednesday
UTC = dt.timezone.utc


def utc(y, m, d, h=0, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=UTC)


@pytest.mark.parametrize(
    "code, said",
    [
        ("1 d", "1 day"),
        ("5 d", "5 days"),
        ("1 wk", "1 week"),
        ("2 wk", "2 weeks"),
        ("3 mo", "3 months"),
        ("1 a", "1 year"),
        ("12 h", "12 hours"),
        ("", ""),
        ("as directed", "as directed"),
        ("5 days", "5 days"),
    ],
)
def test_one_duration_wording(code, said):
    assert fmt.duration(code) == said


def test_patients_and_staff_read_the_same_duration():
    """ "1 d" was "1 day" to a patient and "1 days" to staff; "3 mo" stayed "3 mo" for staff."""
    for code, said in (("1 d", "1 day"), ("3 mo", "3 months"), ("30 d", "30 days")):
        med = MedicationRequest(id="m", name="Amoxicillin", status="active", duration=code)
        [block] = fmt.medication_blocks([med], TZ, TODAY)
        assert f"• *For:* {said}" in block.splitlines()
        assert fmt.medication_line(med) == f"• *Amoxicillin* for {said}"


def test_one_local_time_for_both_parts():
    """03:30 UTC is 9 am in India, in a patient's list row, a staff member's line and a slot row."""
    start = utc(2026, 11, 26, 3, 30)
    doctor = Practitioner(id="p", first_name="Asha", last_name="Menon", prefix="Dr.")
    appt = Appointment(id="a", status="booked", slot=Slot(id="s", start=start, end=None), practitioner=doctor)
    assert fmt.appointment_title(appt, TZ, TODAY) == "tomorrow, 9 am · Dr. Asha Menon"
    assert fmt.appointment_line(appt, TZ, TODAY) == "• tomorrow, 9 am with Dr. Asha Menon"
    assert fmt.slot_time(appt.slot, TZ) == fmt.slot_title(appt.slot, TZ) == "9 am"
    assert fmt.local_time(start, TZ) == dt.time(9, 0)
    assert fmt.local_time(start.replace(tzinfo=None), TZ) == dt.time(9, 0)  # naive: UTC, as CARE sends it


def test_confirmations_carry_the_date_for_both_parts():
    appt = Appointment(id="a", status="booked", slot=Slot(id="s", start=utc(2026, 11, 26, 3, 30), end=None))
    assert fmt.appointment_when(appt, TZ, TODAY) == fmt.slot_when(appt.slot, TZ, TODAY) == "tomorrow, Thu 26 Nov, 9 am"
    assert fmt.appointment_short(appt, TZ, TODAY) == "tomorrow, 9 am"


def test_an_appointment_without_a_time_says_so():
    appt = Appointment(id="a", status="booked", slot=Slot(id="s", start=None, end=None))
    assert fmt.appointment_title(appt, TZ, TODAY) == "time not set"
    assert fmt.appointment_when(appt, TZ, TODAY) == "a time not set yet"
    assert fmt.slot_time(appt.slot, TZ) == "" and fmt.slot_title(appt.slot, TZ) == "time not set"


@pytest.mark.parametrize(
    "day, plain, dated",
    [
        (dt.date(2026, 11, 25), "today", "today (Wed 25 Nov)"),
        (dt.date(2026, 11, 26), "tomorrow", "tomorrow (Thu 26 Nov)"),
        (dt.date(2026, 11, 24), "yesterday", "yesterday (Tue 24 Nov)"),
        (dt.date(2026, 11, 27), "on Friday 27 Nov", "on Friday 27 Nov"),
    ],
)
def test_one_day_phrase_with_or_without_the_date(day, plain, dated):
    assert fmt.day_phrase(day, TODAY) == plain
    assert fmt.day_phrase(day, TODAY, dated=True) == dated


def test_status_words():
    assert fmt.humanize("in_progress") == "ongoing"  # a patient's word
    assert fmt.words("in_progress") == "in progress"  # the code as words (staff lines)
    assert fmt.words("entered_in_error") == fmt.humanize("entered_in_error") == "entered in error"


def test_one_diagnosis_name_in_blocks_and_lines():
    cond = Condition(
        id="c",
        code=Coding(display="Asthma"),
        category="encounter_diagnosis",
        severity="mild",
        verification_status="provisional",
        encounter_id="e",
    )
    assert fmt.diagnosis_name(cond) == "Asthma (mild, provisional)"
    assert fmt.diagnosis_line(cond) == "• Asthma (mild, provisional)"


def test_lines_or_the_empty_text():
    assert fmt.lines(["• a", "", "• b"], "none") == "• a\n• b"
    assert fmt.lines([], "none") == "none"


def test_the_formatter_reads_local_times_with_the_one_clock():
    from actions.shared import clock

    assert fmt.to_local is clock.to_local and fmt.zone is clock.zone  # no second time-zone lookup

"""Which appointment a patient's typed answer points at (actions/patient/cancelling.py `narrow`)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from actions.care.models import Appointment, Practitioner, Slot
from actions.patient import cancelling
from actions.shared import clock

IST = ZoneInfo("Asia/Kolkata")
THURSDAY = dt.datetime(2026, 12, 3, 2, 20, tzinfo=IST)  # early on a Thursday, hospital time


def appt(ident: str, local: dt.datetime, doctor: str = "Asha Menon") -> Appointment:
    first, last = doctor.split()
    start = local.astimezone(dt.timezone.utc)
    return Appointment(
        id=ident,
        status="booked",
        slot=Slot(id="s" + ident, start=start, end=start),
        practitioner=Practitioner(id=doctor, first_name=first, last_name=last, prefix="Dr."),
    )


@pytest.fixture
def on_thursday(monkeypatch):
    monkeypatch.setattr(clock, "timezone_name", lambda: "Asia/Kolkata")
    monkeypatch.setattr(clock, "now", lambda: THURSDAY)


def test_a_weekday_said_on_that_weekday_finds_next_weeks_appointment(on_thursday):
    monday = appt("a", dt.datetime(2026, 12, 7, 9, 30, tzinfo=IST))
    thursday = appt("b", dt.datetime(2026, 12, 10, 10, 0, tzinfo=IST))
    assert cancelling.narrow([monday, thursday], "the one on thursday") == [thursday]


def test_todays_appointment_wins_over_next_weeks(on_thursday):
    today = appt("a", dt.datetime(2026, 12, 3, 11, 0, tzinfo=IST))
    next_week = appt("b", dt.datetime(2026, 12, 10, 10, 0, tzinfo=IST))
    assert cancelling.narrow([today, next_week], "thursday") == [today]


def test_a_written_date_is_not_widened_to_its_weekday(on_thursday):
    thursday = appt("b", dt.datetime(2026, 12, 10, 10, 0, tzinfo=IST))
    assert cancelling.narrow([thursday], "the one on 3 dec") == []
    assert cancelling.narrow([thursday], "this thursday") == []  # today's, said so


def test_two_thursdays_stay_ambiguous_and_a_doctor_picks_one(on_thursday):
    a = appt("a", dt.datetime(2026, 12, 10, 9, 0, tzinfo=IST))
    b = appt("b", dt.datetime(2026, 12, 17, 10, 0, tzinfo=IST), doctor="Rahul Verma")
    assert cancelling.narrow([a, b], "thursday") == [a, b]
    assert cancelling.narrow([a, b], "thursday with dr rahul") == [b]

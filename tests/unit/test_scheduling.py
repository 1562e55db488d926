"""actions/scheduling (pure parts): time windows, reading a day, upcoming and nearby appointments, which doctor."""

from __future__ import annotations

import datetime as dt

import pytest

from actions.care.models import Appointment, Practitioner, Slot
from actions.scheduling import days, windows
from actions.scheduling.appointments import nearby, upcoming
from actions.scheduling.practitioners import doctor_queries, find_practitioner
from actions.scheduling.slots import free_slots

TZ = "Asia/Kolkata"
UTC = dt.timezone.utc
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
NOW = dt.datetime(2026, 3, 4, 5, 30, tzinfo=UTC)  # Wednesday 11:00 in India


def slot(hour: int, minute: int = 0, day: int = 9, sid: str = "", allocated: int = 0) -> Slot:
    start = dt.datetime(2026, 3, day, hour, minute, tzinfo=IST).astimezone(UTC)
    return Slot(
        id=sid or f"s{hour}{minute:02d}", start=start, end=start + dt.timedelta(minutes=15), allocated=allocated
    )


# ------------------------------------------------------------------ windows


@pytest.mark.parametrize(
    "start, end, text",
    [
        (dt.time(10), None, "10:00"),
        (dt.time(6), dt.time(12), "06:00-12:00"),
        (None, None, None),
    ],
)
def test_a_window_travels_as_text_and_back(start, end, text):
    assert windows.spec(start, end) == text
    assert windows.window(text) == ((start, end) if start else None)


def test_morning_keeps_the_slots_inside_it_and_an_exact_time_only_that_time():
    day = [slot(h, m) for h in (8, 9, 11, 12, 16) for m in (0, 30)]
    assert [s.id for s in windows.in_window(day, "06:00-12:00", TZ)] == [
        "s800",
        "s830",
        "s900",
        "s930",
        "s1100",
        "s1130",
    ]
    assert [s.id for s in windows.in_window(day, "09:30", TZ)] == ["s930"]
    assert windows.in_window(day, None, TZ) == day


def test_slots_near_an_exact_time_are_the_closest_in_order():
    day = [slot(h, m) for h in (9, 10, 11) for m in (0, 30)]
    assert [s.id for s in windows.slots_near(day, TZ, dt.time(10, 10), None, limit=3)] == ["s930", "s1000", "s1030"]
    # a window with nothing in it: the day's first ones, unless only the window will do
    assert len(windows.slots_near(day, TZ, dt.time(18), dt.time(21), limit=2)) == 2
    assert windows.slots_near(day, TZ, dt.time(18), dt.time(21), strict=True) == []


def test_the_patients_and_the_staffs_window_texts_are_one_format():
    day = dt.date(2026, 3, 9)
    assert windows.encode_when(day, dt.time(6), dt.time(12)) == f"2026-03-09 {windows.spec(dt.time(6), dt.time(12))}"
    assert windows.decode_when("2026-03-09 06:00-12:00") == (day, dt.time(6), dt.time(12))
    assert windows.decode_when("2026-03-09 6 pm") is None


def test_free_slots_are_future_and_not_full():
    now = dt.datetime(2026, 3, 9, 9, 10, tzinfo=IST)
    found = free_slots([slot(9, 30), slot(9, 0), slot(10, 0, allocated=1), slot(11, 0)], now)
    assert [s.id for s in found] == ["s930", "s1100"]


# ------------------------------------------------------------------ days


def test_read_day_from_a_button_or_words():
    assert days.read_day("2026-03-09", NOW, TZ) == (dt.date(2026, 3, 9), None)
    assert days.read_day("friday morning", NOW, TZ) == (dt.date(2026, 3, 6), "06:00-12:00")
    assert days.read_day("tomorrow at 4pm", NOW, TZ) == (dt.date(2026, 3, 5), "16:00")
    assert days.read_day("whenever", NOW, TZ) == (None, None)


def test_a_time_without_a_day_is_today_if_still_ahead_else_tomorrow():
    assert days.when_from_text("at 4pm", NOW, TZ) == "2026-03-04 16:00"
    assert days.when_from_text("at 9am", NOW, TZ) == "2026-03-05 09:00"
    assert days.when_from_text("hello", NOW, TZ) is None


def test_past_days_and_gone_hours():
    today = dt.date(2026, 3, 4)
    assert days.is_past(today - dt.timedelta(days=1), None, None, NOW, TZ)
    assert days.is_past(today, dt.time(9), None, NOW, TZ)  # 9 am, said at 11
    assert not days.is_past(today, dt.time(6), dt.time(12), NOW, TZ)  # this morning: what is left of it
    assert not days.is_past(today, dt.time(16), None, NOW, TZ)
    assert not days.is_past(today + dt.timedelta(days=1), dt.time(9), None, NOW, TZ)


# ------------------------------------------------------------------ appointments

DOC = Practitioner(id="d1", first_name="Asha", last_name="Menon", prefix="Dr.")
OTHER = Practitioner(id="d2", first_name="Rahul", last_name="Verma", prefix="Dr.")


def appt(
    aid: str, start: dt.datetime | None, status: str = "booked", patient: str = "p1", doctor: Practitioner = DOC
) -> Appointment:
    return Appointment(
        id=aid, status=status, slot=Slot(id="s" + aid, start=start, end=start), patient_id=patient, practitioner=doctor
    )


def test_upcoming_for_both_parts():
    at = dt.datetime(2026, 3, 6, 4, 0, tzinfo=UTC)
    found = [
        appt("late", at + dt.timedelta(days=3)),
        appt("soon", at),
        appt("past", NOW - dt.timedelta(hours=1)),
        appt("x", at, "cancelled"),
        appt("seen", at, "fulfilled"),
        appt("in", at, "checked_in"),
        appt("open", None),
        appt("theirs", at, patient="p2"),
    ]
    assert [a.id for a in upcoming(found, NOW)] == ["soon", "theirs", "late", "open"]
    assert [a.id for a in upcoming(found, NOW, patient_id="p1")] == ["soon", "late", "open"]


def test_a_booking_close_to_another_is_found():
    new = slot(10, 0, day=9)
    same_day_same_doctor = appt("a", slot(17, 0, day=9).start)
    within_hours_other_doctor = appt("b", slot(12, 0, day=9).start, doctor=OTHER)
    far = appt("c", slot(17, 0, day=9).start, doctor=OTHER)
    assert nearby([far, same_day_same_doctor], "p1", "d1", new, TZ).id == "a"
    assert nearby([far, within_hours_other_doctor], "p1", "d1", new, TZ).id == "b"
    assert nearby([far], "p1", "d1", new, TZ) is None
    assert nearby([same_day_same_doctor], "p2", "d1", new, TZ) is None  # another family member's


# ------------------------------------------------------------------ which doctor


def test_the_words_after_dr_are_tried_first():
    assert doctor_queries("book me with Dr. Asha on Friday")[:2] == ["Asha on", "Asha"]
    assert doctor_queries("x", "Dr. Asha")[0] == "Dr. Asha"


def test_one_clear_doctor_or_every_close_one():
    pillai = Practitioner(id="d3", first_name="Asha", last_name="Pillai", prefix="Dr.")
    query, found = find_practitioner("book with Dr. Asha Menon", [DOC, OTHER, pillai])
    assert [m.id for m in found] == ["d1"]
    query, found = find_practitioner("book with Dr. Asha", [DOC, OTHER, pillai])
    assert {m.id for m in found} == {"d1", "d3"} and query
    assert find_practitioner("book a slot", [OTHER]) == ("", [])

"""What staff read about patients, slots and appointments (pure): actions/staff/rows.py, and the shared
formatter (actions/shared/formatting) and scheduling helpers (actions/scheduling) the staff lists use."""

from __future__ import annotations

import datetime as dt

import pytest

from actions import scheduling
from actions.care.models import Appointment, MedicationRequest, Patient, Practitioner, Slot
from actions.shared import formatting
from actions.staff import rows as fmt

TODAY = dt.date(2026, 3, 4)  # a Wednesday
UTC = dt.timezone.utc
TZ = "Asia/Kolkata"


def patient(**kw) -> Patient:
    base = dict(
        id="p1", name="Ravi Kumar", gender="male", phone_number="+919812345678", date_of_birth=dt.date(1985, 2, 17)
    )
    base.update(kw)
    return Patient(**base)


def test_age_from_date_of_birth_counts_the_birthday():
    assert fmt.age(patient(date_of_birth=dt.date(1985, 3, 4)), TODAY) == "41 y"
    assert fmt.age(patient(date_of_birth=dt.date(1985, 3, 5)), TODAY) == "40 y"


def test_one_age_format_from_a_year_of_birth_too():
    """ "58 y" everywhere: never "b. 1974" for a patient CARE knows only the year of birth of."""
    assert fmt.age(patient(date_of_birth=None, year_of_birth=1992), TODAY) == "34 y"
    assert fmt.age(patient(date_of_birth=None, year_of_birth=None), TODAY) == ""
    assert "34 y · M" in fmt.patient_facts(patient(date_of_birth=None, year_of_birth=1992), TODAY)
    assert "b. " not in fmt.patient_line(patient(date_of_birth=None, year_of_birth=1992), TODAY)


def test_age_follows_the_day_it_is_given():
    """The caller passes the hospital's day (StaffContext.today): on the birthday in India the age is one
    more, even while it is still the day before in UTC."""
    born = patient(date_of_birth=dt.date(1985, 3, 5))
    assert fmt.age(born, dt.date(2026, 3, 4)) == "40 y"
    assert fmt.age(born, dt.date(2026, 3, 5)) == "41 y"


def test_patient_line_has_name_age_gender_and_a_masked_phone():
    line = fmt.patient_line(patient(), TODAY, 1)
    assert line.startswith("1. *Ravi Kumar*")
    assert "41 y" in line and " M " in line
    assert "9812345678" not in line and "678" in line  # masked: recognisable, not reusable


def test_patient_button_title_fits_a_list_row_and_details_go_to_the_description():
    b = fmt.patient_button(patient(name="Venkata Subramanian Krishnamurthy Iyer"), TODAY, 10)
    assert len(b["title"]) <= fmt.ROW_TITLE_MAX
    assert b["payload"] == '/staff_choose{"staff_choice":"p:p1"}'
    assert "41 y" in b["description"] and len(b["description"]) <= fmt.ROW_DESCRIPTION_MAX


def test_choice_payload_round_trip():
    assert fmt.parse_choice("p:abc") == ("p", "abc")
    assert fmt.parse_choice("d:x-y") == ("d", "x-y")
    for bad in (None, "", "abc", "z:1", "p:", "pp:1"):
        assert fmt.parse_choice(bad) is None


def test_blood_group_reads_short_and_unknown_is_nothing():
    assert fmt.blood_group(patient(blood_group="A_positive")) == "A+"
    assert fmt.blood_group(patient(blood_group="O_negative")) == "O−"
    assert fmt.blood_group(patient(blood_group="unknown")) == ""
    assert fmt.blood_group(patient(blood_group="")) == ""


def test_medication_line_reads_like_a_prescription():
    m = MedicationRequest(
        id="m",
        name="Salbutamol",
        status="active",
        dose="100 ug",
        frequency="Four times a day",
        route="Inhaled",
        as_needed=True,
        duration="30 d",
        instructions="2 puffs when breathless",
    )
    text = formatting.medication_line(m)
    assert text.startswith("• *Salbutamol* 100 ug, Four times a day, Inhaled, when needed, for 30 days")
    assert "_2 puffs when breathless_" in text


def slot(hour: int, minute: int = 0, allocated: int = 0, tokens: int = 1, sid: str = "") -> Slot:
    # local Asia/Kolkata time -> UTC as CARE sends it
    local = dt.datetime(2026, 3, 9, hour, minute, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))
    start = local.astimezone(UTC)
    return Slot(
        id=sid or f"s{hour}{minute:02d}",
        start=start,
        end=start + dt.timedelta(minutes=15),
        allocated=allocated,
        tokens_per_slot=tokens,
        availability_name="Morning OPD",
    )


def test_free_slots_leave_out_full_and_past_ones():
    now = dt.datetime(2026, 3, 9, 4, 0, tzinfo=UTC)  # 09:30 local
    slots = [slot(9, 0), slot(9, 45), slot(10, 0, allocated=1), slot(10, 15)]
    assert [s.id for s in scheduling.free_slots(slots, now)] == ["s945", "s1015"]


def test_slots_near_a_time_and_inside_a_window():
    slots = [slot(h, m) for h in (9, 10, 11, 16, 17) for m in (0, 30)]
    near = scheduling.slots_near(slots, TZ, dt.time(10, 0), None, limit=3)
    assert [formatting.slot_time(s, TZ) for s in near] == ["9:30 am", "10 am", "10:30 am"]
    evening = scheduling.slots_near(slots, TZ, dt.time(16), dt.time(21))
    assert [formatting.slot_time(s, TZ) for s in evening] == ["4 pm", "4:30 pm", "5 pm", "5:30 pm"]
    # nothing in the window: the day's slots in order, so the user still has a choice
    assert len(scheduling.slots_near(slots, TZ, dt.time(21), dt.time(23), limit=4)) == 4


def test_slot_button_shows_the_local_time_and_places_left():
    b = fmt.slot_button(slot(9, 15, tokens=2, sid="abc"), TZ)
    assert b["title"] == "9:15 am" and b["payload"].endswith('"s:abc"}')
    assert "2 places left" in b["description"]


@pytest.mark.parametrize(
    "day, start, end, text",
    [
        (dt.date(2026, 3, 9), None, None, "2026-03-09"),
        (dt.date(2026, 3, 9), dt.time(10), None, "2026-03-09 10:00"),
        (dt.date(2026, 3, 9), dt.time(6), dt.time(12), "2026-03-09 06:00-12:00"),
    ],
)
def test_when_slot_round_trip(day, start, end, text):
    assert scheduling.encode_when(day, start, end) == text
    assert scheduling.decode_when(text) == (day, start, end)


def test_bad_when_slot_values_are_none():
    for bad in (None, "", "tomorrow", "2026-13-01", "2026-03-09 25:00"):
        assert scheduling.decode_when(bad) is None


def test_upcoming_leaves_out_cancelled_fulfilled_and_past_appointments():
    now = dt.datetime(2026, 3, 5, 0, 0, tzinfo=UTC)
    doc = Practitioner(id="d", first_name="Asha", last_name="Menon", prefix="Dr.")

    def appt(aid: str, day: int, status: str = "booked") -> Appointment:
        start = dt.datetime(2026, 3, day, 4, 0, tzinfo=UTC)
        return Appointment(id=aid, status=status, slot=Slot(id="s" + aid, start=start, end=start), practitioner=doc)

    found = scheduling.upcoming(
        [appt("late", 9), appt("past", 4), appt("x", 6, "cancelled"), appt("done", 7, "fulfilled"), appt("soon", 6)],
        now,
    )
    assert [a.id for a in found] == ["soon", "late"]
    line = formatting.appointment_line(found[0], TZ, dt.date(2026, 3, 5))
    assert line == "• tomorrow, 9:30 am with Dr. Asha Menon"

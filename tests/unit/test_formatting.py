"""WhatsApp text for CARE records (actions/shared/formatting): readable on a phone, local times, split safely."""

from __future__ import annotations

import datetime as dt

from actions.care.models import (
    Appointment,
    Coding,
    Condition,
    Encounter,
    MedicationRequest,
    Practitioner,
    ServiceRequest,
    Slot,
)
from actions.shared import formatting

TZ = "Asia/Kolkata"
TODAY = dt.date(2026, 11, 25)
UTC = dt.timezone.utc


def utc(y, m, d, h=0, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=UTC)


def test_medication_block_has_bold_name_dose_frequency_route_and_instructions():
    med = MedicationRequest(
        id="1",
        name="Metformin",
        status="active",
        dose="500 mg",
        frequency="Two times a day",
        route="Oral route",
        instructions="500 mg twice daily with meals",
        duration="30 d",
    )
    [block] = formatting.medication_blocks([med], TZ, TODAY)
    assert block.splitlines() == [
        "💊 *Metformin* 500 mg",
        "• *When:* Two times a day",
        "• *How:* Oral route",
        "• *For:* 30 days",
        "• *Instructions:* 500 mg twice daily with meals",
    ]


def test_as_needed_and_past_medications_say_so():
    med = MedicationRequest(
        id="1",
        name="Salbutamol",
        status="completed",
        as_needed=True,
        frequency="4 times a day",
        authored_on=utc(2026, 11, 5, 6),
    )
    [block] = formatting.medication_blocks([med], TZ, TODAY, past=True)
    assert "(only when needed)" in block and "*Status:* completed" in block and "Thursday 5 Nov" in block


def test_empty_fields_leave_no_empty_lines():
    [block] = formatting.medication_blocks([MedicationRequest(id="1", name="Vitamin D3")], TZ, TODAY)
    assert block == "💊 *Vitamin D3*"


def test_appointment_time_is_local_and_relative():
    appt = Appointment(
        id="a",
        status="booked",
        slot=Slot(id="s", start=utc(2026, 11, 26, 3, 30), end=None),
        practitioner=Practitioner(id="p", first_name="Asha", last_name="Menon", prefix="Dr."),
        facility_name="Shimla District Hospital",
        note="Follow-up",
    )
    [block] = formatting.appointment_blocks([appt], TZ, TODAY)
    assert block.splitlines()[0] == "📅 *tomorrow, 9 am*"  # 03:30 UTC = 09:00 IST
    assert "• *Doctor:* Dr. Asha Menon" in block and "• *Where:* Shimla District Hospital" in block
    assert formatting.appointment_title(appt, TZ, TODAY) == "tomorrow, 9 am · Dr. Asha Menon"


def test_appointments_sorted_by_time():
    def appt(i, hour):
        return Appointment(id=i, status="booked", slot=Slot(id=i, start=utc(2026, 11, 27, hour), end=None))

    blocks = formatting.appointment_blocks([appt("late", 10), appt("early", 4)], TZ, TODAY)
    assert "9:30 am" in blocks[0] and "3:30 pm" in blocks[1]


def test_encounter_with_diagnoses_and_no_symptoms():
    enc = Encounter(
        id="e",
        status="in_progress",
        encounter_class="amb",
        period_start=utc(2026, 11, 22, 3, 30),
        facility_name="Shimla District Hospital",
    )
    diag = Condition(
        id="c",
        code=Coding(display="Diabetes mellitus type 2"),
        category="encounter_diagnosis",
        severity="moderate",
        encounter_id="e",
    )
    symptom = Condition(id="s", code=Coding(display="Fever"), category="problem_list_item", encounter_id="e")
    [block] = formatting.encounter_blocks([enc], [diag, symptom], TZ, TODAY)
    assert block.splitlines() == [
        "🏥 *Shimla District Hospital*",
        "• *Visit:* Outpatient visit",
        "• *Dates:* since Sunday 22 Nov",
        "• *Status:* ongoing",
        "• *Diagnoses:* Diabetes mellitus type 2 (moderate)",
    ]


def test_finished_encounter_has_a_date_range_and_newest_comes_first():
    old = Encounter(
        id="o",
        status="completed",
        encounter_class="imp",
        period_start=utc(2026, 8, 1, 4),
        period_end=utc(2026, 8, 5, 4),
        facility_name="A",
    )
    new = Encounter(
        id="n", status="in_progress", encounter_class="amb", period_start=utc(2026, 11, 20, 4), facility_name="B"
    )
    blocks = formatting.encounter_blocks([old, new], [], TZ, TODAY)
    assert blocks[0].startswith("🏥 *B*")
    assert "Saturday 1 Aug – Wednesday 5 Aug" in blocks[1] and "Admission" in blocks[1]


def test_service_requests_upcoming_first_with_instructions():
    done = ServiceRequest(
        id="x", title="Chest X-ray", status="completed", category="imaging", occurrence=utc(2026, 11, 6, 4, 30)
    )
    soon = ServiceRequest(
        id="c",
        title="Complete blood count",
        status="active",
        category="laboratory",
        occurrence=utc(2026, 11, 26, 2, 30),
        patient_instruction="Fasting for 8 hours",
    )
    blocks = formatting.service_request_blocks([done, soon], TZ, TODAY)
    assert blocks[0].startswith("🧪 *Complete blood count*")
    assert "• *Type:* Lab test" in blocks[0] and "• *When:* tomorrow, 8 am" in blocks[0]
    assert "• *Instructions:* Fasting for 8 hours" in blocks[0]
    assert "Scan / imaging" in blocks[1]


def test_slot_title_is_the_local_time():
    assert formatting.slot_title(Slot(id="s", start=utc(2026, 11, 27, 4, 45), end=None), TZ) == "10:15 am"


def test_pack_keeps_blocks_whole_and_under_the_limit():
    blocks = [f"block {i}\n" + "x" * 80 for i in range(20)]
    messages = formatting.pack(blocks, 400, first_overhead=100)
    assert len(messages[0]) <= 300 and all(len(m) <= 400 for m in messages)
    rejoined = "\n\n".join(messages).split("\n\n")
    assert rejoined == blocks


def test_pack_cuts_a_single_huge_block_at_line_ends():
    block = "\n".join(f"• line {i} " + "y" * 30 for i in range(200))
    messages = formatting.pack([block], 4096)
    assert len(messages) >= 2 and all(len(m) <= 4096 for m in messages)
    assert all(m.startswith("• line") for m in messages)


def test_pack_of_nothing_is_nothing():
    assert formatting.pack([], 4096) == []


def test_humanize_status_codes():
    assert formatting.humanize("in_progress") == "ongoing"
    assert formatting.humanize("entered_in_error") == "entered in error"
    assert formatting.humanize("") == ""


def test_confirmations_show_the_date_next_to_tomorrow():
    appt = Appointment(id="a", status="booked", slot=Slot(id="s", start=utc(2026, 11, 26, 3, 30), end=None))
    assert formatting.appointment_when(appt, TZ, TODAY) == "tomorrow, Thu 26 Nov, 9 am"
    assert (
        formatting.slot_when(Slot(id="s", start=utc(2026, 11, 25, 10, 30), end=None), TZ, TODAY)
        == "today, Wed 25 Nov, 4 pm"
    )
    assert (
        formatting.slot_when(Slot(id="s", start=utc(2026, 11, 27, 4, 45), end=None), TZ, TODAY)
        == "Fri 27 Nov, 10:15 am"
    )
    # lists keep the short form: their heading says the day
    assert formatting.appointment_title(appt, TZ, TODAY).startswith("tomorrow, 9 am")

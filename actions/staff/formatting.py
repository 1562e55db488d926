"""Moved: records are written by actions/shared/formatting, staff rows by actions/staff/rows.py, slots and
appointments picked by actions/scheduling. Kept only until the tests import those (then deleted)."""
from __future__ import annotations

from actions.scheduling.appointments import upcoming
from actions.scheduling.slots import free_slots
from actions.scheduling.windows import decode_when, encode_when, local_time, slots_near
from actions.shared.clock import zone
from actions.shared.formatting import (
    appointment_line,
    diagnosis_line,
    encounter_line,
    lines,
    medication_line,
    past_medication_line,
    procedure_line,
    slot_time,
    when_phrase,
)
from actions.staff.rows import *  # noqa: F401,F403

__all__ = ["appointment_line", "decode_when", "diagnosis_line", "encode_when", "encounter_line", "free_slots",
           "lines", "local_time", "medication_line", "past_medication_line", "procedure_line", "slot_time",
           "slots_near", "upcoming", "when_phrase", "zone"]

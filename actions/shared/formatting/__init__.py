"""One formatter for both parts: CARE records, medications, appointments, procedures and slots as WhatsApp text.

Pure functions (no I/O, no Rasa); local times come from actions/shared/clock.py. The patient part shows
records as blocks (`*_blocks`, joined by `pack`), the staff part as one line each (`*_line`, joined by
`lines`); what the two say about the same thing (a duration, a day, a local time, a status) is written once:
- `text`: status words, labelled lines, packing blocks into messages;
- `when`: local times and day phrases ("tomorrow", "on Friday 27 Nov", "tomorrow at 2 pm");
- `records`, `medications`, `appointments`, `procedures`, `slots`: one module per kind of record.
Local times are the clock's (`zone`, `to_local` from actions/shared/clock.py, named here for callers that
format times themselves): there is no second zone lookup.
"""

from __future__ import annotations

from actions.shared.clock import to_local, zone
from actions.shared.formatting.appointments import (
    appointment_blocks,
    appointment_line,
    appointment_short,
    appointment_title,
    appointment_when,
    doctor_of,
)
from actions.shared.formatting.medications import duration, medication_blocks, medication_line, past_medication_line
from actions.shared.formatting.procedures import procedure_line, service_request_blocks
from actions.shared.formatting.records import diagnosis_line, diagnosis_name, encounter_blocks, encounter_line
from actions.shared.formatting.slots import slot_time, slot_title, slot_when
from actions.shared.formatting.text import humanize, lines, pack, words
from actions.shared.formatting.when import day_phrase, local_time, when_phrase

__all__ = [
    "appointment_blocks",
    "appointment_line",
    "appointment_short",
    "appointment_title",
    "appointment_when",
    "day_phrase",
    "diagnosis_line",
    "diagnosis_name",
    "doctor_of",
    "duration",
    "encounter_blocks",
    "encounter_line",
    "humanize",
    "lines",
    "local_time",
    "medication_blocks",
    "medication_line",
    "pack",
    "past_medication_line",
    "procedure_line",
    "service_request_blocks",
    "slot_time",
    "slot_title",
    "slot_when",
    "to_local",
    "when_phrase",
    "words",
    "zone",
]

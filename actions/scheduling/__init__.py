"""Scheduling with CARE, for patients and staff alike: who can be booked, their free times, booking,
cancelling and moving.

- `practitioners`: the practitioners of a facility and the facility patients book at (cached), which doctor
  a message names (common/names.py), by specialty for staff;
- `slots`: free times on a day, the next days that have some;
- `windows`, `days` (pure): times of day ("morning", "at 10") and the day a message asks for;
- `appointments`: upcoming ones, one close to a new booking, and the book/cancel calls.
What differs between the parts comes in as parameters: the CARE view that reads and books (a patient's own
token session or a staff member's client), the facility, how a call runs. This package imports only
actions.shared, actions.care and common: never the patient or staff part (tests/unit/test_import_graph.py).
"""

from __future__ import annotations

from actions.scheduling.appointments import book, cancel, nearby, upcoming
from actions.scheduling.days import read_day, when_from_text
from actions.scheduling.practitioners import find_practitioner, forget_cache, match_practitioners
from actions.scheduling.slots import LOOKAHEAD_DAYS, free_days, free_slots, free_slots_on, next_free_day
from actions.scheduling.windows import decode_when, encode_when, in_window, slots_near, time_spec

__all__ = [
    "LOOKAHEAD_DAYS",
    "book",
    "cancel",
    "decode_when",
    "encode_when",
    "find_practitioner",
    "forget_cache",
    "free_days",
    "free_slots",
    "free_slots_on",
    "in_window",
    "match_practitioners",
    "nearby",
    "next_free_day",
    "read_day",
    "slots_near",
    "time_spec",
    "upcoming",
    "when_from_text",
]

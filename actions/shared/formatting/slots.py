"""Free times (CARE slots): a list row shows the local time; a confirmation the day and time."""

from __future__ import annotations

import datetime as dt

from actions.care.models import Slot
from actions.shared.formatting.appointments import NO_TIME, NO_TIME_SENTENCE
from actions.shared.formatting.when import local_time
from common.dates import format_local_dated, format_time


def slot_time(slot: Slot, tz: str) -> str:
    """`9:15 am`, "" for a slot without a time."""
    return format_time(local_time(slot.start, tz)) if slot.start else ""


def slot_title(slot: Slot, tz: str) -> str:
    """A list row: `9:15 am` (the day is said in the question above the list)."""
    return slot_time(slot, tz) or NO_TIME


def slot_when(slot: Slot, tz: str, today: dt.date) -> str:
    """For confirmations, like appointment_when: 'tomorrow, Thu 3 Dec, 9:30 am'."""
    return format_local_dated(slot.start, tz, today) if slot.start else NO_TIME_SENTENCE

"""Times of day asked for ("at 10", "morning", "2-4 pm") and which free slots fit them (pure).

A window travels in a slot as text: `HH:MM` for an exact time, `HH:MM-HH:MM` for a part of the day (the
patients' `booking_time`); with the day in front for the staff's `sched_when` ("2026-03-09 06:00-12:00").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from actions.care.models import Slot
from actions.shared.clock import to_local

Window = tuple[dt.time, dt.time | None]  # (start, end); end None: that exact time


def spec(start: dt.time | None, end: dt.time | None = None) -> str | None:
    """`10:00`, `06:00-12:00`; None without a start."""
    if start is None:
        return None
    return start.strftime("%H:%M") + (f"-{end.strftime('%H:%M')}" if end is not None else "")


def time_spec(when: Any) -> str | None:
    """The window of a parsed `common.dates.When`, None when it named no time."""
    return spec(when.start, when.end) if when is not None else None


def window(text: str | None) -> Window | None:
    """`10:00` -> (10:00, None), `06:00-12:00` -> (6:00, 12:00); raises ValueError on a bad time."""
    if not text:
        return None
    start, _, end = text.partition("-")
    return dt.time.fromisoformat(start), dt.time.fromisoformat(end) if end else None


def encode_when(day: dt.date, start: dt.time | None = None, end: dt.time | None = None) -> str:
    """The `sched_when` slot: "2026-03-09", "2026-03-09 10:00" or "2026-03-09 06:00-12:00"."""
    times = spec(start, end)
    return day.isoformat() + (f" {times}" if times else "")


def decode_when(value: str | None) -> tuple[dt.date, dt.time | None, dt.time | None] | None:
    if not value:
        return None
    day_text, _, rest = str(value).partition(" ")
    try:
        day = dt.date.fromisoformat(day_text)
        found = window(rest)
    except ValueError:
        return None
    return (day, *found) if found else (day, None, None)


def starts(slot: Slot) -> dt.datetime:
    """Sort key: the slot's start, one without a time last."""
    return slot.start or dt.datetime.max.replace(tzinfo=dt.timezone.utc)


def local_time(slot: Slot, tz: str | None = None) -> dt.time | None:
    return to_local(slot.start, tz).time() if slot.start else None


def fits(slot: Slot, start: dt.time, end: dt.time | None, tz: str | None = None) -> bool:
    """At that exact time (no end), or inside [start, end); a slot without a time fits any window."""
    t = local_time(slot, tz)
    if end is None:
        return t == start
    return t is None or start <= t < end


def in_window(slots: Sequence[Slot], text: str | None, tz: str | None = None) -> list[Slot]:
    """The slots that fit a window spec (all of them when there is none)."""
    found = window(text)
    if found is None:
        return list(slots)
    return [s for s in slots if fits(s, *found, tz)]


def slots_near(
    slots: Sequence[Slot],
    tz: str | None,
    start: dt.time | None,
    end: dt.time | None,
    limit: int = 10,
    strict: bool = False,
) -> list[Slot]:
    """Up to `limit` free slots: inside the window if any are (only those when `strict`), nearest to an
    exact time first (then in order), else the day's first ones."""
    if start is not None and end is not None:
        inside = [s for s in slots if fits(s, start, end, tz)]
        if inside or strict:
            return inside[:limit]
    if start is not None and end is None:
        minutes = start.hour * 60 + start.minute

        def distance(s: Slot) -> int:
            t = local_time(s, tz) or start
            return abs(t.hour * 60 + t.minute - minutes)

        return sorted(sorted(slots, key=distance)[:limit], key=starts)
    return list(slots[:limit])

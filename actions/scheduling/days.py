"""Which day (and time) a message asks for, on the hospital's clock (pure: `now` and `tz` are given)."""

from __future__ import annotations

import datetime as dt

from actions.scheduling.windows import encode_when, time_spec
from actions.shared.clock import to_local
from common.dates import parse_when

MAX_DAYS_AHEAD = 90  # a patient books at most this far ahead


def read_day(value: str, now: dt.datetime, tz: str) -> tuple[dt.date | None, str | None]:
    """A day answer: an ISO date from a button, or words ("friday morning", "25/12", "tmrw") -> (the day, the
    time window said with it); (None, None) when the text names no day."""
    try:
        return dt.date.fromisoformat(value.strip()), None
    except ValueError:
        pass
    when = parse_when(value, now, tz)
    if when is None:
        return None, None
    return when.day, time_spec(when)


def when_from_text(text: str, now: dt.datetime, tz: str) -> str | None:
    """The `sched_when` value for a message ("2026-03-09 10:00"), or None. A time without a day is today if
    still ahead, else tomorrow ("at 4pm")."""
    w = parse_when(text, now, tz)
    if w is None or (w.day is None and w.start is None):
        return None
    local_now = to_local(now, tz)
    day = w.day
    if day is None:
        day = local_now.date()
        if w.start is not None and w.start <= local_now.time():
            day = day + dt.timedelta(days=1)
    return encode_when(day, w.start, w.end)


def is_past(day: dt.date, start: dt.time | None, end: dt.time | None, now: dt.datetime, tz: str) -> bool:
    """A day before today, or an exact time today that has gone (a part of today still counts)."""
    local_now = to_local(now, tz)
    if day != local_now.date():
        return day < local_now.date()
    return start is not None and end is None and start < local_now.time()

"""Local times and day phrases, said the same way to patients and staff.

Every CARE datetime is shown in the hospital's zone through `actions.shared.clock.to_local` (a naive one is
UTC, as CARE sends it)."""

from __future__ import annotations

import datetime as dt

from actions.shared.clock import to_local
from common.dates import format_date, format_day, format_day_dated, format_time

RELATIVE_DAYS = ("today", "tomorrow", "yesterday")


def local_time(value: dt.datetime, tz: str | None = None) -> dt.time:
    """The local wall-clock time (naive) of a CARE datetime."""
    return to_local(value, tz).time()


def local_date(value: dt.datetime | None, tz: str | None = None) -> dt.date | None:
    return to_local(value, tz).date() if value is not None else None


def day_of(value: dt.datetime | None, tz: str, today: dt.date) -> str:
    """'today', 'Friday 27 Nov' for a CARE datetime; "" for none."""
    d = local_date(value, tz)
    return format_day(d, today) if d else ""


def day_phrase(day: dt.date, today: dt.date, dated: bool = False) -> str:
    """A day after "free" or "no appointment": "today", "tomorrow", "on Friday 27 Nov". `dated` puts the date
    next to a relative day ("tomorrow (Thu 3 Dec)"), as the patient part says it."""
    said = format_day(day, today)
    if said in RELATIVE_DAYS:
        return format_day_dated(day, today) if dated else said
    return f"on {said}"


def when_phrase(start: dt.datetime, tz: str, today: dt.date, on: bool = True) -> str:
    """For a sentence: "tomorrow at 2 pm", "today at 9:30 am", "on Mon 30 Nov at 9 am". `on=False` after
    another preposition ("move it to Mon 30 Nov at 9 am"). Not for confirmations and their questions: those
    always carry the date (common.dates.format_local_dated: "tomorrow, Thu 3 Dec, 2 pm")."""
    local = to_local(start, tz)
    day, time_text = local.date(), format_time(local.time())
    if day == today:
        return f"today at {time_text}"
    if day == today + dt.timedelta(days=1):
        return f"tomorrow at {time_text}"
    return f"{'on ' if on else ''}{format_date(day, today)} at {time_text}"

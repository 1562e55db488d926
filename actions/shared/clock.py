"""One clock and one time zone: the hospital's (CARE_TIMEZONE). Every "now", "today" and local time of the
assistant comes from here, so a patient and a nurse asking the same question at the same moment agree."""

from __future__ import annotations

import datetime as dt
import functools

from settings import get_settings


def timezone_name() -> str:
    return get_settings().care_timezone


@functools.lru_cache(maxsize=8)
def zone(tz: str | None = None) -> dt.tzinfo:
    """The tzinfo of `tz` (default: the hospital's)."""
    name = tz or timezone_name()
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:  # no system tz database (slim images): pytz ships its own
        import pytz

        return pytz.timezone(name)


def now() -> dt.datetime:
    """The current moment, aware, in the hospital's zone (comparisons with CARE's UTC times are exact)."""
    return dt.datetime.now(zone())


def today() -> dt.date:
    """The hospital's date (not the server's, which runs in UTC)."""
    return now().date()


def to_local(value: dt.datetime, tz: str | None = None) -> dt.datetime:
    """CARE's UTC (or offset) datetime in the hospital's zone; a naive one is taken as UTC, as CARE sends."""
    aware = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return aware.astimezone(zone(tz))

"""A doctor's free times on a day, and the next days that have some (read with the asker's own CARE view)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from actions.care.calls import care_call
from actions.care.models import Slot
from actions.scheduling.appointments import Client
from actions.scheduling.windows import starts
from actions.shared import clock

LOOKAHEAD_DAYS = 14  # how far to look for the next free day


def free_slots(slots: Iterable[Slot], now: dt.datetime) -> list[Slot]:
    """The slots with a place left that start after `now`, soonest first."""
    return sorted((s for s in slots if s.is_free and s.start is not None and s.start > now), key=starts)


async def free_slots_on(client: Client, facility_id: str, practitioner_id: str, day: dt.date) -> list[Slot]:
    return free_slots(await care_call(client.get_slots_for_day, facility_id, practitioner_id, day), clock.now())


async def free_days(
    client: Client, facility_id: str, practitioner_id: str, after: dt.date, count: int, horizon: int = LOOKAHEAD_DAYS
) -> list[dt.date]:
    """The next `count` days (from `after`, included) with a free time, within `horizon` days."""
    days: list[dt.date] = []
    for i in range(horizon):
        day = after + dt.timedelta(days=i)
        if await free_slots_on(client, facility_id, practitioner_id, day):
            days.append(day)
            if len(days) >= count:
                break
    return days


async def next_free_day(
    client: Client, facility_id: str, practitioner_id: str, after: dt.date, horizon: int = LOOKAHEAD_DAYS
) -> dt.date | None:
    """The first day after `after` (within `horizon` days) with a free time."""
    found = await free_days(client, facility_id, practitioner_id, after + dt.timedelta(days=1), 1, horizon)
    return found[0] if found else None

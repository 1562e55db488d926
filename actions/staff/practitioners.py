"""The practitioners a staff member can book with, and their free slots: actions/scheduling with the staff
member's own CARE client, over every facility of their login (cached per staff member)."""

from __future__ import annotations

import datetime as dt

from actions.care.models import Slot
from actions.scheduling import practitioners as directory
from actions.scheduling import slots
from actions.scheduling.practitioners import Found, forget_cache
from actions.scheduling.slots import LOOKAHEAD_DAYS
from actions.staff.session import StaffContext

__all__ = ["LOOKAHEAD_DAYS", "forget_cache", "free_slots_on", "match_practitioners", "next_free_day", "practitioners"]


async def practitioners(ctx: StaffContext) -> Found:
    """(facility id, practitioner) for every facility of the staff member."""
    return await directory.practitioners_at(
        ctx.care, ctx.login.facility_ids, key=f"staff:{ctx.login.user_id}", call=ctx.call
    )


async def match_practitioners(ctx: StaffContext, query: str) -> Found:
    """Best-first practitioners for a name ("Dr. Asha") or a specialty ("cardiologist", "child doctor")."""
    return await directory.match_practitioners(ctx.care, await practitioners(ctx), query, call=ctx.call)


async def free_slots_on(ctx: StaffContext, fid: str, pid: str, day: dt.date) -> list[Slot]:
    return await slots.free_slots_on(ctx.care, fid, pid, day)


async def next_free_day(ctx: StaffContext, fid: str, pid: str, after: dt.date) -> dt.date | None:
    return await slots.next_free_day(ctx.care, fid, pid, after)

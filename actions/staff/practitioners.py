"""The practitioners staff can book with, and their free slots.

Practitioners are matched by name ("Dr. Asha") or by specialty ("cardiologist", "child doctor": the names
and reasons of their schedules); two that fit about equally are both returned, never one guessed.
Lists are cached for a few minutes per staff member.
"""
from __future__ import annotations

import datetime as dt
import time

from actions.care.errors import CareForbidden
from actions.care.models import Practitioner, Slot
from actions.staff import formatting as fmt
from actions.staff.session import StaffContext
from common.names import is_ambiguous, match_names, match_specialty

LOOKAHEAD_DAYS = 14  # how far to look for the next free day
CLEAR_SCORE = 85
CACHE_SECONDS = 600


# ------------------------------------------------------------------ practitioners

_practitioners: dict[tuple[str, str], tuple[float, list[tuple[str, Practitioner]]]] = {}
_specialties: dict[tuple[str, str], tuple[float, str]] = {}


async def practitioners(ctx: StaffContext) -> list[tuple[str, Practitioner]]:
    """(facility id, practitioner) for every facility of the staff member; cached for a few minutes."""
    key = (ctx.login.user_id, ",".join(ctx.login.facility_ids))
    hit = _practitioners.get(key)
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    found: list[tuple[str, Practitioner]] = []
    for fid in ctx.login.facility_ids:
        found += [(fid, p) for p in await ctx.call(ctx.care.list_practitioners, fid)]
    _practitioners[key] = (time.monotonic(), found)
    return found


def _schedule_text(ctx: StaffContext, fid: str, pid: str) -> str:
    """Names and reasons of a practitioner's schedules ("Cardiology OPD", "Child health"): what a specialty
    is matched against. CareClient has no schedule call yet, so its generic page reader is used."""
    key = (fid, pid)
    hit = _specialties.get(key)
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    try:
        rows = ctx.care._pages("/api/v1/facility/{fid}/schedule/", fid=fid,  # noqa: SLF001 (see docstring)
                               params={"resource_type": "practitioner", "resource_id": pid})
    except CareForbidden:
        rows = []
    words = []
    for sc in rows:
        words.append(str(sc.get("name") or ""))
        for av in sc.get("availabilities") or []:
            words += [str(av.get("name") or ""), str(av.get("reason") or "")]
    text = " ".join(w for w in words if w)
    _specialties[key] = (time.monotonic(), text)
    return text


async def match_practitioners(ctx: StaffContext, query: str) -> list[tuple[str, Practitioner]]:
    """Best-first practitioners for a name ("Dr. Asha") or a specialty ("cardiologist", "child doctor")."""
    found = await practitioners(ctx)
    by_id = {p.id: (fid, p) for fid, p in found}
    matches = match_names(query, [(p.id, p.name) for _, p in found], cutoff=70)
    if not matches:
        texts = [(p.id, await ctx.call(_schedule_text, ctx, fid, p.id)) for fid, p in found]
        matches = match_specialty(query, [(pid, t) for pid, t in texts if t])
    if matches and matches[0].score >= CLEAR_SCORE and not is_ambiguous(matches):
        return [by_id[matches[0].id]]
    top = matches[0].score if matches else 0
    return [by_id[m.id] for m in matches if top - m.score < 8]


def practitioner_button(p: Practitioner) -> dict[str, str]:
    return fmt.button(p.name, fmt.choice_payload(fmt.CHOICE_DOCTOR, p.id), p.user_type.capitalize())


# ------------------------------------------------------------------ slots

async def free_slots_on(ctx: StaffContext, fid: str, pid: str, day: dt.date) -> list[Slot]:
    return fmt.free_slots(await ctx.call(ctx.care.get_slots_for_day, fid, pid, day), ctx.now())


async def next_free_day(ctx: StaffContext, fid: str, pid: str, after: dt.date) -> dt.date | None:
    for n in range(1, LOOKAHEAD_DAYS + 1):
        day = after + dt.timedelta(days=n)
        if await free_slots_on(ctx, fid, pid, day):
            return day
    return None


def forget_cache() -> None:
    _practitioners.clear()
    _specialties.clear()

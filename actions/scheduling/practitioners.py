"""Who can be booked, and which of them a message means.

The practitioners of a facility (and the facility a patient books at) are cached for a few minutes. A doctor
is matched by name with common/names.py, trying the most specific words of the message first ("Dr. Asha" in
"book me with Dr. Asha on Friday"); for staff, a specialty ("cardiologist", "child doctor") is matched against
the names and reasons of the doctors' schedules. Doctors that fit about equally are all returned (the user
picks), never one guessed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from actions.care.calls import care_call
from actions.care.client import CareClient
from actions.care.errors import CareForbidden, CareNotFound
from actions.care.models import Practitioner
from common.names import REQUEST_FILLER, Match, is_ambiguous, match_names, match_specialty, usable_name

CACHE_SECONDS = 600.0
AMBIGUITY_MARGIN = 8  # matches this close to the best one are as likely (common.names.is_ambiguous)
DOCTOR_RE = re.compile(r"\b(?:dr|doctor|doc)\b\.?\s*([a-z]+(?:\s+[a-z]+)?)", re.I)

# Words around a doctor's name in a request ("BOOK WITH DR ASHA", "i want to see asha tomorrow morning"): the
# fuzzy match runs on what is left, never on these
_DOCTOR_FILLER = REQUEST_FILLER | frozenset(
    {
        "dr", "doctor", "doc", "my", "me", "on", "slot", "slots", "appointments", "consultation", "visit",
        "review", "checkup", "need", "fix", "make", "new", "time", "date", "day", "when", "which", "what",
        "today", "tomorrow", "morning", "afternoon", "evening", "night", "next", "week", "am", "pm", "and",
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
        "mon", "tue", "wed", "thu", "fri", "sat", "sun", "it", "ji", "sir", "madam", "mam", "from",
        "tablets", "tablet", "medicines", "medicine", "medications", "medication", "meds", "records", "record",
        "reports", "report", "results", "procedures", "history", "bill", "prescription",
    }
)  # fmt: skip

Call = Callable[..., Awaitable[Any]]
Found = list[tuple[str, Practitioner]]  # (facility id, practitioner)

_cache: dict[str, tuple[float, Any]] = {}


# ------------------------------------------------------------------ cache


async def cached(key: str, load: Callable[[], Awaitable[Any]]) -> Any:
    hit = _cache.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    value = await load()
    _cache[key] = (time.monotonic() + CACHE_SECONDS, value)
    return value


def forget_cache() -> None:
    _cache.clear()


# ------------------------------------------------------------------ where and who


async def home_facility(client: CareClient, call: Call = care_call) -> str:
    """The facility of an account (its first one; else the first it sees): where patients book."""

    async def load() -> str:
        user = await call(client.current_user)
        if user.facilities:
            return user.facilities[0].id
        facilities = await call(client.list_facilities)
        if not facilities:
            raise CareNotFound("the account sees no facility")
        return facilities[0].id

    return await cached("facility", load)


async def practitioners_at(client: CareClient, facility_ids: Sequence[str], key: str, call: Call = care_call) -> Found:
    """(facility id, practitioner) for every facility, read with `client`; cached under `key` (whose view)."""

    async def load() -> Found:
        found: Found = []
        for fid in facility_ids:
            found += [(fid, p) for p in await call(client.list_practitioners, fid)]
        return found

    return await cached(f"practitioners:{key}:{','.join(facility_ids)}", load)


# ------------------------------------------------------------------ matching a name (pure)


def doctor_queries(text: str, entity_value: str | None = None) -> list[str]:
    """What in a message may be a doctor's name, most specific first: the NLU's `practitioner` (unless it is
    one letter or filler), the words after "Dr", then the words left when the request's words are dropped
    (whatever their case), and each of them alone. Never the whole message: a fuzzy match on "book" or
    "review" finds nobody, or somebody by chance."""
    queries = [entity_value] if entity_value and usable_name(entity_value, _DOCTOR_FILLER) else []
    m = DOCTOR_RE.search(text or "")
    if m:
        words = m.group(1).split()
        queries += [" ".join(words), words[0]]
    rest = usable_name(text, _DOCTOR_FILLER)
    if rest:
        queries.append(rest)
        words = rest.split()
        if len(words) > 1:
            queries += [w for w in words if len(w) >= 3]
    return [q for i, q in enumerate(queries) if q and q.strip() and q not in queries[:i]]


def closest(matches: list[Match]) -> list[Match]:
    """The best match alone when it is clear; else every match about as good as the best."""
    if not is_ambiguous(matches, AMBIGUITY_MARGIN):
        return matches[:1]
    return [m for m in matches if matches[0].score - m.score < AMBIGUITY_MARGIN]


def find_practitioner(
    text: str, pracs: Sequence[Practitioner], entity_value: str | None = None
) -> tuple[str, list[Match]]:
    """(the words that named a doctor, the doctors they fit: one, or several when it is ambiguous)."""
    candidates = [(p.id, p.name) for p in pracs]
    for query in doctor_queries(text, entity_value):
        matches = match_names(query, candidates)
        if matches:
            return query, closest(matches)
    return "", []


# ------------------------------------------------------------------ matching a specialty (staff)


def schedule_text(client: CareClient, facility_id: str, practitioner_id: str) -> str:
    """Names and reasons of a practitioner's schedules ("Cardiology OPD", "Child health"): what a specialty
    is matched against (blocking: run it with care_call). CareClient has no schedule call yet, so its generic
    page reader is used; cached like the practitioners."""
    key = f"schedule:{facility_id}:{practitioner_id}"
    hit = _cache.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    try:
        rows = client._pages(
            "/api/v1/facility/{fid}/schedule/",
            fid=facility_id,
            params={"resource_type": "practitioner", "resource_id": practitioner_id},
        )
    except CareForbidden:
        rows = []
    words = []
    for sc in rows:
        words.append(str(sc.get("name") or ""))
        for av in sc.get("availabilities") or []:
            words += [str(av.get("name") or ""), str(av.get("reason") or "")]
    text = " ".join(w for w in words if w)
    _cache[key] = (time.monotonic() + CACHE_SECONDS, text)
    return text


async def match_practitioners(client: CareClient, found: Found, query: str, call: Call = care_call) -> Found:
    """Best-first practitioners for a name ("Dr. Asha") or, when no name fits, a specialty ("cardiologist",
    "child doctor")."""
    by_id = {p.id: (fid, p) for fid, p in found}
    _, matches = find_practitioner(query, [p for _, p in found])
    if not matches:
        texts = [(p.id, await call(schedule_text, client, fid, p.id)) for fid, p in found]
        matches = closest(match_specialty(query, [(pid, t) for pid, t in texts if t]))
    return [by_id[m.id] for m in matches]

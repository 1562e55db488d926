"""Visits and diagnoses: blocks for a patient, one line each for staff."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from actions.care.models import Condition, Encounter
from actions.shared.formatting.text import humanize, join, line, words
from actions.shared.formatting.when import day_of
from common.dates import format_local

# CARE's encounter classes (FHIR ActCode): in words a patient uses, and as the ward says them
ENCOUNTER_CLASSES = {
    "amb": "Outpatient visit",
    "imp": "Admission",
    "emer": "Emergency visit",
    "obsenc": "Observation",
    "hh": "Home visit",
    "vr": "Online consultation",
}
ENCOUNTER_CLASSES_STAFF = {
    "amb": "OP",
    "imp": "IP",
    "emer": "emergency",
    "hh": "home visit",
    "vr": "tele",
    "obsenc": "observation",
}
_NO_DIAGNOSIS = ("refuted", "entered_in_error")
_EARLIEST = dt.datetime.min.replace(tzinfo=dt.timezone.utc)


def diagnosis_name(cond: Condition) -> str:
    """ "Diabetes mellitus type 2 (moderate, provisional)": the name with its severity and certainty."""
    extra = [w for w in (cond.severity, "provisional" if cond.verification_status == "provisional" else "") if w]
    return f"{cond.name} ({', '.join(extra)})" if extra else cond.name


def diagnosis_line(cond: Condition) -> str:
    return f"• {diagnosis_name(cond)}"


def encounter_blocks(
    encounters: Sequence[Encounter], diagnoses: Sequence[Condition], tz: str, today: dt.date
) -> list[str]:
    """Visits, newest first, each with its diagnoses (symptoms left out: the issue asks for diagnoses)."""
    by_encounter: dict[str, list[Condition]] = {}
    for cond in diagnoses:
        if not cond.is_symptom and cond.verification_status not in _NO_DIAGNOSIS:
            by_encounter.setdefault(cond.encounter_id, []).append(cond)
    ordered = sorted(encounters, key=lambda e: e.period_start or _EARLIEST, reverse=True)
    blocks = []
    for enc in ordered:
        start, end = day_of(enc.period_start, tz, today), day_of(enc.period_end, tz, today)
        dates = f"{start} – {end}" if start and end and start != end else start
        if start and not end and enc.is_active:
            dates = f"since {start}"
        names = [diagnosis_name(c) for c in by_encounter.get(enc.id, [])]
        blocks.append(
            join(
                [
                    f"🏥 *{enc.facility_name or 'Hospital visit'}*",
                    line("Visit", ENCOUNTER_CLASSES.get(enc.encounter_class, "Visit")),
                    line("Dates", dates),
                    line("Status", humanize(enc.status)),
                    line("Diagnoses", ", ".join(names)),
                ]
            )
        )
    return blocks


def encounter_line(e: Encounter, tz: str, today: dt.date) -> str:
    """ "• OP (IP-1234) at Shimla District Hospital, in progress since tomorrow, 9 am"."""
    kind = ENCOUNTER_CLASSES_STAFF.get(e.encounter_class, e.encounter_class or "visit")
    since = f" since {format_local(e.period_start, tz, today)}" if e.period_start else ""
    where = f" at {e.facility_name}" if e.facility_name else ""
    ident = f" ({e.external_identifier})" if e.external_identifier else ""
    return f"• {kind}{ident}{where}, {words(e.status)}{since}"

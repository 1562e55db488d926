"""Medicines: what, how much, when and for how long; blocks for a patient, one line each for staff."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from actions.care.models import MedicationRequest
from actions.shared.formatting.text import humanize, join, line, words
from actions.shared.formatting.when import day_of

# UCUM units as CARE sends durations ("5 d", "2 wk")
DURATION_UNITS = {"d": "day", "wk": "week", "mo": "month", "h": "hour", "min": "minute", "a": "year"}


def duration(code: str) -> str:
    """`5 d` -> `5 days`, `1 d` -> `1 day`, `2 wk` -> `2 weeks`; anything else as CARE wrote it ("5 days",
    "as directed": never "5 dayss")."""
    parts = (code or "").split()
    if len(parts) != 2 or parts[1] not in DURATION_UNITS:
        return code or ""
    number, unit = parts
    return f"{number} {DURATION_UNITS[unit]}" + ("" if number == "1" else "s")


def medication_blocks(meds: Sequence[MedicationRequest], tz: str, today: dt.date, *, past: bool = False) -> list[str]:
    """Current medicines with dose, frequency, route and instructions; past ones add status and date."""
    blocks = []
    for med in sorted(meds, key=lambda m: m.name.lower()):
        title = f"💊 *{med.name}*" + (f" {med.dose}" if med.dose else "")
        when = med.frequency + (" (only when needed)" if med.as_needed else "")
        parts = [
            title,
            line("When", when),
            line("How", med.route),
            line("For", duration(med.duration)),
            line("Instructions", med.instructions),
        ]
        if past:
            parts.append(line("Status", humanize(med.status)))
            parts.append(line("Prescribed", day_of(med.authored_on, tz, today)))
        blocks.append(join(parts))
    return blocks


def medication_line(m: MedicationRequest) -> str:
    """ "• *Salbutamol* 100 ug, Four times a day, Inhaled, when needed, for 30 days" (+ instructions)."""
    details = [x for x in (m.dose, m.frequency, m.route if m.route and m.route != "Oral route" else "") if x]
    if m.as_needed:
        details.append("when needed")
    if m.duration:
        details.append(f"for {duration(m.duration)}")
    text = f"• *{m.name}*"
    if details:
        text += " " + ", ".join(details)
    if m.instructions:
        text += f"\n  _{m.instructions}_"
    return text


def past_medication_line(m: MedicationRequest) -> str:
    return f"• {m.name} ({words(m.status)})"

"""Procedures, lab tests and scans: blocks for a patient, one line each for staff."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from actions.care.models import ServiceRequest
from actions.shared.formatting.text import humanize, join, line
from common.dates import format_local

SERVICE_CATEGORIES = {
    "laboratory": "Lab test",
    "imaging": "Scan / imaging",
    "surgical_procedure": "Procedure",
    "counselling": "Counselling",
    "education": "Education",
}
_DONE = ("completed", "revoked", "entered_in_error")
_LATEST = dt.datetime.max.replace(tzinfo=dt.timezone.utc)


def procedure_name(sr: ServiceRequest) -> str:
    return sr.title or sr.code.display


def service_request_blocks(requests_: Sequence[ServiceRequest], tz: str, today: dt.date) -> list[str]:
    """Upcoming first (by planned date), then done ones."""

    def key(sr: ServiceRequest) -> tuple[int, dt.datetime]:
        return (1 if sr.status in _DONE else 0, sr.occurrence or _LATEST)

    return [
        join(
            [
                f"🧪 *{procedure_name(sr)}*",
                line("Type", SERVICE_CATEGORIES.get(sr.category, humanize(sr.category).capitalize())),
                line("When", format_local(sr.occurrence, tz, today) if sr.occurrence else ""),
                line("Status", humanize(sr.status)),
                line("Priority", sr.priority if sr.priority and sr.priority != "routine" else ""),
                line("Instructions", sr.patient_instruction),
            ]
        )
        for sr in sorted(requests_, key=key)
    ]


def procedure_line(sr: ServiceRequest, tz: str, today: dt.date) -> str:
    """ "• *Chest X-ray*, tomorrow, 9 am (completed)" and the instructions below."""
    when = f", {format_local(sr.occurrence, tz, today)}" if sr.occurrence else ""
    status = f" ({sr.status})" if sr.status and sr.status != "active" else ""
    text = f"• *{procedure_name(sr)}*{when}{status}"
    if sr.patient_instruction:
        text += f"\n  _{sr.patient_instruction}_"
    return text

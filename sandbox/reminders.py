"""In-process stand-ins for the reminder workers' tests and benchmark: a CARE that answers from memory
(`MemoryCare`, the notifications.care.CareReads the scan and the sender read) and a Graph `send` that checks and
records what it is given (`RecordingGraph`), with CARE's and Graph's shapes.

The WhatsApp simulator (sandbox/whatsapp/) is the stand-in over HTTP; these skip the network where a test or a
measurement is about the workers' logic, not the transport.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections import Counter, defaultdict, deque
from collections.abc import Mapping
from typing import Any

from actions.care.errors import CareUnavailable
from actions.care.models import Appointment
from connectors.whatsapp.graph import GraphError, InvalidParameter
from notifications.templates import validate

UTC = dt.timezone.utc
GTS = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def appointment_json(
    appointment_id: str,
    patient_id: str,
    start: dt.datetime,
    *,
    status: str = "booked",
    booked_on: dt.datetime | None = None,
    facility_name: str = "Shimla District Hospital",
) -> dict[str, Any]:
    """An appointment as CARE's `get_appointments` lists it (the fields the reminders read)."""
    return {
        "id": appointment_id,
        "status": status,
        "token_slot": {"id": f"slot-{appointment_id}", "start_datetime": _iso(start), "end_datetime": _iso(start)},
        "patient": {"id": patient_id, "name": "Patient"},
        "facility": {"id": "facility-1", "name": facility_name},
        "booked_on": _iso(booked_on) if booked_on else None,
    }


def medication_request(
    request_id: str,
    *,
    code: str = "BID",
    frequency: int | None = None,
    period: float = 1,
    period_unit: str = "d",
    status: str = "active",
    authored_on: dt.datetime | None = None,
    days: float | None = None,
    as_needed: bool = False,
) -> dict[str, Any]:
    """A medication request as CARE sends it: the dosage timing the reminders are worked out from."""
    per_day = {"QD": 1, "BID": 2, "TID": 3, "QID": 4, "HS": 1}
    repeat: dict[str, Any] = {
        "frequency": frequency if frequency is not None else per_day.get(code, 1),
        "period": period,
        "period_unit": period_unit,
    }
    if days is not None:
        repeat["bounds_duration"] = {"unit": "d", "value": float(days)}
    return {
        "id": request_id,
        "status": status,
        "authored_on": _iso(authored_on) if authored_on else None,
        "medication": {"code": "0", "display": "a medicine"},
        "dosage_instruction": [
            {"timing": {"code": {"code": code, "system": GTS}, "repeat": repeat}, "as_needed_boolean": as_needed}
        ],
    }


class MemoryCare:
    """CARE's appointments and medication requests by patient, from memory; counts the reads; can be down."""

    def __init__(self) -> None:
        self._appointments: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self._requests: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self.reads: Counter[str] = Counter()
        self.down = False
        self._lock = threading.Lock()

    def add_appointment(self, patient_id: str, appointment_id: str, start: dt.datetime, **kwargs: Any) -> None:
        self._appointments[patient_id][appointment_id] = appointment_json(appointment_id, patient_id, start, **kwargs)

    def set_appointment(self, patient_id: str, appointment_id: str, **changes: Any) -> None:
        """`status="cancelled"`, or `start=<datetime>` (moved)."""
        found = self._appointments[patient_id][appointment_id]
        if "start" in changes:
            found["token_slot"]["start_datetime"] = _iso(changes.pop("start"))
        found.update(changes)

    def add_request(self, patient_id: str, request: Mapping[str, Any]) -> None:
        self._requests[patient_id][str(request["id"])] = dict(request)

    def set_request(self, patient_id: str, request_id: str, **changes: Any) -> None:
        self._requests[patient_id][request_id].update(changes)

    def appointments(self, patient_id: str) -> list[Appointment]:
        self._read("appointments")
        return [Appointment.from_api(a) for a in self._appointments.get(patient_id, {}).values()]

    def medication_requests(self, patient_id: str) -> list[Mapping[str, Any]]:
        self._read("medication_requests")
        return list(self._requests.get(patient_id, {}).values())

    def _read(self, what: str) -> None:
        with self._lock:
            self.reads[what] += 1
        if self.down:
            raise CareUnavailable("CARE is down (stand-in)")


class RecordingGraph:
    """A `send` for notifications.sender.Sender: refuses a template send the registry would refuse (as Graph and
    the simulator do), records each accepted body and answers its wamid; `fail_next` arms an error."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self._failures: deque[GraphError] = deque()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def fail_next(self, *errors: GraphError) -> None:
        self._failures.extend(errors)

    def __call__(self, payload: Mapping[str, Any]) -> str:
        with self._lock:
            if self._failures:
                raise self._failures.popleft()
            if payload.get("type") == "template":
                problems = validate(payload, ours=True)
                if problems:
                    raise InvalidParameter(problems[0].details, http_status=400, code=problems[0].code)
            self.sent.append(dict(payload))
            return f"wamid.stand-in.{next(self._ids)}"

    def ids(self) -> list[str]:
        """The notification ids sent, in order (biz_opaque_callback_data)."""
        return [str(p.get("biz_opaque_callback_data")) for p in self.sent]

"""Helpers of the reminder worker tests: a store on SQLite or on PostgreSQL in a schema of its own (dropped after),
opt-ins, and a due reminder for an appointment or a dose."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from notifications.store import NotificationStore
from notifications.timing import APPOINTMENTS, MEDICATIONS, appointment_key, medication_key, zone
from sessions.crypto import Keys

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379"
SECRET = "reminder-tests-" + uuid.uuid4().hex
IST = zone("Asia/Kolkata")
UTC = dt.timezone.utc
PHONE = "+919876543210"
SENDER = PHONE.lstrip("+")


@contextlib.contextmanager
def pg_schema() -> Iterator[str]:
    """A PostgreSQL URL whose tables live in a fresh schema, dropped afterwards."""
    schema = f"reminders_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL, future=True)
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except Exception as exc:  # noqa: BLE001  # pragma: no cover - a CI machine without the service is a failed run
        pytest.fail(f"PostgreSQL at {PG_URL} not reachable: {exc}")
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def open_store(url: str, **kwargs) -> NotificationStore:
    return NotificationStore(url, Keys(SECRET), **kwargs)


def opt_in(
    store: NotificationStore,
    patient: str,
    purpose: str,
    phone: str = PHONE,
    *,
    method: str = "words",
    wording_shown: str = "Shall I remind you? [Yes] [No]",
    **kwargs,
):
    return store.set_consent(
        patient,
        purpose,
        opted_in=True,
        sender=phone.lstrip("+"),
        phone_e164=phone,
        method=method,
        wording_shown=wording_shown,
        **kwargs,
    )


def opt_out(store: NotificationStore, patient: str, purpose: str, phone: str = PHONE, method: str = "stop_keyword"):
    return store.set_consent(
        patient,
        purpose,
        opted_in=False,
        sender=phone.lstrip("+"),
        phone_e164=phone,
        method=method,
        wording_shown="You will get no more reminders.",
    )


def utc_iso(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def schedule_appointment(
    store: NotificationStore, patient: str, appointment_id: str, slot: dt.datetime, due: dt.datetime, tag: str = "2h"
) -> int:
    """A due appointment reminder (`tag` makes the key unique: many reminders for one appointment)."""
    key = appointment_key(appointment_id, slot, 2).rsplit(":", 1)[0] + f":{tag}"
    store.schedule(
        key,
        patient_id=patient,
        purpose=APPOINTMENTS,
        kind="appointment_reminder",
        due_at=due,
        params={"appointment_id": appointment_id, "slot_start": utc_iso(slot), "offset_hours": 2.0},
    )
    return store.by_key(key).id


def schedule_dose(
    store: NotificationStore, patient: str, request_id: str, day: dt.date, clock: str, chosen: bool = False
) -> int:
    """A medication reminder for `clock` (hospital time) on `day`, due then."""
    at = dt.time.fromisoformat(clock)
    key = medication_key(request_id, day, at)
    store.schedule(
        key,
        patient_id=patient,
        purpose=MEDICATIONS,
        kind="medication_reminder",
        due_at=dt.datetime.combine(day, at, tzinfo=IST).astimezone(UTC),
        params={"request_id": request_id, "local_date": day.isoformat(), "local_time": clock, "chosen": chosen},
    )
    return store.by_key(key).id

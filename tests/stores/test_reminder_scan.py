"""The scheduling scan, on SQLite and PostgreSQL, against an in-process CARE: opted-in patients' appointments and
medications become due reminders for the next 26 h, once; what CARE stops backing is cancelled; each patient is
read again only when their turn comes, a new opt-in at once, and a scan stopped by its budget resumes."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from reminder_support import IST, UTC, open_store, opt_in, opt_out, pg_schema

from notifications.scan import ScanConfig, scan
from notifications.store import CANCELLED, SCHEDULED, NotificationStore
from notifications.timing import APPOINTMENTS, MEDICATIONS, QuietHours
from sandbox.reminders import MemoryCare, medication_request

NOW = dt.datetime(2026, 12, 8, 9, 0, tzinfo=IST)
CONFIG = ScanConfig(tz=IST, quiet=QuietHours.parse("22:00-07:00"), batch_size=50)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'assistant.db'}"
        return
    with pg_schema() as pg:
        yield pg


@pytest.fixture
def store(url):
    opened = open_store(url)
    yield opened
    opened.engine.dispose()


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def care() -> MemoryCare:
    care = MemoryCare()
    care.add_appointment("ramesh", "appt-1", NOW + dt.timedelta(days=1, hours=5), booked_on=NOW - dt.timedelta(days=2))
    care.add_appointment("ramesh", "appt-old", NOW - dt.timedelta(days=7), status="fulfilled")
    care.add_request("ramesh", medication_request("med-bid", code="BID"))
    care.add_request("ramesh", medication_request("med-prn", code="QID", as_needed=True))
    care.add_request("ramesh", medication_request("med-done", code="QD", status="completed"))
    care.add_request("sunita", medication_request("med-sunita", code="QD"))
    return care


def keys(store: NotificationStore, status: str = SCHEDULED) -> list[str]:
    import sqlalchemy as sa

    from notifications.store import notifications as t

    with store.engine.connect() as conn:
        return sorted(conn.execute(sa.select(t.c.key).where(t.c.status == status)).scalars())


def test_opted_in_patients_get_the_next_26_hours_of_reminders_once(store, care):
    opt_in(store, "ramesh", APPOINTMENTS)
    opt_in(store, "ramesh", MEDICATIONS)
    result = scan(store, care, CONFIG)
    assert (result.consents, result.finished) == (2, True)
    assert keys(store) == [
        "appt:appt-1:2026-12-09T08:30:00Z:24h",  # 14:00 IST tomorrow: 24 h before is in the 26 h, 2 h before not
        "med:med-bid:2026-12-08:20:00",
        "med:med-bid:2026-12-09:08:00",
    ]
    assert scan(store, care, CONFIG).consents == 0  # nobody's turn again yet
    assert care.reads == {"appointments": 1, "medication_requests": 1}  # sunita never opted in: never read


def test_each_patient_is_read_again_when_their_turn_comes_and_new_reminders_join(store, care, frozen):
    opt_in(store, "ramesh", APPOINTMENTS)
    scan(store, care, CONFIG)
    frozen.shift(dt.timedelta(minutes=59))
    assert scan(store, care, CONFIG).consents == 0
    frozen.shift(dt.timedelta(minutes=2))
    care.add_appointment("ramesh", "appt-2", NOW + dt.timedelta(hours=5), booked_on=NOW)
    assert scan(store, care, CONFIG).scheduled == 2
    # the new appointment's 2 h reminder, and appt-1's 2 h one that the 26 h now reach
    assert {"appt:appt-2:2026-12-08T08:30:00Z:2h", "appt:appt-1:2026-12-09T08:30:00Z:2h"} <= set(keys(store))


def test_what_care_stops_backing_is_cancelled(store, care, frozen):
    opt_in(store, "ramesh", APPOINTMENTS)
    opt_in(store, "ramesh", MEDICATIONS)
    scan(store, care, CONFIG)
    care.set_appointment("ramesh", "appt-1", start=NOW + dt.timedelta(days=1, hours=6))  # moved an hour
    care.set_request("ramesh", "med-bid", status="stopped")
    frozen.shift(dt.timedelta(minutes=61))
    result = scan(store, care, CONFIG)
    assert (result.cancelled, result.scheduled) == (3, 1)
    assert keys(store) == ["appt:appt-1:2026-12-09T09:30:00Z:24h"]
    assert keys(store, CANCELLED) == [
        "appt:appt-1:2026-12-09T08:30:00Z:24h",
        "med:med-bid:2026-12-08:20:00",
        "med:med-bid:2026-12-09:08:00",
    ]


def test_new_chosen_times_are_read_at_once_and_replace_the_old_ones(store, care):
    opt_in(store, "ramesh", MEDICATIONS)
    scan(store, care, CONFIG)
    opt_in(store, "ramesh", MEDICATIONS, medication_times=["09:00", "21:30"])  # "remind me at 9 and 9:30 pm"
    result = scan(store, care, CONFIG)
    assert result.consents == 1
    assert keys(store) == [
        "med:med-bid:2026-12-08:09:00",  # due this minute: still sent
        "med:med-bid:2026-12-08:21:30",  # chosen: instead of 20:00
        "med:med-bid:2026-12-09:09:00",
    ]
    assert keys(store, CANCELLED) == ["med:med-bid:2026-12-08:20:00", "med:med-bid:2026-12-09:08:00"]


def test_care_unavailable_cancels_nothing_and_the_patient_is_read_again_soon(store, care, frozen):
    opt_in(store, "ramesh", MEDICATIONS)
    scan(store, care, CONFIG)
    care.down = True
    frozen.shift(dt.timedelta(minutes=61))
    assert scan(store, care, CONFIG).care_errors == 1
    assert len(keys(store)) == 2 and keys(store, CANCELLED) == []
    care.down = False
    frozen.shift(dt.timedelta(minutes=6))
    assert scan(store, care, CONFIG).consents == 1


def test_an_opt_out_is_no_longer_read(store, care, frozen):
    opt_in(store, "ramesh", MEDICATIONS)
    scan(store, care, CONFIG)
    opt_out(store, "ramesh", MEDICATIONS)
    frozen.shift(dt.timedelta(hours=2))
    assert scan(store, care, CONFIG).consents == 0
    assert keys(store) == [] and care.reads["medication_requests"] == 1


def many_patients(store: NotificationStore, care: MemoryCare, n: int) -> None:
    for i in range(n):
        care.add_request(f"p{i}", medication_request(f"m{i}", code="BID"))
        opt_in(store, f"p{i}", MEDICATIONS, phone=f"+91990000{i:04d}")


def test_a_scan_stopped_by_its_budget_resumes_where_it_stopped(store, care):
    many_patients(store, care, 120)
    first = scan(store, care, CONFIG, budget_seconds=0)
    assert (first.consents, first.batches, first.finished) == (50, 1, False)
    rest = scan(store, care, CONFIG)
    assert (rest.consents, rest.finished) == (70, True)
    assert len(keys(store)) == 240 and care.reads["medication_requests"] == 120


def test_two_scans_at_once_read_each_patient_once(store, care, url):
    many_patients(store, care, 200)
    other = open_store(url)  # another worker process's engine
    results = []
    start = threading.Barrier(2)

    def run(s: NotificationStore) -> None:
        start.wait()
        results.append(scan(s, care, CONFIG))

    threads = [threading.Thread(target=run, args=(s,)) for s in (store, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    other.engine.dispose()
    assert sum(r.consents for r in results) == 200 and care.reads["medication_requests"] == 200
    assert len(keys(store)) == 400


def test_the_scan_costs_a_few_statements_per_batch_whatever_the_reminders(store, care):
    import sqlalchemy as sa

    many_patients(store, care, 100)
    statements = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    result = scan(store, care, CONFIG)
    assert result.batches == 2 and len(keys(store)) == 200
    # sync (2) + per batch: claim, move on, read known, insert new (+ BEGIN IMMEDIATE on SQLite) + a last claim
    assert len(statements) <= 2 + 3 * 5 + 2, statements


def test_reminders_are_kept_in_utc_for_the_hospitals_clock(store, care):
    opt_in(store, "sunita", MEDICATIONS)
    scan(store, care, CONFIG)
    assert store.by_key("med:med-sunita:2026-12-09:08:00").due_at == dt.datetime(2026, 12, 9, 2, 30, tzinfo=UTC)

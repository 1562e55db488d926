"""A simulated day of medication reminders (time-machine moves the clock; scan and sender run as beat would run
them, every few minutes): each dose reminded once and on time, nothing in the quiet hours (22:00-07:00) except
the times a patient chose, and a dose whose reminder could only go out late into the night is not sent."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from reminder_support import IST, UTC, open_store, opt_in

from notifications.scan import ScanConfig, scan
from notifications.sender import SendConfig, Sender
from notifications.timing import MEDICATIONS, QuietHours
from sandbox.reminders import MemoryCare, RecordingGraph, medication_request

MIDNIGHT = dt.datetime(2026, 12, 8, 0, 0, tzinfo=IST)
QUIET = QuietHours.parse("22:00-07:00")
STEP = dt.timedelta(minutes=5)
RAMESH, SUNITA = "+919876543210", "+919876543211"


@pytest.fixture
def store(tmp_path):
    opened = open_store(f"sqlite:///{tmp_path / 'assistant.db'}")
    yield opened
    opened.engine.dispose()


@pytest.fixture
def care() -> MemoryCare:
    care = MemoryCare()
    since = MIDNIGHT - dt.timedelta(days=2)
    care.add_request("ramesh", medication_request("metformin", code="BID", authored_on=since))
    care.add_request("ramesh", medication_request("amoxicillin", code="QID", authored_on=since))
    care.add_request("ramesh", medication_request("nebuliser", code="Q2H", frequency=1, period=2, period_unit="h"))
    care.add_request("ramesh", medication_request("salbutamol", code="QID", as_needed=True, authored_on=since))
    care.add_request("sunita", medication_request("thyroxine", code="BID", authored_on=since))
    return care


def live_a_day(store, care, graph, *, down: tuple[dt.time, dt.time] | None = None) -> list[tuple[str, str, str]]:
    """Runs scan and sender every 5 minutes from midnight to midnight (none while `down`); returns each send as
    (local time it went out, to, the time the reminder names)."""
    sends: list[tuple[str, str, str]] = []
    with time_machine.travel(MIDNIGHT, tick=False) as traveller:
        sender = Sender(store, care, graph, SendConfig(tz=IST, quiet=QUIET))
        config = ScanConfig(tz=IST, quiet=QUIET)
        moment = MIDNIGHT
        while moment < MIDNIGHT + dt.timedelta(days=1):
            local = moment.astimezone(IST).time()
            if down is None or not down[0] <= local < down[1]:
                before = len(graph.sent)
                scan(store, care, config)
                sender.run("worker-1")
                for payload in graph.sent[before:]:
                    named = payload["template"]["components"][0]["parameters"][0]["text"]
                    sends.append((local.strftime("%H:%M"), payload["to"][-3:], named))
            moment += STEP
            traveller.move_to(moment)
    return sends


def test_a_day_of_medication_reminders_once_each_on_time_and_none_in_the_quiet_hours(store, care):
    opt_in(store, "ramesh", MEDICATIONS, phone=RAMESH)
    opt_in(store, "sunita", MEDICATIONS, phone=SUNITA, medication_times=["06:30", "22:30"])
    sends = live_a_day(store, care, RecordingGraph())
    assert sends == [
        ("06:30", "211", "6:30 am"),  # Sunita chose it: the quiet hours give way
        ("08:00", "210", "8 am"),  # metformin
        ("08:00", "210", "8 am"),  # amoxicillin (4 a day); the nebuliser (12 a day) and as-needed salbutamol: none
        ("12:00", "210", "12 pm"),
        ("16:00", "210", "4 pm"),
        ("20:00", "210", "8 pm"),
        ("20:00", "210", "8 pm"),
        ("22:30", "211", "10:30 pm"),
    ]
    # tomorrow's reminders are already waiting, and today's were sent once each
    sent = [n for n in (store.notification(i) for i in range(1, 40)) if n is not None and n.sent_at]
    assert len(sent) == len(sends) == len({n.key for n in sent})
    assert all(n.sent_at - n.due_at < STEP for n in sent)
    assert all(n.due_at.astimezone(UTC) >= MIDNIGHT for n in sent)


def test_doses_whose_reminders_could_only_go_out_in_the_night_are_not_sent(store, care):
    opt_in(store, "ramesh", MEDICATIONS, phone=RAMESH)
    sends = live_a_day(store, care, RecordingGraph(), down=(dt.time(19, 55), dt.time(22, 5)))
    assert [s[0] for s in sends] == ["08:00", "08:00", "12:00", "16:00"]
    rows = [store.notification(i) for i in range(1, 40)]
    assert {n.reason for n in rows if n is not None and n.status == "skipped"} == {"too late for this dose"}

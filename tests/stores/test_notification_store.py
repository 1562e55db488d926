"""Reminder consent, due notifications and adherence on SQLite (embedded) and PostgreSQL: each due reminder
claimed by one worker only, a dead worker's claim taken over, scheduling twice harmless, an opt-out at once,
statuses that never go backwards, and no phone number in clear.

Each PostgreSQL test works in a schema of its own (dropped afterwards), so parallel runs never claim each
other's rows."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
import sqlalchemy as sa
from reminder_support import opt_in, opt_out, pg_schema

from notifications import store as store_module
from notifications.store import (
    CANCELLED,
    CLAIMED,
    DELIVERED,
    FAILED,
    READ,
    SCHEDULED,
    SENT,
    SKIPPED,
    UNKNOWN,
    NotificationStore,
)
from notifications.timing import APPOINTMENTS, MEDICATIONS, appointment_reminders
from sessions.crypto import Keys

NOW = dt.datetime(2026, 12, 8, 2, 30, tzinfo=dt.timezone.utc)
SECOND = dt.timedelta(seconds=1)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'assistant.db'}"
        _close_stores()
        return
    with pg_schema() as pg_url:
        yield pg_url
        _close_stores()


def _close_stores() -> None:
    for opened in _opened:
        opened.engine.dispose()
    _opened.clear()


_opened: list[NotificationStore] = []
SECRET = "test-secret-" + uuid.uuid4().hex


def open_store(url: str, **kwargs) -> NotificationStore:
    opened = NotificationStore(url, Keys(SECRET), **kwargs)
    _opened.append(opened)
    return opened


@pytest.fixture
def store(url) -> NotificationStore:
    return open_store(url)


@pytest.fixture
def phone() -> str:
    return f"+9199{uuid.uuid4().int % 10**8:08d}"


def schedule(store: NotificationStore, key: str, patient: str = "p1", purpose: str = MEDICATIONS, due=NOW) -> bool:
    return store.schedule(
        key,
        patient_id=patient,
        purpose=purpose,
        kind="medication_reminder",
        due_at=due,
        params={"request_id": "r1", "local_date": "2026-12-08", "local_time": "08:00"},
    )


def rows(store: NotificationStore, table: str) -> list[tuple]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {table}"))]


def status_of(store: NotificationStore, key: str) -> str:
    return store.by_key(key).status


# ---- scheduling -----------------------------------------------------------------------------------------------


def test_scheduling_the_same_reminder_twice_keeps_one_row(store):
    assert schedule(store, "med:r1:2026-12-08:08:00") is True
    assert schedule(store, "med:r1:2026-12-08:08:00", due=NOW + SECOND) is False
    assert len(rows(store, "notifications")) == 1
    assert store.by_key("med:r1:2026-12-08:08:00").due_at == NOW  # the first one stands


def test_a_reminder_from_the_timing_module_is_scheduled_once_however_often_the_scan_runs(store):
    slot = NOW + dt.timedelta(days=2)
    for _ in range(3):
        for reminder in appointment_reminders("appt-9", slot, offsets_hours=(24, 2)):
            store.schedule_reminder(reminder, patient_id="p9")
    stored = [store.by_key(r.key) for r in appointment_reminders("appt-9", slot, offsets_hours=(24, 2))]
    assert [(n.purpose, n.kind, n.due_at) for n in stored] == [
        (APPOINTMENTS, "appointment_reminder", slot - dt.timedelta(hours=24)),
        (APPOINTMENTS, "appointment_reminder", slot - dt.timedelta(hours=2)),
    ]
    assert len(rows(store, "notifications")) == 2


def test_params_hold_ids_and_times_only(store):
    with pytest.raises(ValueError, match="ids and times only"):
        store.schedule(
            "med:x", patient_id="p", purpose=MEDICATIONS, kind="k", due_at=NOW, params={"drug_name": "Metformin"}
        )
    with pytest.raises(ValueError):
        store.schedule("med:y", patient_id="p", purpose=MEDICATIONS, kind="k", due_at=NOW.replace(tzinfo=None))


def test_a_moved_appointments_old_reminders_are_cancelled_and_the_new_ones_kept(store):
    old = appointment_reminders("appt-1", NOW + dt.timedelta(days=2), offsets_hours=(24, 2))
    new = appointment_reminders("appt-1", NOW + dt.timedelta(days=3), offsets_hours=(24, 2))
    for reminder in old + new:
        store.schedule_reminder(reminder, patient_id="p1")
    schedule(store, "appt:appt-10:other", purpose=APPOINTMENTS)  # a prefix look-alike stays
    assert store.cancel_stale("appt:appt-1:", keep=[r.key for r in new], reason="appointment moved") == 2
    assert [status_of(store, r.key) for r in old + new] == [CANCELLED, CANCELLED, SCHEDULED, SCHEDULED]
    assert status_of(store, "appt:appt-10:other") == SCHEDULED


# ---- claiming -------------------------------------------------------------------------------------------------


def test_only_due_reminders_are_claimed_oldest_first(store):
    schedule(store, "later", due=NOW + dt.timedelta(minutes=5))
    schedule(store, "second", due=NOW - SECOND)
    schedule(store, "first", due=NOW - 2 * SECOND)
    claimed = store.claim_due(NOW, "worker-a")
    assert [n.key for n in claimed] == ["first", "second"]
    assert {(n.status, n.claimed_by, n.attempts) for n in claimed} == {(CLAIMED, "worker-a", 1)}
    assert store.claim_due(NOW, "worker-b") == []


def test_1000_due_reminders_claimed_by_concurrent_workers_go_to_exactly_one_each(url):
    setup = open_store(url)
    with setup.engine.begin() as conn:  # one statement: the test is about claiming, not inserting
        conn.execute(
            store_module.notifications.insert(),
            [
                {
                    "key": f"med:r{i}:2026-12-08:08:00",
                    "patient_id": f"p{i}",
                    "purpose": MEDICATIONS,
                    "kind": "medication_reminder",
                    "due_at": NOW - dt.timedelta(seconds=i % 60),
                    "status": SCHEDULED,
                    "attempts": 0,
                    "params": {},
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(1000)
            ],
        )
    workers = [open_store(url) for _ in range(4)]  # an engine each, as separate processes would have
    claimed: dict[str, list[int]] = {f"w{i}": [] for i in range(len(workers))}
    start = threading.Barrier(len(workers))
    failures: list[BaseException] = []

    def work(name: str, worker: NotificationStore) -> None:
        try:
            start.wait()
            while batch := worker.claim_due(NOW, name, limit=25):
                claimed[name].extend(n.id for n in batch)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}", w)) for i, w in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not failures
    every = [i for ids in claimed.values() for i in ids]
    assert len(every) == 1000 and len(set(every)) == 1000
    assert sum(1 for ids in claimed.values() if ids) >= 2  # they really did share the work
    with setup.engine.connect() as conn:
        by_status = dict(conn.execute(sa.text("SELECT status, COUNT(*) FROM notifications GROUP BY status")).all())
        attempts = set(conn.execute(sa.text("SELECT DISTINCT attempts FROM notifications")).scalars())
    assert by_status == {CLAIMED: 1000} and attempts == {1}


def test_a_dead_workers_claim_is_taken_over_when_it_runs_out(store):
    schedule(store, "k")
    (first,) = store.claim_due(NOW, "dead-worker", claim_seconds=60)
    assert store.claim_due(NOW + 59 * SECOND, "worker-b") == []
    (again,) = store.claim_due(NOW + 61 * SECOND, "worker-b", claim_seconds=60)
    assert again.id == first.id and again.claimed_by == "worker-b" and again.attempts == 2
    assert again.claim_expires_at == NOW + 121 * SECOND


def test_the_claim_lasts_the_configured_time(url):
    short = open_store(url, claim_seconds=5)
    schedule(short, "k")
    (claimed,) = short.claim_due(NOW, "w")
    assert claimed.claim_expires_at == NOW + 5 * SECOND


def test_a_send_that_timed_out_is_never_claimed_again_and_its_webhook_settles_it(store):
    schedule(store, "k")
    (n,) = store.claim_due(NOW, "w")
    assert store.mark_unknown(n.id) is True
    assert store.claim_due(NOW + dt.timedelta(days=1), "w2") == []
    assert status_of(store, "k") == UNKNOWN
    assert store.mark_status(DELIVERED, notification_id=str(n.id), graph_message_id="wamid.late") is True
    settled = store.by_key("k")
    assert (settled.status, settled.graph_message_id) == (DELIVERED, "wamid.late")


def test_a_rate_limited_send_is_due_again_later_and_a_skipped_one_is_not(store):
    schedule(store, "busy")
    schedule(store, "quiet")
    busy, quiet = store.claim_due(NOW, "w")
    assert store.reschedule(busy.id, NOW + dt.timedelta(minutes=1), reason="130429") is True
    assert store.mark_skipped(quiet.id, reason="quiet hours") is True
    assert store.claim_due(NOW + 30 * SECOND, "w") == []
    (retried,) = store.claim_due(NOW + dt.timedelta(minutes=1), "w")
    assert retried.key == "busy" and retried.attempts == 2
    assert status_of(store, "quiet") == SKIPPED


# ---- consent --------------------------------------------------------------------------------------------------


def test_family_members_on_one_phone_opt_in_and_out_separately(store, phone):
    opt_in(store, "ramesh", MEDICATIONS, phone, medication_times=["8:00", "21:00"])
    opt_in(store, "sunita", MEDICATIONS, phone, method="offer_yes", wording_shown="Remind Sunita? [Yes] [No]")
    opt_in(store, "sunita", APPOINTMENTS, phone)
    opt_out(store, "ramesh", MEDICATIONS, phone)
    assert store.consent("ramesh", MEDICATIONS).opted_in is False
    assert store.consent("sunita", MEDICATIONS).opted_in is True
    assert store.consent("ramesh", APPOINTMENTS) is None  # nobody asked: no reminders
    from_phone = {(c.patient_id, c.purpose, c.status) for c in store.consents_for_sender(phone.lstrip("+"))}
    assert from_phone == {("ramesh", MEDICATIONS, "out"), ("sunita", MEDICATIONS, "in"), ("sunita", APPOINTMENTS, "in")}
    assert store.consents_for_sender("91" + "0" * 10) == []


def test_every_change_is_kept_with_its_method_and_the_wording_shown(store, phone):
    opt_in(store, "p1", MEDICATIONS, phone, method="offer_yes", wording_shown="Shall I remind you at 8 am and 8 pm?")
    opt_out(store, "p1", MEDICATIONS, phone, method="button")
    history = store.consent_history("p1", MEDICATIONS)
    assert [(h.status, h.method, h.wording_shown) for h in history] == [
        ("in", "offer_yes", "Shall I remind you at 8 am and 8 pm?"),
        ("out", "button", "You will get no more reminders."),
    ]
    assert history[0].at <= history[1].at and history[0].sender_pseudonym == history[1].sender_pseudonym


def test_chosen_times_are_stored_normalised_kept_when_not_given_and_cleared_on_request(store, phone):
    assert opt_in(store, "p1", MEDICATIONS, phone, medication_times=["21:00", "8:00"]).medication_times == (
        "08:00",
        "21:00",
    )
    assert opt_in(store, "p1", MEDICATIONS, phone).medication_times == ("08:00", "21:00")
    assert opt_in(store, "p1", MEDICATIONS, phone, medication_times=[]).medication_times is None
    with pytest.raises(ValueError):
        opt_in(store, "p1", MEDICATIONS, phone, medication_times=["8 pm"])


def test_an_opt_out_cancels_pending_reminders_at_once_even_those_due_or_claimed(store, phone):
    opt_in(store, "p1", MEDICATIONS, phone)
    schedule(store, "due-claimed", due=NOW - SECOND)
    store.claim_due(NOW, "w")
    schedule(store, "due")
    schedule(store, "tomorrow", due=NOW + dt.timedelta(days=1))
    schedule(store, "other-patient", patient="p2")
    schedule(store, "appointment", purpose=APPOINTMENTS)
    opt_out(store, "p1", MEDICATIONS, phone)
    assert [status_of(store, k) for k in ("due-claimed", "due", "tomorrow")] == [CANCELLED] * 3
    assert status_of(store, "other-patient") == status_of(store, "appointment") == SCHEDULED
    assert {n.key for n in store.claim_due(NOW + dt.timedelta(days=2), "w")} == {"other-patient", "appointment"}
    assert store.reveal_phone("p1", MEDICATIONS) is None  # nothing to send to


def test_cancel_pending_for_leaves_sent_reminders_alone(store):
    schedule(store, "sent")
    schedule(store, "pending", due=NOW + SECOND)
    (n,) = store.claim_due(NOW, "w")
    store.mark_sent(n.id, "wamid.1")
    assert store.cancel_pending_for("p1", MEDICATIONS) == 1
    assert (status_of(store, "sent"), status_of(store, "pending")) == (SENT, CANCELLED)


def test_the_scan_reads_every_opted_in_patient_in_batches(store, phone):
    for i in range(7):
        opt_in(store, f"p{i}", MEDICATIONS, phone)
    opt_out(store, "p3", MEDICATIONS, phone)
    opt_in(store, "p9", APPOINTMENTS, phone)
    assert [c.patient_id for c in store.opted_in(MEDICATIONS, batch_size=2)] == ["p0", "p1", "p2", "p4", "p5", "p6"]
    assert store.reveal_phone("p0", MEDICATIONS) == phone


def test_the_phone_number_is_in_no_table_in_clear(store, phone):
    opt_in(store, "p1", MEDICATIONS, phone, wording_shown="Shall I remind you?")
    opt_out(store, "p2", APPOINTMENTS, phone)
    schedule(store, "k")
    store.record_adherence("p1", "r1", dt.date(2026, 12, 8), "08:00", "taken")
    raw = " ".join(str(v) for table in store_module.metadata.tables for row in rows(store, table) for v in row)
    assert "p1" in raw and "Shall I remind you?" in raw  # the tables were read
    assert phone not in raw and phone.lstrip("+") not in raw and phone[-8:] not in raw
    assert store.consent("p1", MEDICATIONS).phone_masked.endswith(phone[-3:])


# ---- statuses -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "webhooks, final",
    [
        ([SENT, DELIVERED, READ], READ),
        ([READ, DELIVERED, SENT], READ),
        ([DELIVERED, SENT], DELIVERED),
        ([SENT, FAILED], FAILED),
        ([FAILED, SENT], FAILED),
        ([FAILED, DELIVERED], DELIVERED),
        ([READ, FAILED], READ),
    ],
)
def test_status_webhooks_never_move_a_reminder_backwards(store, webhooks, final):
    schedule(store, "k")
    (n,) = store.claim_due(NOW, "w")
    store.mark_sent(n.id, "wamid.A")
    for status in webhooks:
        store.mark_status(status, graph_message_id="wamid.A", error_code=131026 if status == FAILED else None)
    assert status_of(store, "k") == final


def test_a_webhook_that_beats_the_send_answer_is_kept(store):
    schedule(store, "k")
    (n,) = store.claim_due(NOW, "w")
    # Meta's "delivered" (with our notification id) arrives before the worker records the send
    assert store.mark_status(DELIVERED, notification_id=str(n.id), graph_message_id="wamid.B") is True
    assert store.mark_sent(n.id, "wamid.B") is True
    settled = store.by_key("k")
    assert (settled.status, settled.graph_message_id, settled.claimed_by) == (DELIVERED, "wamid.B", None)
    assert settled.sent_at is not None


def test_a_failed_status_keeps_its_error_code_and_unknown_ids_change_nothing(store):
    schedule(store, "k")
    (n,) = store.claim_due(NOW, "w")
    store.mark_sent(n.id, "wamid.C")
    assert store.mark_status(FAILED, graph_message_id="wamid.C", error_code=131047) is True
    assert (store.by_key("k").status, store.by_key("k").error_code) == (FAILED, 131047)
    assert store.mark_status(READ, graph_message_id="wamid.someone-else") is False
    assert store.mark_status(READ, notification_id="not-a-number") is False
    with pytest.raises(ValueError):
        store.mark_status("accepted", graph_message_id="wamid.C")


def test_a_refused_send_is_failed_with_its_code(store):
    schedule(store, "k")
    (n,) = store.claim_due(NOW, "w")
    assert store.mark_failed(n.id, 131026, "undeliverable") is True
    failed = store.by_key("k")
    assert (failed.status, failed.error_code, failed.reason, failed.claimed_by) == (
        FAILED,
        131026,
        "undeliverable",
        None,
    )


# ---- adherence ------------------------------------------------------------------------------------------------


def test_the_latest_answer_for_each_dose_of_the_day_counts(store):
    day = dt.date(2026, 12, 8)
    store.record_adherence("p1", "r1", day, "8:00", "snoozed", notification_id=5)
    store.record_adherence("p1", "r1", day, "08:00", "taken", notification_id=6)
    store.record_adherence("p1", "r2", day, "20:00", "skipped")
    store.record_adherence("p1", "r1", day + dt.timedelta(days=1), "08:00", "skipped")
    store.record_adherence("p2", "r9", day, "08:00", "taken")
    answers = store.adherence_on("p1", day)
    assert [(a.request_id, a.scheduled_time, a.response, a.notification_id) for a in answers] == [
        ("r1", "08:00", "taken", 6),
        ("r2", "20:00", "skipped", None),
    ]
    assert store.adherence_on("p1", day - dt.timedelta(days=1)) == []
    with pytest.raises(ValueError):
        store.record_adherence("p1", "r1", day, "08:00", "maybe")

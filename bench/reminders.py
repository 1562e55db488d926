"""Benchmark of the reminder workers: prints numbers, asserts nothing.

  .venv/bin/python bench/reminders.py [--sends 2000] [--due 10000] [--patients 100000] [--only send,delay,scan]

1. send: reminders sent per second by one worker (the sender's loop in this process: claim, check, render,
   POST, record), against the WhatsApp simulator in its own process over HTTP; the store on SQLite (embedded)
   and on PostgreSQL; CARE answers from memory (its cost is CARE's, not the worker's).
2. delay: from due time to send, p50/p99, for --due reminders all due at the same moment (everyone's 8 am dose):
   production's setup as processes, 2 Celery workers + 1 beat (redbeat) on Redis, the store on PostgreSQL, the
   sandbox CARE and the simulator; beat fires send_due every REMINDER_SEND_SECONDS (15 s unless set).
3. scan: one scheduling scan of --patients opted-in patients with 2 medications each (twice a day): time, SQL
   statements, reminders scheduled; CARE answers from memory; SQLite and PostgreSQL.
Needs PostgreSQL at 127.0.0.1:5432 (trust, db `test`) and Redis at 127.0.0.1:6379 (db 13, a key prefix of its own).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import redis
import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connectors.whatsapp.graph import GraphClient  # noqa: E402
from notifications.scan import ScanConfig, scan  # noqa: E402
from notifications.sender import SendConfig, Sender  # noqa: E402
from notifications.store import NotificationStore, notifications, reminder_consents  # noqa: E402
from notifications.timing import APPOINTMENTS, MEDICATIONS, QuietHours, Reminder, zone  # noqa: E402
from sandbox.reminders import MemoryCare, medication_request  # noqa: E402
from sandbox.stack import free_ports, stop_groups  # noqa: E402
from sessions.crypto import Keys  # noqa: E402

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_DB = 13
SECRET = "bench-reminders-" + uuid.uuid4().hex
TOKEN, PHONE_NUMBER_ID = "bench-token", "106540352242922"
IST = zone("Asia/Kolkata")
UTC = dt.timezone.utc
PY = sys.executable
CELERY = str(Path(PY).parent / "celery")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@contextlib.contextmanager
def database(kind: str) -> Iterator[str]:
    """A SQLite file in a temporary folder, or a PostgreSQL schema of its own (dropped afterwards)."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/assistant.db"
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL, future=True)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


class Processes:
    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.procs: dict[str, subprocess.Popen] = {}

    def spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        with open(self.logs / f"{name}.log", "wb") as log:
            self.procs[name] = subprocess.Popen(
                args,
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        stop_groups(self.procs.values(), timeout=20)


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            requests.get(url, timeout=1)
            return
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer in {timeout:.0f} s")


def start_simulator(procs: Processes) -> str:
    (port,) = free_ports(1)
    procs.spawn(
        "simulator",
        [PY, "-m", "sandbox.whatsapp", "--port", str(port), "--webhook-url", "http://127.0.0.1:9/nothing"],
        {"WHATSAPP_ACCESS_TOKEN": TOKEN, "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID, "LOG_LEVEL": "WARNING"},
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/_sim/health")
    return url


def opt_in_many(store: NotificationStore, purpose: str, patients: list[str]) -> None:
    """Opt-ins for the benchmark, written in bulk with their scan rows (set_consent is one transaction per
    patient: set-up, not the measure); PostgreSQL then has its statistics, as autovacuum gives a live database."""
    now = dt.datetime.now(UTC)
    sealed = store.keys.seal("+919876543210")
    rows = [
        {
            "patient_id": p,
            "purpose": purpose,
            "status": "in",
            "sender_pseudonym": store.keys.pseudonym(f"9199{i:08d}"),
            "phone_masked": "+91 99•••••000",
            "phone_sealed": sealed,
            "medication_times": None,
            "updated_at": now,
        }
        for i, p in enumerate(patients)
    ]
    with store.engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(reminder_consents.insert(), rows[start : start + 5000])
    store.sync_scans()
    if store.engine.dialect.name == "postgresql":
        with store.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


# ---- 1. sends per second per worker ---------------------------------------------------------------------------


def bench_send(kind: str, sends: int, sim_url: str) -> None:
    with database(kind) as url:
        store = NotificationStore(url, Keys(SECRET))
        care = MemoryCare()
        now = dt.datetime.now(UTC)
        slot = now + dt.timedelta(hours=3)
        patients = [f"patient-{i}" for i in range(sends)]
        for p in patients:
            care.add_appointment(p, f"appt-{p}", slot)
        opt_in_many(store, APPOINTMENTS, patients)
        iso = slot.strftime("%Y-%m-%dT%H:%M:%SZ")
        store.schedule_many(
            [
                (
                    Reminder(
                        f"appt:appt-{p}:{iso}:2h",
                        APPOINTMENTS,
                        "appointment_reminder",
                        now - dt.timedelta(seconds=1),
                        {"appointment_id": f"appt-{p}", "slot_start": iso, "offset_hours": 2.0},
                    ),
                    p,
                )
                for p in patients
            ]
        )
        graph = GraphClient(f"{sim_url}/v21.0/{PHONE_NUMBER_ID}/messages", TOKEN, timeout_seconds=10)
        sender = Sender(store, care, lambda body: graph.send_message_sync(body, retries=0), SendConfig(tz=IST))
        started = time.perf_counter()
        sent = 0
        while True:
            result = sender.run("bench-worker")
            sent += result.outcomes["sent"]
            if result.claimed == 0:
                break
        elapsed = time.perf_counter() - started
        graph.close_sync()
        store.engine.dispose()
    print(f"  {kind:<10}  {sent} sent in {elapsed:5.1f} s  ->  {sent / elapsed:6.1f} reminders/s per worker")


# ---- 2. due -> sent delay -------------------------------------------------------------------------------------


def bench_delay(due: int, logs: Path) -> None:
    procs = Processes(logs)
    prefix = f"bench-{uuid.uuid4().hex[:10]}:"
    try:
        sim_url = start_simulator(procs)
        (care_port,) = free_ports(1)
        procs.spawn("care", [PY, "-m", "sandbox.care", "--port", str(care_port)])
        care_url = f"http://127.0.0.1:{care_port}"
        wait_http(f"{care_url}/api/v1/")
        with database("postgresql") as url:
            store = NotificationStore(url, Keys(SECRET))
            patient, appointment, slot = sandbox_appointment(care_url)
            store.set_consent(
                patient,
                APPOINTMENTS,
                opted_in=True,
                sender="919876543210",
                phone_e164="+919876543210",
                method="words",
                wording_shown="benchmark",
            )
            far = dt.datetime(2100, 1, 1, tzinfo=UTC)
            store.claim_scans(dt.datetime.now(UTC), far)  # the scan is not measured here
            at = dt.datetime.now(UTC) + dt.timedelta(seconds=20)  # everyone's dose, once the workers are up
            iso = slot.strftime("%Y-%m-%dT%H:%M:%SZ")
            params = {"appointment_id": appointment, "slot_start": iso, "offset_hours": 2.0}
            kind = "appointment_reminder"
            batch = [Reminder(f"appt:{appointment}:{iso}:b{i}", APPOINTMENTS, kind, at, params) for i in range(due)]
            store.schedule_many([(r, patient) for r in batch])
            env = {
                "ASSISTANT_DATABASE_URL": url,
                "ASSISTANT_SECRET_KEY": SECRET,
                "CARE_BASE_URL": care_url,
                "CARE_USERNAME": "care-admin",
                "CARE_PASSWORD": "Ohcn@123",
                "WHATSAPP_BASE_URL": sim_url,
                "WHATSAPP_ACCESS_TOKEN": TOKEN,
                "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
                "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
                "CELERY_KEY_PREFIX": prefix,
                "REMINDER_RESCAN_MINUTES": "600",
            }
            app = [CELERY, "-A", "notifications.celery_app"]
            procs.spawn("beat", [*app, "beat", "-S", "redbeat.RedBeatScheduler", "--loglevel", "WARNING"], env)
            for name in ("worker-1", "worker-2"):
                worker = ["worker", "--pool", "solo", "--hostname", f"{name}@%h", "--loglevel", "WARNING"]
                procs.spawn(name, [*app, *worker, "--without-mingle"], env)
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:
                with store.engine.connect() as conn:
                    left = conn.execute(
                        sa.select(sa.func.count())
                        .select_from(notifications)
                        .where(notifications.c.status.in_(("scheduled", "claimed", "sending")))
                    ).scalar()
                if not left:
                    break
                time.sleep(1)
            with store.engine.connect() as conn:
                rows = conn.execute(sa.select(notifications.c.due_at, notifications.c.sent_at)).all()
            store.engine.dispose()
        delays = [(s - d).total_seconds() for d, s in rows if s is not None]
        every = os.environ.get("REMINDER_SEND_SECONDS", "15")
        print(f"  {len(delays)} of {due} sent; all due at one moment; beat fires send_due every {every} s")
        first, last = min(delays, default=float("nan")), max(delays, default=float("nan"))
        print(f"  delay due -> sent: p50 {pct(delays, 50):5.1f} s   p99 {pct(delays, 99):5.1f} s   max {last:5.1f} s")
        print(
            f"  first send {first:.1f} s after the due time (beat's next send_due: 0-{every} s), then "
            f"{len(delays) / max(last - first, 0.001):.0f} reminders/s from the 2 workers"
        )
    finally:
        procs.stop()
        client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)


def sandbox_appointment(care_url: str) -> tuple[str, str, dt.datetime]:
    from actions.care.client import CareClient

    client = CareClient.create(care_url, username="care-admin", password="Ohcn@123")
    patient = next(p for p in client.find_patients_by_phone("+919876543210") if p.name.startswith("Ramesh"))
    appointment = next(a for a in client.list_patient_appointments(patient.id) if a.status == "booked")
    assert appointment.start is not None
    return patient.id, appointment.id, appointment.start.astimezone(UTC)


# ---- 3. one scan ----------------------------------------------------------------------------------------------


def bench_scan(kind: str, patients: int) -> None:
    with database(kind) as url:
        store = NotificationStore(url, Keys(SECRET))
        care = MemoryCare()
        since = dt.datetime.now(UTC) - dt.timedelta(days=3)
        ids = [f"patient-{i}" for i in range(patients)]
        for p in ids:
            care.add_request(p, medication_request(f"{p}-a", code="BID", authored_on=since))
            care.add_request(p, medication_request(f"{p}-b", code="BID", authored_on=since))
        opt_in_many(store, MEDICATIONS, ids)
        statements = []
        sa.event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(1))
        config = ScanConfig(tz=IST, quiet=QuietHours.parse("22:00-07:00"))
        started = time.perf_counter()
        result = scan(store, care, config)
        elapsed = time.perf_counter() - started
        with store.engine.connect() as conn:
            rows = conn.execute(sa.select(sa.func.count()).select_from(notifications)).scalar()
        print(
            f"  {kind:<10}  first: {result.consents} patients in {elapsed:5.1f} s "
            f"({result.consents / elapsed:,.0f}/s), "
            f"{len(statements)} SQL statements in {result.batches} batches, {rows} reminders scheduled, "
            f"{care.reads['medication_requests']} CARE reads"
        )
        # everyone's turn again (REMINDER_RESCAN_MINUTES later): what a scan costs when little has changed; by
        # then autovacuum has seen the new rows
        if kind == "postgresql":
            with store.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        statements.clear()
        later = dt.datetime.now(UTC) + config.rescan + dt.timedelta(minutes=1)
        started = time.perf_counter()
        again = scan(store, care, config, now=lambda: later)
        elapsed = time.perf_counter() - started
        print(
            f"  {'':<10}  again, {config.rescan.total_seconds() / 60:.0f} min later: {again.consents} patients in "
            f"{elapsed:5.1f} s, {len(statements)} SQL statements, {again.scheduled} new reminders"
        )
        store.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sends", type=int, default=2000, help="reminders for the sends-per-second measure")
    ap.add_argument("--due", type=int, default=10000, help="reminders due at one moment for the delay measure")
    ap.add_argument("--patients", type=int, default=100000, help="opted-in patients for the scan measure")
    ap.add_argument("--only", default="send,delay,scan", help="which measures, comma-separated")
    args = ap.parse_args(argv)
    only = {part.strip() for part in args.only.split(",")}
    with tempfile.TemporaryDirectory() as logs:
        if "send" in only:
            print(f"1. reminders sent per second, one worker, {args.sends} due reminders, the simulator as Graph:")
            procs = Processes(Path(logs))
            try:
                sim_url = start_simulator(procs)
                for kind in ("sqlite", "postgresql"):
                    bench_send(kind, args.sends, sim_url)
            finally:
                procs.stop()
        if "delay" in only:
            print(f"2. due -> sent, {args.due} reminders, 2 Celery workers + beat on Redis, PostgreSQL:")
            bench_delay(args.due, Path(logs))
        if "scan" in only:
            print(f"3. one scan of {args.patients:,} opted-in patients with 2 medications each (CARE in process):")
            for kind in ("sqlite", "postgresql"):
                bench_scan(kind, args.patients)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The reminder workers as production runs them: Celery workers and beat processes (subprocesses) on the real
Redis broker, with redbeat, the store on PostgreSQL, CARE's sandbox and a fake Graph API in this process. Each
of 1,000 due reminders reaches Graph exactly once, counted there by the notification id every send carries, and
none whose appointment staff cancelled in CARE meanwhile; a worker killed (SIGKILL) in the middle of its batch
loses none and sends none twice.

Each test has its own PostgreSQL schema, its own Redis key prefix (in Redis db 12) and its own ports."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
import sqlalchemy as sa
from aiohttp import web
from reminder_support import PHONE, SECRET, SENDER, open_store, opt_in, pg_schema, utc_iso

from actions.care.client import CareClient
from notifications.store import SENT, SKIPPED, UNKNOWN, NotificationStore, notifications
from notifications.templates import validate
from notifications.timing import APPOINTMENTS, Reminder
from sandbox.care.app import create_app
from sandbox.stack import stop_groups
from sandbox.whatsapp.config import SimConfig
from sandbox.whatsapp.server import make_app
from sandbox.whatsapp.threaded import BackgroundServer

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).parent / "celery")
REDIS_DB = 12
TOKEN, PHONE_NUMBER_ID = "workers-test-token", "106540352242922"
N = 1000


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    prefix = f"reminder-test-{uuid.uuid4().hex[:10]}:"
    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    try:
        client.ping()
    except redis.RedisError as exc:  # pragma: no cover - a CI machine without the service is a failed run
        pytest.fail(f"Redis at 127.0.0.1:6379 not reachable: {exc}")
    yield prefix
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def database() -> Iterator[str]:
    with pg_schema() as url:
        yield url


@pytest.fixture
def care() -> Iterator[BackgroundServer]:
    with BackgroundServer(create_app()) as server:
        yield server


@pytest.fixture
def store(database) -> Iterator[NotificationStore]:
    opened = open_store(database)
    yield opened
    opened.engine.dispose()


class Workers:
    """2 workers (solo pool: the process that sends is the one a SIGKILL stops) and 2 beats (redbeat)."""

    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.tmp, self.env = tmp, env
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self) -> Workers:
        for name in ("beat-1", "beat-2"):
            self._spawn(name, ["beat", "-S", "redbeat.RedBeatScheduler", "--loglevel", "INFO"])
        for name in ("worker-1", "worker-2"):
            self._spawn(
                name,
                ["worker", "--pool", "solo", "--hostname", f"{name}@%h", "--loglevel", "INFO", "--without-mingle"],
            )
        return self

    def _spawn(self, name: str, args: list[str]) -> None:
        with open(self.tmp / f"{name}.log", "wb") as log:
            self.procs[name] = subprocess.Popen(
                [CELERY, "-A", "notifications.celery_app", *args],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def worker_id(self, name: str) -> str:
        return f"{socket.gethostname()[:50]}:{self.procs[name].pid}"

    def sent_by(self, name: str) -> int:
        """What a worker says it sent (its task logs: `reminders: {... 'sent': n ...}`)."""
        text = (self.tmp / f"{name}.log").read_text(errors="replace")
        return sum(int(n) for n in re.findall(r"reminders: \{[^}]*'sent': (\d+)", text))

    def stop(self) -> None:
        stop_groups(self.procs.values(), timeout=15)


def worker_env(database: str, care_url: str, graph_url: str, prefix: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "REMINDER_", "REDIS_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        ASSISTANT_DATABASE_URL=database,
        ASSISTANT_SECRET_KEY=SECRET,
        CARE_BASE_URL=care_url,
        CARE_USERNAME="care-admin",
        CARE_PASSWORD="Ohcn@123",
        WHATSAPP_BASE_URL=graph_url,
        WHATSAPP_ACCESS_TOKEN=TOKEN,
        WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
        WHATSAPP_TIMEOUT_SECONDS="5",
        CELERY_BROKER_URL=f"redis://127.0.0.1:6379/{REDIS_DB}",
        CELERY_KEY_PREFIX=prefix,
        REMINDER_SEND_SECONDS="1",
        REMINDER_RESCAN_MINUTES="600",  # this test is about sending: the scan has nobody's turn
        **extra,
    )
    return env


def due_reminders(store: NotificationStore, care_url: str, n: int) -> list[int]:
    """n reminders due now for the sandbox patient's booked appointment (CARE backs every one of them)."""
    client = CareClient.create(care_url, username="care-admin", password="Ohcn@123")
    patient = next(p for p in client.find_patients_by_phone(PHONE) if p.name.startswith("Ramesh"))
    appointment = next(a for a in client.list_patient_appointments(patient.id) if a.status == "booked")
    opt_in(store, patient.id, APPOINTMENTS)
    # the scan is not what these tests are about: the patient's next turn is far away
    store.claim_scans(dt.datetime.now(dt.timezone.utc), dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc))
    due = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    slot = utc_iso(appointment.start)
    params = {"appointment_id": appointment.id, "slot_start": slot, "offset_hours": 2.0}
    key = f"appt:{appointment.id}:{slot}:load"
    reminders = [Reminder(f"{key}{i}", APPOINTMENTS, "appointment_reminder", due, params) for i in range(n)]
    store.schedule_many([(r, patient.id) for r in reminders])
    with store.engine.connect() as conn:
        return list(conn.execute(sa.select(notifications.c.id)).scalars())


def cancelled_in_care(store: NotificationStore, care_url: str, n: int) -> list[int]:
    """n reminders due now for another patient's appointment, which staff then cancel in CARE."""
    client = CareClient.create(care_url, username="care-admin", password="Ohcn@123")
    patient = next(p for p in client.find_patients_by_phone(PHONE) if p.name.startswith("Sunita"))
    appointment = next(a for a in client.list_patient_appointments(patient.id) if a.status == "booked")
    opt_in(store, patient.id, APPOINTMENTS)
    store.claim_scans(dt.datetime.now(dt.timezone.utc), dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc))
    slot = utc_iso(appointment.start)
    params = {"appointment_id": appointment.id, "slot_start": slot, "offset_hours": 2.0}
    due = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    key = f"appt:{appointment.id}:{slot}:gone"
    reminders = [Reminder(f"{key}{i}", APPOINTMENTS, "appointment_reminder", due, params) for i in range(n)]
    store.schedule_many([(r, patient.id) for r in reminders])
    client.cancel_appointment(appointment.facility_id, appointment.id)
    return [store.by_key(r.key).id for r in reminders]


def statuses(store: NotificationStore) -> dict[int, str]:
    with store.engine.connect() as conn:
        return dict(conn.execute(sa.select(notifications.c.id, notifications.c.status)).all())


def wait_until_settled(store: NotificationStore, workers: Workers, timeout: float = 60) -> dict[int, str]:
    deadline = time.monotonic() + timeout
    while True:
        now = statuses(store)
        if all(s not in ("scheduled", "claimed", "sending") for s in now.values()) or time.monotonic() > deadline:
            return now
        for name, proc in workers.procs.items():
            assert proc.poll() is None or name == "worker-1", f"{name} stopped: see {workers.tmp / name}.log"
        time.sleep(0.25)


def test_1000_due_reminders_from_2_workers_and_2_beats_reach_graph_exactly_once(
    tmp_path, database, store, care, redis_prefix
):
    sim_app = make_app(SimConfig(access_token=TOKEN, phone_number_id=PHONE_NUMBER_ID))
    with BackgroundServer(sim_app) as sim:
        ids = due_reminders(store, care.url, N)
        gone = cancelled_in_care(store, care.url, 5)
        workers = Workers(tmp_path, worker_env(database, care.url, sim.url, redis_prefix)).start()
        try:
            final = wait_until_settled(store, workers)
        finally:
            workers.stop()
        outbox = requests.get(f"{sim.url}/_sim/outbox", params={"kind": "message"}, timeout=10).json()["messages"]
    accepted = Counter(r["body"]["biz_opaque_callback_data"] for r in outbox if r["status"] == 200)
    refused = [r["response"] for r in outbox if r["status"] != 200]
    assert refused == []  # every send was a template the registry (and so the simulator) accepts
    assert sorted(accepted) == sorted(str(i) for i in ids) and set(accepted.values()) == {1}
    assert Counter(final.values()) == {SENT: N, SKIPPED: len(gone)}
    assert {store.notification(i).reason for i in gone} == {"appointment cancelled in CARE"}
    assert {r["to"] for r in outbox} == {SENDER}
    # both workers shared the work (a full batch asks another worker to help)
    assert workers.sent_by("worker-1") > 0 and workers.sent_by("worker-2") > 0
    assert workers.sent_by("worker-1") + workers.sent_by("worker-2") == N


class SlowGraph:
    """A fake Graph API that takes 10 ms per send and counts sends by notification id (templates checked)."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()

    async def messages(self, request: web.Request) -> web.Response:
        body = await request.json()
        await asyncio.sleep(0.01)
        if validate(body, ours=True):
            return web.json_response({"error": {"message": "bad template", "code": 132000}}, status=400)
        self.received[str(body.get("biz_opaque_callback_data"))] += 1
        return web.json_response({"messages": [{"id": f"wamid.slow.{uuid.uuid4().hex}"}]})


def test_a_worker_killed_mid_batch_loses_no_reminder_and_sends_none_twice(
    tmp_path, database, store, care, redis_prefix
):
    graph = SlowGraph()
    app = web.Application()
    app.router.add_post("/{version}/{phone_number_id}/messages", graph.messages)
    with BackgroundServer(app) as fake_graph:
        ids = due_reminders(store, care.url, N)
        env = worker_env(database, care.url, fake_graph.url, redis_prefix, NOTIFICATION_CLAIM_SECONDS="4")
        workers = Workers(tmp_path, env).start()
        try:
            victim = workers.worker_id("worker-1")
            deadline = time.monotonic() + 30
            held = 0
            while time.monotonic() < deadline:  # kill it while it holds a claimed batch, part sent
                with store.engine.connect() as conn:
                    held = conn.execute(
                        sa.select(sa.func.count())
                        .select_from(notifications)
                        .where(notifications.c.claimed_by == victim, notifications.c.status == "claimed")
                    ).scalar()
                if held >= 5 and sum(graph.received.values()) >= 50:
                    break
                time.sleep(0.01)
            os.killpg(workers.procs["worker-1"].pid, signal.SIGKILL)
            assert held >= 5, "worker-1 never held a batch: nothing to kill mid-batch"
            final = wait_until_settled(store, workers)
        finally:
            workers.stop()
    assert max(graph.received.values()) == 1  # none twice
    unknown = [i for i, s in final.items() if s == UNKNOWN]
    assert len(unknown) <= 1  # at most the one in flight when it died: Graph may or may not have it
    assert all(final[i] == SENT and graph.received[str(i)] == 1 for i in ids if i not in unknown)  # none lost
    assert workers.sent_by("worker-2") >= held  # the dead worker's claimed rows were taken over

"""What the channel tells the reminders: an inbound message opens the sender's 24 h window (kept by pseudonym,
written at most once a minute), and a status webhook carrying a reminder's notification id moves its row on."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
import sqlalchemy as sa
from wa_support import text_batch

from notifications.store import READ, SCHEDULED, NotificationStore
from notifications.timing import APPOINTMENTS
from notifications.webhooks import ReminderHooks
from sandbox.whatsapp import payloads
from sessions.crypto import Keys

UTC = dt.timezone.utc
USER = "919876543210"


@pytest.fixture
def store(tmp_path) -> NotificationStore:
    opened = NotificationStore(f"sqlite:///{tmp_path / 'assistant.db'}", Keys("hooks-test"))
    yield opened
    opened.engine.dispose()


@pytest.fixture
def hooks(harness, store) -> ReminderHooks:
    harness.channel.reminders = ReminderHooks(lambda: store)
    return harness.channel.reminders


async def background_done(harness) -> None:
    await harness.settle()
    while harness.channel._background:
        await asyncio.wait(set(harness.channel._background), timeout=5)


def sent_reminder(store: NotificationStore, wamid: str) -> int:
    store.schedule(
        "appt:a1:2026-12-08T05:30:00Z:2h",
        patient_id="p1",
        purpose=APPOINTMENTS,
        kind="appointment_reminder",
        due_at=dt.datetime.now(UTC),
    )
    (row,) = store.claim_due(dt.datetime.now(UTC), "w")
    store.mark_sent(row.id, wamid)
    return row.id


async def test_an_inbound_message_opens_the_senders_window_by_pseudonym(harness, hooks, store):
    resp = await harness.post(text_batch((USER, "wamid.IN1", "hi"), (USER, "wamid.IN2", "menu")))
    assert resp.status == 200
    await background_done(harness)
    # the message's own time (text_batch: 1764039600), written once for the two messages of the minute
    assert store.last_inbound(store.keys.pseudonym(USER)) == dt.datetime.fromtimestamp(1764039600, UTC)
    with store.engine.connect() as conn:
        raw = str(conn.execute(sa.text("SELECT * FROM whatsapp_windows")).all())
    assert USER not in raw and USER[-7:] not in raw


async def test_status_webhooks_of_a_reminder_move_its_row_and_others_are_left_alone(harness, hooks, store):
    nid = sent_reminder(store, "wamid.REM1")
    for state in ("delivered", "read"):
        body = payloads.status("wamid.REM1", USER, state, callback_data=str(nid))
        assert (await harness.post(body)).status == 200
        await background_done(harness)
    assert store.notification(nid).status == READ
    # a reply's status (no callback data) never touches the reminders' table
    await harness.post(payloads.status("wamid.CHAT", USER, "failed", error_code=131026))
    await background_done(harness)
    assert store.notification(nid).status == READ


async def test_a_failed_status_keeps_its_code_and_131047_makes_the_reminder_due_again(harness, hooks, store):
    nid = sent_reminder(store, "wamid.REM2")
    await harness.post(payloads.status("wamid.REM2", USER, "failed", error_code=131047, callback_data=str(nid)))
    await background_done(harness)
    row = store.notification(nid)
    assert (row.status, row.error_code) == (SCHEDULED, 131047)  # the sender sends it as a template next time


async def test_the_store_failing_never_stops_the_message(harness, caplog):
    def broken() -> NotificationStore:
        raise RuntimeError("database down")

    harness.channel.reminders = ReminderHooks(broken)
    resp = await harness.post(text_batch((USER, "wamid.IN3", "hi")))
    assert resp.status == 200
    await background_done(harness)
    assert [m.text for m in harness.agent.received] == ["hi"]
    assert "reminder window not recorded: RuntimeError" in caplog.text


async def test_a_template_status_webhook_is_kept_and_health_names_a_paused_template(harness, hooks, store):
    template = {"id": "900000000000001", "name": "medication_reminder", "language": "en", "status": "PAUSED"}
    resp = await harness.post(payloads.template_status_update(template, reason="Low quality"))
    assert resp.status == 200
    await background_done(harness)
    assert store.template_status("medication_reminder", "en") == "PAUSED"
    _, body, _ = await harness.get("health")
    report = json.loads(body)
    assert report["whatsapp_templates"] == {"not_sendable": ["medication_reminder (en): PAUSED"]}
    # approved again: no longer named
    await harness.post(payloads.template_status_update({**template, "status": "APPROVED"}))
    await background_done(harness)
    _, body, _ = await harness.get("health")
    assert json.loads(body)["whatsapp_templates"] == {"not_sendable": []}

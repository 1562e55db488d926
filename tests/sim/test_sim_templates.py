"""`python -m notifications.templates create|sync` against the simulator's fake WhatsApp Business Account: the
registry's templates are created once, their statuses are kept in the assistant database, a paused one is
refused by Graph (132015) and shown as paused by the next sync."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
import requests

from connectors.whatsapp.graph import GraphClient, GraphError, GraphOutcomeUnknown
from connectors.whatsapp.parse import parse_webhook
from notifications.store import NotificationStore
from notifications.template_admin import run
from notifications.templates import button_payload, registry, render
from sandbox.whatsapp import spec
from sandbox.whatsapp.server import simulator_of
from sandbox.whatsapp.threaded import BackgroundServer
from sessions.crypto import Keys


@pytest.fixture
def client(sim: BackgroundServer) -> Iterator[GraphClient]:
    cfg = simulator_of(sim.app).config
    base = f"{sim.url}/{cfg.api_version}"
    graph = GraphClient(
        f"{base}/{cfg.phone_number_id}/messages",
        cfg.access_token,
        templates_url=f"{base}/{cfg.business.waba_id}/message_templates",
        max_retries=0,
    )
    yield graph
    graph.close_sync()


@pytest.fixture
def store(tmp_path) -> Iterator[NotificationStore]:
    opened = NotificationStore(f"sqlite:///{tmp_path / 'assistant.db'}", Keys("templates-test"))
    yield opened
    opened.engine.dispose()


def command(name: str, client: GraphClient, store: NotificationStore) -> str:
    out = io.StringIO()
    assert run(name, client, store, registry(), out) == 0
    return out.getvalue()


def test_create_makes_the_missing_templates_once_and_sync_keeps_their_statuses(sim, client, store):
    before = command("sync", client, store)
    assert "appointment_reminder" in before and "MISSING" in before and store.template_statuses() == {}

    created = command("create", client, store)
    assert "appointment_reminder" in created and "medication_reminder" in created and "APPROVED" in created
    book = simulator_of(sim.app).templates
    assert {(t["name"], t["status"]) for t in book.all()} == {
        ("appointment_reminder", "APPROVED"),
        ("medication_reminder", "APPROVED"),
    }
    # what was created is what the registry says: the body with its examples and the quick-reply buttons
    medication = book.get("medication_reminder", "en")
    assert medication is not None and medication["category"] == "UTILITY"
    assert [b["text"] for b in medication["components"][1]["buttons"]] == [
        "Taken",
        "Snooze 30 min",
        "Skip",
        "Stop reminders",
    ]

    assert "already" in command("create", client, store)  # nothing twice
    assert len(book.all()) == 2
    synced = command("sync", client, store)
    assert "MISSING" not in synced
    assert store.template_statuses() == {
        ("appointment_reminder", "en"): "APPROVED",
        ("medication_reminder", "en"): "APPROVED",
    }


def test_a_paused_template_is_refused_by_graph_and_synced_as_paused(sim, client, store):
    command("create", client, store)
    answer = requests.post(
        f"{sim.url}/_sim/template", json={"name": "medication_reminder", "status": "PAUSED"}, timeout=10
    )
    assert answer.status_code == 200 and answer.json()["template"]["status"] == "PAUSED"
    send = render("medication_reminder", to="+919876543210", params={"time": "8:00 pm"}, notification_id=7)
    with pytest.raises(GraphError) as refused:
        client.send_message_sync(send, retries=0)
    assert refused.value.code == 132015 and not isinstance(refused.value, GraphOutcomeUnknown)
    appointment = render(
        "appointment_reminder",
        to="+919876543210",
        params={"hospital_name": "Shimla District Hospital", "date": "Tue 8 Dec", "time": "9:15 am"},
        notification_id=8,
    )
    assert client.send_message_sync(appointment, retries=0).startswith("wamid.")

    assert "PAUSED" in command("sync", client, store)
    assert store.template_statuses(("PAUSED", "DISABLED")) == {("medication_reminder", "en"): "PAUSED"}


def test_the_account_is_checked_like_graph_checks_it(sim, client):
    token = simulator_of(sim.app).config.access_token
    other = GraphClient(client.messages_url, token, templates_url=client.templates_url.replace("/1022", "/999"))
    with pytest.raises(GraphError) as unknown:
        other.run_sync(other.list_templates())
    other.close_sync()
    assert unknown.value.code == 100
    no_account = GraphClient(client.messages_url, token)
    with pytest.raises(GraphError, match="WHATSAPP_BUSINESS_ACCOUNT_ID"):
        no_account.run_sync(no_account.list_templates())


def test_a_template_send_is_shown_with_its_text_and_buttons_and_a_tap_is_the_rasa_payload(sim, client):
    send = render("medication_reminder", to="+919876543210", params={"time": "8:00 pm"}, notification_id=42)
    wamid = client.send_message_sync(send, retries=0)
    (record,) = requests.get(f"{sim.url}/_sim/outbox", params={"kind": "message"}, timeout=10).json()["messages"]
    shown = record["rendered"]
    assert shown["text"].startswith("Reminder: it is time for the medicine you take at 8:00 pm.")
    assert [b["text"] for b in shown["buttons"]] == ["Taken", "Snooze 30 min", "Skip", "Stop reminders"]
    taken = shown["buttons"][0]["payload"]
    assert taken == button_payload("reminder_taken", 42)
    # the web chat's tap: WhatsApp's `button` message (a template quick reply), in reply to the template
    tap = spec.build(
        {"from": "919876543210", "quick_reply": {"payload": taken, "text": "Taken"}, "context_id": wamid},
        simulator_of(sim.app).config.business,
    )
    message = tap["entry"][0]["changes"][0]["value"]["messages"][0]
    assert message["type"] == "button" and message["button"] == {"payload": taken, "text": "Taken"}
    (parsed,) = parse_webhook(tap).messages
    assert parsed.text == '/reminder_taken{"notification_id":"42"}'

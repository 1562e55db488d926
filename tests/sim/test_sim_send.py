"""`/_sim/send`, `/_sim/raw`, `/_sim/status`: Cloud-API-shaped bodies, signed, posted to the webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from sandbox.whatsapp.server import simulator_of
from sandbox.whatsapp.threaded import BackgroundServer

SECRET = "test-app-secret"  # the sim fixture's secret (conftest)
SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "whatsapp-payloads"
CAPTURED = web.AppKey("captured", list)
ANSWER = web.AppKey("answer", dict)


def capture_app() -> web.Application:
    """A webhook that only records what it receives (raw bytes + headers) and answers as told."""
    app = web.Application()
    app[CAPTURED] = []
    app[ANSWER] = {"status": 200}

    async def receive(request: web.Request) -> web.Response:
        app[CAPTURED].append({"headers": dict(request.headers), "raw": await request.read()})
        return web.json_response({"ok": True}, status=app[ANSWER]["status"])

    app.router.add_post("/webhook", receive)
    return app


@pytest.fixture
def hook(sim: BackgroundServer) -> Iterator[BackgroundServer]:
    with BackgroundServer(capture_app()) as server:
        simulator_of(sim.app).config.webhook_url = server.url + "/webhook"
        yield server


def received(hook: BackgroundServer) -> list[dict[str, Any]]:
    return hook.app[CAPTURED]  # type: ignore[no-any-return]


def hmac_ok(raw: bytes, header: str | None) -> bool:
    # computed here independently of sandbox.whatsapp.payloads
    expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return header is not None and hmac.compare_digest(expected, header)


def key_paths(obj: Any, prefix: str = "") -> set[str]:
    out: set[str] = set()
    if isinstance(obj, dict):
        for key, value in obj.items():
            out.add(prefix + key)
            out |= key_paths(value, prefix + key + ".")
    elif isinstance(obj, list):
        for item in obj:
            out |= key_paths(item, prefix[:-1] + "[].")
    return out


def test_send_text_posts_a_signed_cloud_api_body(api: Any, hook: BackgroundServer) -> None:
    resp = api.sim("send", {"from": "919876543210", "name": "Asha", "text": "when is my next appointment?"})
    assert resp.status_code == 200
    result = resp.json()
    assert result["status"] == 200 and result["message_id"].startswith("wamid.")

    [call] = received(hook)
    signature = call["headers"].get("X-Hub-Signature-256")
    assert signature and signature.startswith("sha256=") and len(signature) == 7 + 64
    assert hmac_ok(call["raw"], signature)
    assert call["headers"]["Content-Type"].startswith("application/json")

    body = json.loads(call["raw"])
    sample = json.loads((SAMPLES / "text.json").read_text())
    # same keys as the recorded notification, less the username-only ids a phone sender lacks
    username_only = {"entry[].changes[].value.contacts[].user_id", "entry[].changes[].value.messages[].from_user_id"}
    assert key_paths(body) == key_paths(sample) - username_only

    value = body["entry"][0]["changes"][0]["value"]
    assert value["metadata"]["phone_number_id"] == "123456789012345"
    assert value["contacts"] == [{"profile": {"name": "Asha"}, "wa_id": "919876543210"}]
    [message] = value["messages"]
    assert message["from"] == "919876543210" and message["type"] == "text"
    assert message["text"] == {"body": "when is my next appointment?"}
    assert message["id"] == result["message_id"] and message["timestamp"].isdigit()


def sent_message(hook: BackgroundServer) -> dict[str, Any]:
    return json.loads(received(hook)[-1]["raw"])["entry"][0]["changes"][0]["value"]["messages"][0]


def test_button_and_list_presses_are_interactive_replies_with_context(api: Any, hook: BackgroundServer) -> None:
    api.sim("send", {"from": "919876543210", "button": {"id": "/affirm", "title": "Yes"}, "context_id": "wamid.B1"})
    msg = sent_message(hook)
    assert msg["type"] == "interactive" and msg["context"]["id"] == "wamid.B1"
    assert msg["interactive"] == {"type": "button_reply", "button_reply": {"id": "/affirm", "title": "Yes"}}

    api.sim(
        "send",
        {"from": "919876543210", "list": {"id": "patient-2", "title": "Ravi Kumar", "description": "Male, 1961"}},
    )
    msg = sent_message(hook)
    assert msg["interactive"]["type"] == "list_reply"
    assert msg["interactive"]["list_reply"] == {"id": "patient-2", "title": "Ravi Kumar", "description": "Male, 1961"}


@pytest.mark.parametrize(
    "media, wire_type",
    [
        ("image", "image"),
        ("audio", "audio"),
        ("voice", "audio"),
        ("document", "document"),
        ("video", "video"),
        ("sticker", "sticker"),
        ("location", "location"),
        ("unsupported", "unsupported"),
    ],
)
def test_media_messages(api: Any, hook: BackgroundServer, media: str, wire_type: str) -> None:
    assert api.sim("send", {"from": "919876543210", "media": media, "caption": "my rx"}).json()["status"] == 200
    msg = sent_message(hook)
    assert msg["type"] == wire_type
    if wire_type in ("image", "audio", "document", "video", "sticker"):
        assert msg[wire_type]["id"] and msg[wire_type]["mime_type"]
    if media == "image":
        assert msg["image"]["caption"] == "my rx"
    if media == "voice":
        assert msg["audio"]["voice"] is True
    if media == "location":
        assert isinstance(msg["location"]["latitude"], float)


def test_batch_sends_several_messages_in_one_post(api: Any, hook: BackgroundServer) -> None:
    result = api.sim(
        "send",
        {
            "batch": [
                {"from": "919876543210", "name": "Asha", "text": "help"},
                {"from": "919812345678", "name": "Ravi", "text": "login"},
            ]
        },
    ).json()
    assert len(received(hook)) == 1 and len(result["message_ids"]) == 2
    value = json.loads(received(hook)[0]["raw"])["entry"][0]["changes"][0]["value"]
    assert [m["from"] for m in value["messages"]] == ["919876543210", "919812345678"]
    assert [c["profile"]["name"] for c in value["contacts"]] == ["Asha", "Ravi"]


def test_each_send_has_a_fresh_message_id(api: Any, hook: BackgroundServer) -> None:
    ids = {api.sim("send", {"from": "919876543210", "text": "hi"}).json()["message_id"] for _ in range(3)}
    assert len(ids) == 3


def test_webhook_status_is_passed_back(api: Any, hook: BackgroundServer) -> None:
    hook.app[ANSWER]["status"] = 403
    assert api.sim("send", {"from": "919876543210", "text": "hi"}).json()["status"] == 403


def test_unreachable_webhook_is_a_502(api: Any, sim: BackgroundServer) -> None:
    simulator_of(sim.app).config.webhook_url = "http://127.0.0.1:9/nothing-listens-here"
    resp = api.sim("send", {"from": "919876543210", "text": "hi"})
    assert resp.status_code == 502 and resp.json()["status"] is None


@pytest.mark.parametrize(
    "spec",
    [
        {"text": "no sender"},
        {"from": "919876543210"},
        {"from": "919876543210", "media": "hologram"},
        {"from": "919876543210", "button": {"id": "x"}},
        {"batch": []},
    ],
)
def test_bad_send_specs_are_refused(api: Any, hook: BackgroundServer, spec: dict[str, Any]) -> None:
    assert api.sim("send", spec).status_code == 400
    assert received(hook) == []


def test_raw_forwards_any_body_signed_unsigned_or_badly_signed(api: Any, hook: BackgroundServer) -> None:
    payload = {"object": "whatsapp_business_account", "entry": []}
    assert api.sim("raw", {"payload": payload}).json()["status"] == 200
    assert hmac_ok(received(hook)[-1]["raw"], received(hook)[-1]["headers"].get("X-Hub-Signature-256"))
    assert json.loads(received(hook)[-1]["raw"]) == payload

    api.sim("raw", {"payload": payload, "sign": "missing"})
    assert "X-Hub-Signature-256" not in received(hook)[-1]["headers"]

    api.sim("raw", {"payload": payload, "sign": "bad"})
    header = received(hook)[-1]["headers"]["X-Hub-Signature-256"]
    assert header.startswith("sha256=") and not hmac_ok(received(hook)[-1]["raw"], header)

    # a string goes out byte for byte (malformed bodies for the webhook's 400 path)
    api.sim("raw", {"payload": "{not json", "sign": "valid"})
    assert received(hook)[-1]["raw"] == b"{not json"
    assert api.sim("raw", {"payload": payload, "sign": "sometimes"}).status_code == 400


def test_status_notification(api: Any, hook: BackgroundServer) -> None:
    api.sim("status", {"message_id": "wamid.BOT1", "to": "919876543210", "status": "failed", "error_code": 131047})
    [status] = json.loads(received(hook)[-1]["raw"])["entry"][0]["changes"][0]["value"]["statuses"]
    assert status["id"] == "wamid.BOT1" and status["status"] == "failed"
    assert status["recipient_id"] == "919876543210" and status["errors"][0]["code"] == 131047
    assert hmac_ok(received(hook)[-1]["raw"], received(hook)[-1]["headers"]["X-Hub-Signature-256"])


def test_statuses_follow_accepted_sends_when_enabled(api: Any, hook: BackgroundServer, sim: BackgroundServer) -> None:
    simulator_of(sim.app).config.send_statuses = True
    wamid = api.text("hi").json()["messages"][0]["id"]
    simulator_of(sim.app).config.send_statuses = False
    # sent + delivered are posted after the send returns: wait (bounded) for both
    deadline = time.monotonic() + 10
    while len(received(hook)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    states = [json.loads(c["raw"])["entry"][0]["changes"][0]["value"]["statuses"][0] for c in received(hook)]
    assert [(s["id"], s["status"]) for s in states] == [(wamid, "sent"), (wamid, "delivered")]


def test_statuses_carry_the_sends_callback_data_as_metas_do(
    api: Any, hook: BackgroundServer, sim: BackgroundServer
) -> None:
    simulator_of(sim.app).config.send_statuses = True
    body = {
        "messaging_product": "whatsapp",
        "to": "919876543210",
        "type": "text",
        "text": {"body": "hi"},
        "biz_opaque_callback_data": "42",
    }
    wamid = api.post(body).json()["messages"][0]["id"]
    simulator_of(sim.app).config.send_statuses = False
    deadline = time.monotonic() + 10
    while len(received(hook)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    api.sim("status", {"message_id": wamid, "to": "919876543210", "status": "read", "callback_data": "42"})
    states = [json.loads(c["raw"])["entry"][0]["changes"][0]["value"]["statuses"][0] for c in received(hook)]
    assert [(s["status"], s["biz_opaque_callback_data"]) for s in states] == [
        ("sent", "42"),
        ("delivered", "42"),
        ("read", "42"),
    ]

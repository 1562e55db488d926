"""The channel in a running Sanic app (wired with rasa's `register`, like `rasa run`), fed signed webhook bodies."""

from __future__ import annotations

import asyncio
import json

import pytest
from wa_cases import ASHA, CASES
from wa_support import PAYLOAD_FILES, SECRET, VERIFY_TOKEN, payload, payload_bytes, text_batch

from connectors.whatsapp.recorder import EventKind
from connectors.whatsapp.signature import sign

# --- every payload file ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAYLOAD_FILES)
async def test_payload_file_reaches_rasa_and_the_recorder_as_expected(harness, name):
    resp = await harness.post(payload_bytes(name))
    assert resp.status == 200
    await harness.settle()
    expected = CASES[name]

    # different senders are handled concurrently: compare in message id order
    got = sorted((m.message_id, m.sender_id, m.text, m.input_channel, m.metadata) for m in harness.agent.received)
    assert got == sorted(
        [
            (
                e.message_id,
                e.sender_id,
                e.text,
                "whatsapp",
                {"message_id": e.message_id, "timestamp": e.timestamp, "type": e.type, "name": e.name},
            )
            for e in expected.to_rasa
        ]
    )
    recorded = [(e.kind.value, e.message_id, e.status, e.code) for e in harness.channel.recorder.events]
    assert recorded == [(r.kind, r.message_id, r.status, r.code) for r in expected.recorded]
    # only answered messages get a reply; statuses, reactions and errors get none
    assert len(harness.graph.sent) == len(expected.to_rasa)
    assert sorted(r["message_id"] for r in harness.graph.reads) == sorted(e.message_id for e in expected.to_rasa)


async def test_reply_goes_to_the_sender_through_the_graph_api(harness):
    await harness.post(payload_bytes("text.json"))
    await harness.settle()
    [call] = [c for c in harness.graph.calls if "type" in c.body]
    assert call.path == "/v21.0/106540352242922/messages"
    assert call.authorization == "Bearer test-access-token-SECRET"
    assert call.body["to"] == ASHA and call.body["text"]["body"] == "echo: when is my next appointment?"


async def test_user_without_phone_number_is_answered_by_business_scoped_id(harness):
    await harness.post(payload_bytes("bsuid_only_text.json"))
    await harness.settle()
    [sent] = harness.graph.sent
    assert sent["recipient"] == "IN.99887766554433221100" and "to" not in sent


async def test_message_is_marked_read_with_typing_indicator_before_rasa_handles_it(harness):
    await harness.post(payload_bytes("text.json"))
    await harness.settle()
    kinds = [
        kind if kind != "graph" else ("read" if item.get("status") == "read" else "send")
        for kind, item in harness.timeline
    ]
    assert kinds == ["read", "rasa-start", "rasa-end", "send"]
    assert harness.graph.reads == [
        {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": "wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0EB",
            "typing_indicator": {"type": "text"},
        }
    ]


async def test_failed_read_receipt_does_not_stop_the_message(harness):
    harness.graph.then((500, {"error": {"message": "down", "code": 2}}))
    await harness.post(payload_bytes("text.json"))
    await harness.settle()
    assert [m.text for m in harness.agent.received] == ["when is my next appointment?"]


# --- signatures and bodies ---------------------------------------------------------------------------------


async def test_missing_signature_is_401_and_nothing_is_handled(harness):
    resp = await harness.post(payload_bytes("text.json"), signature=None)
    assert resp.status == 401
    await harness.settle()
    assert harness.agent.received == [] and harness.graph.calls == []


@pytest.mark.parametrize(
    "signature",
    [
        sign("another-secret", payload_bytes("text.json")),
        "sha256=" + "0" * 64,
        "sha256=not-hex",
        "sha1=" + "0" * 40,
        sign(SECRET, payload_bytes("text.json"))[:-2],
        sign(SECRET, payload_bytes("image.json")),  # a valid signature of another body
    ],
)
async def test_wrong_or_malformed_signature_is_403(harness, signature):
    resp = await harness.post(payload_bytes("text.json"), signature=signature)
    assert resp.status == 403
    await harness.settle()
    assert harness.agent.received == []


async def test_signature_covers_the_raw_bytes(harness):
    raw = payload_bytes("text.json")
    reformatted = json.dumps(json.loads(raw)).encode()  # same JSON, other bytes
    assert reformatted != raw
    resp = await harness.post(reformatted, signature=sign(SECRET, raw))
    assert resp.status == 403


@pytest.mark.parametrize("harness_settings", [{"whatsapp_webhook_secret": ""}])
async def test_empty_configured_secret_accepts_nothing(harness):
    raw = payload_bytes("text.json")
    assert (await harness.post(raw, signature=sign("", raw))).status == 403
    await harness.settle()
    assert harness.agent.received == []


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe", b"[1, 2]", b'"text"', b"null"])
async def test_malformed_or_non_object_body_is_400(harness, body):
    resp = await harness.post(body)
    assert resp.status == 400


async def test_other_object_is_acknowledged_and_ignored(harness):
    body = payload("text.json")
    body["object"] = "instagram"
    resp = await harness.post(body)
    assert resp.status == 200
    await harness.settle()
    assert harness.agent.received == [] and harness.graph.calls == []


@pytest.mark.parametrize("harness_settings", [{"whatsapp_phone_number_id": "999999999"}])
async def test_message_for_another_business_number_is_not_answered(harness):
    assert (await harness.post(payload_bytes("text.json"))).status == 200
    await harness.settle()
    assert harness.agent.received == [] and harness.graph.calls == []


# --- verification (GET) ------------------------------------------------------------------------------------


async def test_verification_echoes_the_challenge(harness):
    status, text, content_type = await harness.get(
        "webhook", {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    )
    assert (status, text) == (200, "1158201444") and content_type.startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {},
    ],
)
async def test_verification_refused(harness, params):
    status, text, _ = await harness.get("webhook", params)
    assert status == 403 and "1" not in text


@pytest.mark.parametrize("harness_settings", [{"whatsapp_webhook_verify_token": ""}])
async def test_empty_configured_verify_token_never_matches(harness):
    status, _, _ = await harness.get("webhook", {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"})
    assert status == 403


# --- batches, duplicates, ordering, shutdown ---------------------------------------------------------------


async def test_redelivered_message_gets_one_answer(harness):
    for _ in range(3):
        assert (await harness.post(payload_bytes("text.json"))).status == 200
    await harness.settle()
    assert len(harness.agent.received) == 1 and len(harness.graph.sent) == 1


async def test_duplicate_inside_one_batch_gets_one_answer(harness):
    body = text_batch((ASHA, "wamid.D1", "hello"), (ASHA, "wamid.D1", "hello"), (ASHA, "wamid.D2", "bye"))
    assert (await harness.post(body)).status == 200
    await harness.settle()
    assert [m.message_id for m in harness.agent.received] == ["wamid.D1", "wamid.D2"]


async def test_one_sender_in_order_other_senders_meanwhile(harness):
    other = "919812345678"
    agent = harness.agent
    agent.gates["first"] = asyncio.Event()
    body = text_batch((ASHA, "wamid.A1", "first"), (ASHA, "wamid.A2", "second"), (other, "wamid.B1", "other"))
    assert (await harness.post(body)).status == 200  # answered while "first" is still held

    await agent.started_event("first").wait()
    await agent.finished_event("other").wait()  # another sender is not held up by "first"
    assert ("rasa-start", "second") not in harness.timeline  # the same sender is

    agent.gates["first"].set()
    await harness.settle()
    own = [text for kind, text in harness.timeline if kind == "rasa-start" and text in ("first", "second")]
    assert own == ["first", "second"]


async def test_messages_of_one_sender_across_posts_keep_arrival_order(harness):
    harness.agent.gates["1"] = asyncio.Event()
    for n in range(1, 6):
        await harness.post(text_batch((ASHA, f"wamid.N{n}", str(n))))
    harness.agent.gates["1"].set()
    await harness.settle()
    assert [m.text for m in harness.agent.received] == ["1", "2", "3", "4", "5"]


async def test_shutdown_finishes_accepted_messages_and_refuses_new_ones(harness):
    harness.agent.gates["held"] = asyncio.Event()
    await harness.post(text_batch((ASHA, "wamid.H1", "held")))
    await harness.agent.started_event("held").wait()

    stopping = asyncio.create_task(harness.channel.shutdown(timeout=10))
    await asyncio.sleep(0)
    assert (await harness.post(text_batch((ASHA, "wamid.H2", "late")))).status == 503  # Meta redelivers it later
    assert not stopping.done()

    harness.agent.gates["held"].set()
    assert await stopping is True
    assert [m.text for m in harness.agent.received] == ["held"]
    assert harness.graph.sent[-1]["text"]["body"] == "echo: held"


async def test_without_a_loaded_model_messages_are_refused_for_redelivery(harness):
    harness.agent.ready = False
    assert (await harness.post(payload_bytes("text.json"))).status == 503
    harness.agent.ready = True  # the redelivery after the model is loaded is answered (not taken for a duplicate)
    assert (await harness.post(payload_bytes("text.json"))).status == 200
    await harness.settle()
    assert len(harness.agent.received) == 1


async def test_rasa_failure_on_one_message_does_not_stop_the_next(harness):
    calls = []
    original = harness.agent.handle_message

    async def flaky(message):
        calls.append(message.text)
        if message.text == "boom":
            raise RuntimeError("rasa broke")
        await original(message)

    harness.agent.handle_message = flaky
    await harness.post(text_batch((ASHA, "wamid.F1", "boom"), (ASHA, "wamid.F2", "fine")))
    await harness.settle()
    assert calls == ["boom", "fine"] and [m.text for m in harness.agent.received] == ["fine"]


async def test_failed_reply_is_recorded_and_masked(harness, caplog):
    harness.graph.then(None, (400, {"error": {"message": "Re-engagement message", "code": 131047}}))
    await harness.post(payload_bytes("text.json"))
    await harness.settle()
    [failure] = harness.channel.recorder.of_kind(EventKind.SEND_FAILED)
    assert failure.code == 131047 and failure.recipient != ASHA and failure.recipient.endswith("210")
    assert ASHA not in caplog.text

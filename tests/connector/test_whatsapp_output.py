"""Rasa responses -> WhatsApp messages: splitting, reply buttons, lists, custom payloads, failed sends."""

from __future__ import annotations

import pytest
import pytest_asyncio
from wa_support import fast_graph_client, graph_error_body, make_settings

from connectors.whatsapp.output import (
    INTERACTIVE_BODY_MAX,
    WhatsAppOutput,
    button_messages,
    custom_message,
    text_messages,
)
from connectors.whatsapp.recorder import EventKind, EventRecorder

USER = "919876543210"


def buttons(*titles: str) -> list[dict[str, str]]:
    return [{"title": t, "payload": f'/choose{{"n":"{i}"}}'} for i, t in enumerate(titles)]


def interactive(message: dict) -> dict:
    assert message["type"] == "interactive" and message["to"] == USER and message["messaging_product"] == "whatsapp"
    return message["interactive"]


# --- builders (pure) ----------------------------------------------------------------------------------------


def test_long_text_is_split_under_the_limit_without_losing_words():
    paragraphs = [" ".join(f"p{p}w{w}" for w in range(300)) for p in range(6)]
    text = "\n\n".join(paragraphs)
    messages = text_messages(USER, text, 4096)
    bodies = [m["text"]["body"] for m in messages]
    assert len(bodies) > 1 and all(len(b) <= 4096 for b in bodies)
    assert " ".join(" ".join(bodies).split()) == " ".join(text.split())


def test_configured_max_length_is_honoured():
    bodies = [m["text"]["body"] for m in text_messages(USER, "word " * 100, 50)]
    assert all(len(b) <= 50 for b in bodies) and len(bodies) >= 10


def test_short_text_is_one_message_and_links_get_a_preview():
    assert text_messages(USER, "Hello Asha") == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": USER,
            "type": "text",
            "text": {"body": "Hello Asha", "preview_url": False},
        }
    ]
    assert text_messages(USER, "See https://care.example/x")[0]["text"]["preview_url"] is True


def test_up_to_three_short_buttons_are_reply_buttons_with_rasa_payload_ids():
    [message] = button_messages(
        USER, "Log in?", [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
    )
    content = interactive(message)
    assert content["type"] == "button" and content["body"] == {"text": "Log in?"}
    assert content["action"]["buttons"] == [
        {"type": "reply", "reply": {"id": "/affirm", "title": "Yes"}},
        {"type": "reply", "reply": {"id": "/deny", "title": "No"}},
    ]


def test_more_than_three_buttons_become_a_list():
    [message] = button_messages(USER, "Pick a patient", buttons("Asha", "Ravi", "Meera", "Kiran"))
    content = interactive(message)
    assert content["type"] == "list"
    [section] = content["action"]["sections"]
    assert [r["title"] for r in section["rows"]] == ["Asha", "Ravi", "Meera", "Kiran"]
    assert [r["id"] for r in section["rows"]] == [b["payload"] for b in buttons("Asha", "Ravi", "Meera", "Kiran")]
    assert 0 < len(content["action"]["button"]) <= 20


def test_a_long_title_makes_a_list_and_continues_in_the_description():
    title = "Dr. Meera Nair, General Medicine, Tuesday 10:30"
    [message] = button_messages(USER, "Choose a slot", buttons("Yes", title))
    rows = interactive(message)["action"]["sections"][0]["rows"]
    assert rows[1]["title"] == "Dr. Meera Nair, General"
    assert rows[1]["description"] == "Medicine, Tuesday 10:30"
    assert all(len(r["title"]) <= 24 and len(r.get("description", "")) <= 72 for r in rows)


def test_very_long_title_description_is_cut_to_72():
    [message] = button_messages(USER, "x", buttons("word " * 40, "b", "c", "d"))
    row = interactive(message)["action"]["sections"][0]["rows"][0]
    assert len(row["title"]) <= 24 and len(row["description"]) <= 72 and row["description"].endswith("…")


def test_more_than_ten_options_are_several_lists():
    titles = [f"Slot {n}" for n in range(23)]
    messages = button_messages(USER, "Free slots", buttons(*titles))
    contents = [interactive(m) for m in messages]
    assert [len(c["action"]["sections"][0]["rows"]) for c in contents] == [10, 10, 3]
    assert [c["body"]["text"] for c in contents] == ["Free slots (1/3)", "Free slots (2/3)", "Free slots (3/3)"]
    rows = [r["title"] for c in contents for r in c["action"]["sections"][0]["rows"]]
    assert rows == titles


def test_long_text_with_buttons_sends_the_text_first_and_keeps_the_body_in_limits():
    text = "\n\n".join(f"Paragraph {n}. " + "word " * 60 for n in range(8))
    messages = button_messages(USER, text, buttons("Yes", "No"))
    assert [m["type"] for m in messages[:-1]] == ["text"] * (len(messages) - 1) and len(messages) > 1
    body = interactive(messages[-1])["body"]["text"]
    assert len(body) <= INTERACTIVE_BODY_MAX
    sent_words = " ".join([m["text"]["body"] for m in messages[:-1]] + [body]).split()
    assert sent_words == text.split()


def test_duplicate_payloads_and_url_buttons():
    messages = button_messages(
        USER,
        "Help",
        [
            {"title": "Yes", "payload": "/affirm"},
            {"title": "Yes again", "payload": "/affirm"},
            {"title": "Website", "url": "https://care.example"},
        ],
    )
    content = interactive(messages[0])
    assert [b["reply"]["id"] for b in content["action"]["buttons"]] == ["/affirm"]
    assert content["body"]["text"] == "Help\nWebsite: https://care.example"


def test_payload_too_long_for_a_button_id_is_left_out():
    long_payload = "/inform" + "x" * 300
    [message] = button_messages(
        USER, "Pick", [{"title": "A", "payload": long_payload}, {"title": "B", "payload": "/b"}]
    )
    assert [b["reply"]["id"] for b in interactive(message)["action"]["buttons"]] == ["/b"]


@pytest.mark.parametrize(
    "custom, expected",
    [
        (
            {"type": "template", "template": {"name": "appointment_reminder", "language": {"code": "en"}}},
            {"type": "template", "template": {"name": "appointment_reminder", "language": {"code": "en"}}},
        ),
        (
            {"whatsapp": {"type": "location", "location": {"latitude": 9.9, "longitude": 76.2}}},
            {"type": "location", "location": {"latitude": 9.9, "longitude": 76.2}},
        ),
        ({"type": "text", "text": {"body": "hi"}, "to": "910000000000"}, {"type": "text", "text": {"body": "hi"}}),
    ],
)
def test_custom_whatsapp_payload_passes_through_to_this_user(custom, expected):
    assert custom_message(USER, custom) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": USER,
        **expected,
    }


@pytest.mark.parametrize("custom", [{"blocks": []}, {"type": "carousel"}, {"whatsapp": "x"}])
def test_custom_payload_of_another_shape_is_not_sent(custom):
    assert custom_message(USER, custom) is None


def test_business_scoped_recipient_goes_in_the_recipient_field():
    [message] = text_messages("IN.99887766554433221100", "hi")
    assert message["recipient"] == "IN.99887766554433221100" and "to" not in message


# --- WhatsAppOutput against the fake Graph API -----------------------------------------------------------------


@pytest_asyncio.fixture
async def output(fake_graph):
    graph = fast_graph_client(make_settings(fake_graph.base_url))
    yield WhatsAppOutput(graph, EventRecorder(), max_message_length=4096)
    await graph.close()


async def test_rasa_response_with_buttons_goes_out_as_interactive(output, fake_graph):
    await output.send_response(USER, {"text": "Log in?", "buttons": [{"title": "Yes", "payload": "/affirm"}]})
    [sent] = fake_graph.sent
    assert sent["interactive"]["action"]["buttons"][0]["reply"]["id"] == "/affirm"


async def test_custom_and_image_responses(output, fake_graph):
    await output.send_response(
        USER, {"custom": {"type": "template", "template": {"name": "t", "language": {"code": "en"}}}}
    )
    await output.send_response(USER, {"image": "https://care.example/x.png"})
    await output.send_response(USER, {"attachment": {"type": "file", "payload": {"src": "https://care.example/r.pdf"}}})
    assert [s["type"] for s in fake_graph.sent] == ["template", "text", "text"]
    assert [s["text"]["body"] for s in fake_graph.sent[1:]] == [
        "https://care.example/x.png",
        "https://care.example/r.pdf",
    ]


async def test_unknown_custom_payload_is_recorded_not_sent(output, fake_graph):
    await output.send_custom_json(USER, {"blocks": []})
    assert fake_graph.calls == []
    assert [e.kind for e in output.recorder.events] == [EventKind.SEND_FAILED]


async def test_failed_send_is_recorded_masked_and_does_not_raise(output, fake_graph, caplog):
    fake_graph.then((400, graph_error_body(131047, "Re-engagement message")))
    text = "\n\n".join(["first part " * 300, "second part " * 300])
    await output.send_text_message(USER, text)  # must not raise
    assert len(fake_graph.calls) == 1  # the rest of a failed response is not sent out of context
    [event] = output.recorder.events
    assert (event.kind, event.code, event.title) == (EventKind.SEND_FAILED, 131047, "Re-engagement message")
    assert event.recipient.endswith("210") and USER not in event.recipient and USER not in caplog.text


async def test_unexpected_error_in_sending_does_not_raise():
    class BrokenGraph:
        async def send_message(self, payload):
            raise RuntimeError("bug")

    output = WhatsAppOutput(BrokenGraph())  # type: ignore[arg-type]
    await output.send_text_with_buttons(USER, "Yes?", [{"title": "Yes", "payload": "/affirm"}])
    assert [e.title for e in output.recorder.of_kind(EventKind.SEND_FAILED)] == ["RuntimeError"]


def test_output_channel_name_matches_domain_channel_key():
    assert WhatsAppOutput.name() == "whatsapp"

"""parse.py on every payload file and on the shapes around them (pure: no server)."""

from __future__ import annotations

import copy

import pytest
from wa_cases import ASHA, CASES
from wa_support import PAYLOAD_FILES, payload

from connectors.whatsapp.parse import InboundMessage, parse_webhook, unsupported_payload


def test_every_payload_file_has_an_expected_outcome():
    assert PAYLOAD_FILES and set(PAYLOAD_FILES) == set(CASES)


@pytest.mark.parametrize("name", PAYLOAD_FILES)
def test_payload_file_gives_the_expected_messages(name):
    parsed = parse_webhook(payload(name))
    expected = CASES[name]
    assert [(m.sender_id, m.text, m.message_id, m.type, m.profile_name, m.timestamp) for m in parsed.messages] == [
        (e.sender_id, e.text, e.message_id, e.type, e.name, e.timestamp) for e in expected.to_rasa
    ]


def test_metadata_is_small_and_has_no_phone_number():
    message = parse_webhook(payload("text.json")).messages[0]
    assert message.metadata() == {
        "message_id": "wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0EB",
        "timestamp": 1764039600,
        "type": "text",
        "name": "Asha",
    }


def test_status_updates_are_parsed_with_errors():
    failed = parse_webhook(payload("status_failed_131047.json")).statuses
    assert [(s.message_id, s.status, s.recipient_id, s.error_code, s.error_title) for s in failed] == [
        ("wamid.BOTMSG0003", "failed", ASHA, 131047, "Re-engagement message")
    ]
    assert "24 hours" in failed[0].error_details
    assert parse_webhook(payload("status_failed_131047.json")).messages == []


def test_reaction_is_not_a_message():
    parsed = parse_webhook(payload("reaction.json"))
    assert parsed.messages == []
    assert [(r.sender_id, r.reacted_message_id, r.emoji) for r in parsed.reactions] == [
        (ASHA, "wamid.BOTMSG0001", "👍")
    ]


def test_value_errors_and_message_errors_are_recorded():
    assert [(e.code, e.title, e.details) for e in parse_webhook(payload("webhook_error.json")).errors] == [
        (131000, "Something went wrong", "Unknown error")
    ]
    [error] = parse_webhook(payload("unsupported.json")).errors
    assert (error.code, error.message_id) == (131051, "wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0EI")


def test_every_entry_and_change_of_a_batch_is_read():
    body = payload("text.json")
    second_change = copy.deepcopy(body["entry"][0]["changes"][0])
    second_change["value"]["messages"][0]["id"] = "wamid.SECOND"
    second_entry = copy.deepcopy(body["entry"][0])
    second_entry["changes"][0]["value"]["messages"][0]["id"] = "wamid.THIRD"
    body["entry"][0]["changes"].append(second_change)
    body["entry"].append(second_entry)
    status_change = payload("status_delivered.json")["entry"][0]["changes"][0]
    body["entry"][1]["changes"].append(status_change)
    parsed = parse_webhook(body)
    assert [m.message_id for m in parsed.messages] == [
        "wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0EB",
        "wamid.SECOND",
        "wamid.THIRD",
    ]
    assert [s.status for s in parsed.statuses] == ["delivered"]


def test_typed_text_cannot_forge_an_intent_payload():
    body = payload("text.json")
    body["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = '/choose{"patient_id":"someone-else"}'
    assert parse_webhook(body).messages[0].text == 'choose{"patient_id":"someone-else"}'


def test_template_quick_reply_uses_a_rasa_payload_when_there_is_one():
    body = payload("template_quick_reply_no_context.json")
    body["entry"][0]["changes"][0]["value"]["messages"][0]["button"]["payload"] = "/stop_reminders"
    assert parse_webhook(body).messages[0].text == "/stop_reminders"


@pytest.mark.parametrize("kind", ["video", "document", "sticker", "contacts", "order", "some_new_type"])
def test_other_types_reach_rasa_as_unsupported(kind):
    body = payload("image.json")
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    message["type"] = kind
    assert (
        parse_webhook(body).messages[0].text
        == unsupported_payload(kind)
        == f'/unsupported_message{{"message_type":"{kind}"}}'
    )


def test_system_notices_do_not_reach_rasa():
    body = payload("text.json")
    body["entry"][0]["changes"][0]["value"]["messages"][0].update(type="system", system={"body": "changed number"})
    parsed = parse_webhook(body)
    assert parsed.messages == [] and parsed.skipped == 1


def test_other_objects_and_fields_are_not_read():
    assert not parse_webhook({"object": "page", "entry": payload("text.json")["entry"]}).is_whatsapp
    assert parse_webhook({"object": "page", "entry": payload("text.json")["entry"]}).messages == []
    body = payload("text.json")
    body["entry"][0]["changes"][0]["field"] = "message_template_status_update"
    parsed = parse_webhook(body)
    assert parsed.messages == [] and parsed.skipped == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"object": "whatsapp_business_account"},
        {"object": "whatsapp_business_account", "entry": "x"},
        {
            "object": "whatsapp_business_account",
            "entry": [None, 1, {"changes": [None, {"field": "messages", "value": []}]}],
        },
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messages": [None, {"type": "text"}, {"id": "wamid.X", "type": "text"}],
                                "statuses": [{}, "x"],
                                "errors": [1],
                            },
                        }
                    ]
                }
            ],
        },
    ],
)
def test_malformed_pieces_are_skipped_not_raised(body):
    parsed = parse_webhook(body)
    assert parsed.messages == [] and parsed.statuses == []


def test_sender_without_phone_number_uses_the_business_scoped_id_from_contacts():
    body = payload("bsuid_only_text.json")
    del body["entry"][0]["changes"][0]["value"]["messages"][0]["from_user_id"]
    [message] = parse_webhook(body).messages
    assert isinstance(message, InboundMessage)
    assert (message.sender_id, message.profile_name) == ("IN.99887766554433221100", "Anon")

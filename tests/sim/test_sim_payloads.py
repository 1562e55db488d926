"""The payload builders produce the Cloud API's shapes (the recorded samples) and valid signatures."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from sandbox.whatsapp import payloads as p

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "whatsapp-payloads"
ASHA, RAVI = "919876543210", "919812345678"
ASHA_UID = "IN.13491208655302741918"


def sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / name).read_text())


def paths(obj: Any, prefix: str = "") -> set[str]:
    """Every key path in a JSON document (list items merged), e.g. `entry[].changes[].value.metadata`."""
    out: set[str] = set()
    if isinstance(obj, dict):
        for key, value in obj.items():
            out.add(prefix + key)
            out |= paths(value, prefix + key + ".")
    elif isinstance(obj, list):
        for item in obj:
            out |= paths(item, prefix[:-1] + "[].")
    return out


@pytest.mark.parametrize(
    "sample_name, built",
    [
        ("text.json", lambda: p.text(ASHA, "when is my next appointment?", user_id=ASHA_UID)),
        (
            "interactive_button_reply.json",
            lambda: p.button_reply(ASHA, "/affirm", "Yes", context_id="wamid.BOTMSG0001", user_id=ASHA_UID),
        ),
        (
            "interactive_list_reply.json",
            lambda: p.list_reply(ASHA, "patient-2", "Ravi Kumar", "Male, 1961", context_id="wamid.X", user_id=ASHA_UID),
        ),
        ("image.json", lambda: p.image(ASHA, "my prescription", user_id=ASHA_UID)),
        ("voice_note.json", lambda: p.media(ASHA, "voice", user_id=ASHA_UID)),
        ("location.json", lambda: p.location(ASHA, user_id=ASHA_UID)),
        ("reaction.json", lambda: p.reaction(ASHA, "wamid.BOTMSG0001", user_id=ASHA_UID)),
        (
            "template_quick_reply_no_context.json",
            lambda: p.quick_reply(ASHA, "STOP_REMINDERS", "Stop reminders", user_id=ASHA_UID),
        ),
        ("unsupported.json", lambda: p.unsupported(ASHA, user_id=ASHA_UID)),
        ("bsuid_only_text.json", lambda: p.text(None, "hi", name="Anon", user_id="IN.99887766554433221100")),
        ("status_delivered.json", lambda: p.status("wamid.BOTMSG0001", ASHA, "delivered")),
        ("status_failed_131047.json", lambda: p.status("wamid.BOTMSG0003", ASHA, "failed", error_code=131047)),
    ],
)
def test_builders_match_the_recorded_shapes(sample_name: str, built: Any) -> None:
    expected = sample(sample_name)
    body = built()
    # the samples' messages carry from_user_id only where the sender has a username; ours too
    got, want = paths(body), paths(expected)
    if "entry[].changes[].value.messages[].from_user_id" not in want:
        got.discard("entry[].changes[].value.messages[].from_user_id")
    assert got == want
    assert body["object"] == "whatsapp_business_account"


def test_builders_carry_the_given_content() -> None:
    body = p.list_reply(ASHA, "patient-2", "Ravi Kumar", "Male, 1961", name="Asha", context_id="wamid.BOT")
    value = body["entry"][0]["changes"][0]["value"]
    msg = value["messages"][0]
    assert msg["interactive"]["list_reply"] == {"id": "patient-2", "title": "Ravi Kumar", "description": "Male, 1961"}
    assert msg["context"]["id"] == "wamid.BOT" and msg["from"] == ASHA
    assert value["contacts"] == [{"profile": {"name": "Asha"}, "wa_id": ASHA}]
    assert msg["id"].startswith("wamid.") and msg["timestamp"].isdigit()


def test_fresh_ids_unless_given() -> None:
    first, second = p.text(ASHA, "a"), p.text(ASHA, "a")
    assert p.message_ids(first) != p.message_ids(second)
    fixed = p.text(ASHA, "a", wamid="wamid.FIXED", timestamp="1764039600")
    assert fixed["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] == "1764039600"
    assert p.message_ids(fixed) == ["wamid.FIXED"]


def test_business_metadata_is_configurable() -> None:
    body = p.text(ASHA, "hi", business=p.Business("1", "15550000000", "999"))
    assert body["entry"][0]["id"] == "1"
    assert body["entry"][0]["changes"][0]["value"]["metadata"] == {
        "display_phone_number": "15550000000",
        "phone_number_id": "999",
    }


def test_batch_puts_several_messages_in_one_change() -> None:
    body = p.batch(p.text(ASHA, "help", user_id=ASHA_UID), p.text(RAVI, "login", name="Ravi"))
    assert paths(body) - {"entry[].changes[].value.messages[].from_user_id"} == paths(
        sample("batched_two_messages.json")
    )
    value = body["entry"][0]["changes"][0]["value"]
    assert [m["text"]["body"] for m in value["messages"]] == ["help", "login"]
    assert [c["profile"]["name"] for c in value["contacts"]] == ["Asha", "Ravi"]


def test_batch_deduplicates_contacts_and_can_split_entries() -> None:
    merged = p.batch(p.text(ASHA, "a"), p.text(ASHA, "b"), p.status("wamid.X", ASHA))
    value = merged["entry"][0]["changes"][0]["value"]
    assert len(value["contacts"]) == 1 and len(value["messages"]) == 2 and len(value["statuses"]) == 1
    split = p.batch(p.text(ASHA, "a"), p.text(RAVI, "b"), split_entries=True)
    assert len(split["entry"]) == 2


def test_signature_is_hmac_sha256_of_the_raw_body() -> None:
    raw = p.encode(p.text(ASHA, "namaste \u0928\u092e\u0938\u094d\u0924\u0947"))
    expected = "sha256=" + hmac.new(b"app-secret", raw, hashlib.sha256).hexdigest()
    assert p.signature("app-secret", raw) == expected
    assert p.verify_signature("app-secret", raw, expected)
    assert not p.verify_signature("other-secret", raw, expected)
    assert not p.verify_signature("app-secret", raw + b" ", expected)
    assert not p.verify_signature("app-secret", raw, None)
    # non-ASCII text is sent as UTF-8, as Meta does, and survives the round trip
    assert "\u0928".encode() in raw and json.loads(raw)["entry"]


def test_signed_gives_bytes_and_headers() -> None:
    raw, headers = p.signed(p.text(ASHA, "hi"), "s")
    assert headers[p.SIGNATURE_HEADER] == p.signature("s", raw)
    assert headers["Content-Type"] == "application/json"


def test_unknown_media_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        p.media_message(ASHA, "hologram")

"""End to end: signed webhooks into the real Rasa server (model, action server, sandbox CARE), answers read
from the simulator's fake Graph API — what a WhatsApp user would see."""

from __future__ import annotations

import pytest
import requests

from sandbox.whatsapp import payloads
from tests.e2e.conftest import choices_of, text_of

pytestmark = pytest.mark.e2e


def test_greeting_uses_the_configured_name_and_shows_the_menu(user, settings):
    assert user.say("hii").status_code == 200
    greeting, menu = user.replies(2)
    assert settings.whatsapp_bot_name in text_of(greeting)
    assert settings.whatsapp_bot_welcome_message in text_of(greeting)
    titles = [title for _, title in choices_of(menu)]
    # six options do not fit WhatsApp's 3 reply buttons: they arrive as a list message
    assert menu["interactive"]["type"] == "list"
    assert {"My medications", "My appointments", "Help"} <= set(titles)


def test_help_in_own_words(user):
    user.say("what all can u do")
    [reply] = user.replies(1)
    assert "Medications" in text_of(reply) and "Appointments" in text_of(reply)


def test_pressing_a_menu_row_reaches_rasa_as_its_payload(user):
    user.post(payloads.list_reply(user.phone, "/help", "Help"))
    [reply] = user.replies(1)
    assert "Here is what I can do" in text_of(reply)


def test_a_photo_gets_a_polite_answer(user):
    user.post(payloads.image(user.phone))
    [reply] = user.replies(1)
    assert "photo" in text_of(reply).lower() and "text" in text_of(reply).lower()


def test_a_voice_note_gets_a_polite_answer(user):
    user.post(payloads.media(user.phone, "audio"))
    [reply] = user.replies(1)
    assert "voice" in text_of(reply).lower()


def test_nonsense_gets_the_fallback_with_what_the_bot_can_do(user):
    user.say("blorp fnord wibble")
    [reply] = user.replies(1)
    assert "didn't understand" in text_of(reply) and "menu" in text_of(reply)
    assert "In an emergency, call *108*" in text_of(reply)  # whatever the net missed


def test_out_of_scope(user):
    user.say("book me a train ticket to chennai")
    [reply] = user.replies(1)
    assert "can't help with that" in text_of(reply)


def test_redelivered_message_gets_exactly_one_answer(user):
    body = payloads.text(user.phone, "help")
    assert user.post(body).status_code == 200
    assert user.post(body).status_code == 200  # Meta redelivers the same wamid
    replies = user.replies(1, settle=2.0)
    assert len(replies) == 1


def test_the_users_message_is_marked_read_with_typing_indicator(user):
    body = payloads.text(user.phone, "hello")
    user.post(body)
    user.replies(2)
    receipt = user.read_receipt_for(payloads.message_ids(body)[0])
    assert receipt is not None and receipt.get("typing_indicator") == {"type": "text"}


def test_forged_and_missing_signatures_are_refused_and_never_answered(user, stack):
    raw = payloads.encode(payloads.text(user.phone, "hi"))
    forged = requests.post(
        stack.webhook_url,
        data=raw,
        timeout=10,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + "0" * 64},
    )
    missing = requests.post(stack.webhook_url, data=raw, timeout=10, headers={"Content-Type": "application/json"})
    assert (forged.status_code, missing.status_code) == (403, 401)
    assert user.replies(1, timeout=2) == []


def test_malformed_json_is_a_400(stack, user):
    raw = b'{"object": "whatsapp_business_account", "entry": ['
    r = requests.post(
        stack.webhook_url,
        data=raw,
        timeout=10,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": payloads.signature(user.secret, raw)},
    )
    assert r.status_code == 400


def test_webhook_verification_handshake(stack, settings):
    url = stack.webhook_url
    ok = requests.get(
        url,
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": settings.whatsapp_webhook_verify_token,
            "hub.challenge": "1158201444",
        },
        timeout=10,
    )
    bad = requests.get(
        url, params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"}, timeout=10
    )
    assert (ok.status_code, ok.text, bad.status_code) == (200, "1158201444", 403)


def test_health_reports_every_part(stack):
    health = requests.get(f"{stack.rasa_url}/webhooks/whatsapp/health", timeout=10).json()
    assert health["status"] == "ok", health
    assert health["model"]["loaded"] is True
    assert health["action_server"]["reachable"] is True


def test_batch_of_two_senders_answers_each(stack, user):
    other = type(user)(stack, phone=str(int(user.phone) + 1))
    user.post(payloads.batch(payloads.text(user.phone, "help"), payloads.text(other.phone, "menu")))
    assert "Here is what I can do" in text_of(user.replies(1)[0])
    assert other.replies(1)[0]["interactive"]["type"] == "list"

"""WhatsApp Cloud API webhook bodies, built by pure functions, and their signature.

The shapes follow the notifications Meta posts to a webhook (see shared/whatsapp-payloads/):

    {"object": "whatsapp_business_account",
     "entry": [{"id": <WABA id>, "changes": [{"field": "messages", "value": {
         "messaging_product": "whatsapp",
         "metadata": {"display_phone_number", "phone_number_id"},
         "contacts": [{"profile": {"name"}, "wa_id"}],
         "messages": [{"from", "id": "wamid.…", "timestamp", "type", <type>: {...}}]}}]}]}

Two layers:
- `*_message(...)` build one element of `value.messages` (use them with `wrap()` for full control);
- `text()`, `button_reply()`, `list_reply()`, `media()`, `location()`, `reaction()`, `quick_reply()`,
  `unsupported()`, `status()` build a whole webhook body for one message; `batch()` merges several bodies
  into one POST, as Meta does.

`encode()` gives the exact bytes to send, `signature()` the `X-Hub-Signature-256` value for them.
Nothing here does I/O; ids and timestamps are fresh unless given.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]

SIGNATURE_HEADER = "X-Hub-Signature-256"

MEDIA_KINDS = ("image", "audio", "voice", "video", "document", "sticker")
_MIME = {
    "image": "image/jpeg",
    "audio": "audio/mpeg",
    "voice": "audio/ogg; codecs=opus",
    "video": "video/mp4",
    "document": "application/pdf",
    "sticker": "image/webp",
}

# Errors Meta reports in a failed status (the same codes the Graph API answers with).
_STATUS_ERRORS = {
    131047: (
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
    ),
    131026: ("Message undeliverable", "Message undeliverable."),
    131056: (
        "(Business Account, Consumer Account) pair rate limit hit",
        "Too many messages sent from the sender phone number to the same recipient phone number "
        "in a short period of time.",
    ),
    131000: ("Something went wrong", "Unknown error"),
}


@dataclass(frozen=True)
class Business:
    """The business number the notifications are addressed to (defaults: the sample payloads')."""

    waba_id: str = "102290129340398"
    display_phone_number: str = "15550783881"
    phone_number_id: str = "106540352242922"


SAMPLE_BUSINESS = Business()


def new_wamid() -> str:
    """A fresh message id in WhatsApp's `wamid.` form (the webhook's idempotency key)."""
    return "wamid.SIM" + secrets.token_hex(12).upper()


def now_timestamp() -> str:
    # WhatsApp sends Unix seconds as a string
    return str(int(time.time()))


# ---- one element of value.messages -------------------------------------------------------------


def _message(
    sender: str | None,
    kind: str,
    content: Any,
    *,
    wamid: str | None = None,
    timestamp: str | None = None,
    context_id: str | None = None,
    user_id: str | None = None,
    business: Business = SAMPLE_BUSINESS,
) -> JSON:
    msg: JSON = {}
    if context_id:
        # a reply to one of the bot's messages (buttons and lists always carry it)
        msg["context"] = {"from": business.display_phone_number, "id": context_id}
    if sender is not None:
        msg["from"] = sender
    if user_id is not None:
        msg["from_user_id"] = user_id
    msg.update({"id": wamid or new_wamid(), "timestamp": timestamp or now_timestamp(), "type": kind})
    if content is not None:
        msg[kind] = content
    return msg


def text_message(sender: str | None, body: str, **meta: Any) -> JSON:
    """`type: text`. `meta`: wamid, timestamp, context_id, user_id, business."""
    return _message(sender, "text", {"body": body}, **meta)


def button_reply_message(sender: str | None, button_id: str, title: str, **meta: Any) -> JSON:
    """The user pressed a reply button of an interactive message."""
    content = {"type": "button_reply", "button_reply": {"id": button_id, "title": title}}
    return _message(sender, "interactive", content, **meta)


def list_reply_message(
    sender: str | None, row_id: str, title: str, description: str | None = None, **meta: Any
) -> JSON:
    """The user picked a row of an interactive list."""
    row = {"id": row_id, "title": title}
    if description:
        row["description"] = description
    return _message(sender, "interactive", {"type": "list_reply", "list_reply": row}, **meta)


def quick_reply_message(sender: str | None, payload: str, text: str, **meta: Any) -> JSON:
    """`type: button`: a template's quick-reply button (may come without context)."""
    return _message(sender, "button", {"payload": payload, "text": text}, **meta)


def media_message(
    sender: str | None,
    kind: str,
    *,
    caption: str | None = None,
    media_id: str | None = None,
    mime_type: str | None = None,
    filename: str | None = None,
    **meta: Any,
) -> JSON:
    """image / audio / voice (an audio with `voice: true`) / video / document / sticker."""
    if kind not in MEDIA_KINDS:
        raise ValueError(f"media kind must be one of {MEDIA_KINDS}, got {kind!r}")
    wire_kind = "audio" if kind == "voice" else kind
    content: JSON = {
        "mime_type": mime_type or _MIME[kind],
        "sha256": "c2FtcGxlc2hhMjU2",
        "id": media_id or str(secrets.randbelow(10**15) + 10**15),
    }
    if caption and wire_kind in ("image", "video", "document"):
        content["caption"] = caption
    if filename and wire_kind == "document":
        content["filename"] = filename
    if kind == "voice":
        content["voice"] = True
    return _message(sender, wire_kind, content, **meta)


def location_message(
    sender: str | None,
    latitude: float,
    longitude: float,
    name: str | None = None,
    address: str | None = None,
    **meta: Any,
) -> JSON:
    content: JSON = {"latitude": latitude, "longitude": longitude}
    if name:
        content["name"] = name
    if address:
        content["address"] = address
    return _message(sender, "location", content, **meta)


def reaction_message(sender: str | None, message_id: str, emoji: str, **meta: Any) -> JSON:
    """A reaction to `message_id` (an empty emoji removes it)."""
    return _message(sender, "reaction", {"message_id": message_id, "emoji": emoji}, **meta)


def unsupported_message(sender: str | None, **meta: Any) -> JSON:
    msg = _message(sender, "unsupported", None, **meta)
    msg["errors"] = [
        {
            "code": 131051,
            "title": "Message type unknown",
            "message": "Message type unknown",
            "error_data": {"details": "Message type is currently not supported."},
        }
    ]
    return msg


# ---- envelopes ---------------------------------------------------------------------------------


def contact(wa_id: str | None, name: str, user_id: str | None = None) -> JSON:
    """An element of `value.contacts` (the sender's profile)."""
    c: JSON = {"profile": {"name": name}}
    if wa_id is not None:
        c["wa_id"] = wa_id
    if user_id is not None:
        c["user_id"] = user_id
    return c


def wrap(
    messages: list[JSON] | None = None,
    contacts: list[JSON] | None = None,
    statuses: list[JSON] | None = None,
    business: Business = SAMPLE_BUSINESS,
) -> JSON:
    """The webhook envelope around messages (with their senders' contacts) and/or statuses."""
    value: JSON = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": business.display_phone_number,
            "phone_number_id": business.phone_number_id,
        },
    }
    if contacts:
        value["contacts"] = contacts
    if messages:
        value["messages"] = messages
    if statuses:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": business.waba_id, "changes": [{"field": "messages", "value": value}]}],
    }


def _single(msg: JSON, sender: str | None, name: str, business: Business, user_id: str | None) -> JSON:
    return wrap([msg], [contact(sender, name, user_id)], business=business)


def text(
    sender: str | None,
    body: str,
    *,
    name: str = "Asha",
    business: Business = SAMPLE_BUSINESS,
    user_id: str | None = None,
    **meta: Any,
) -> JSON:
    """A whole webhook body: `sender` wrote `body`. `meta`: wamid, timestamp, context_id."""
    msg = text_message(sender, body, user_id=user_id, business=business, **meta)
    return _single(msg, sender, name, business, user_id)


def button_reply(
    sender: str | None,
    button_id: str,
    title: str,
    *,
    name: str = "Asha",
    business: Business = SAMPLE_BUSINESS,
    user_id: str | None = None,
    **meta: Any,
) -> JSON:
    msg = button_reply_message(sender, button_id, title, user_id=user_id, business=business, **meta)
    return _single(msg, sender, name, business, user_id)


def list_reply(
    sender: str | None,
    row_id: str,
    title: str,
    description: str | None = None,
    *,
    name: str = "Asha",
    business: Business = SAMPLE_BUSINESS,
    user_id: str | None = None,
    **meta: Any,
) -> JSON:
    msg = list_reply_message(sender, row_id, title, description, user_id=user_id, business=business, **meta)
    return _single(msg, sender, name, business, user_id)


def quick_reply(
    sender: str | None,
    payload: str,
    text: str,
    *,
    name: str = "Asha",
    business: Business = SAMPLE_BUSINESS,
    user_id: str | None = None,
    **meta: Any,
) -> JSON:
    msg = quick_reply_message(sender, payload, text, user_id=user_id, business=business, **meta)
    return _single(msg, sender, name, business, user_id)


def media(
    sender: str | None,
    kind: str,
    *,
    name: str = "Asha",
    business: Business = SAMPLE_BUSINESS,
    user_id: str | None = None,
    **kwargs: Any,
) -> JSON:
    """A media message body; `kwargs` as for `media_message` (caption, media_id, ...)."""
    msg = media_message(sender, kind, user_id=user_id, business=business, **kwargs)
    return _single(msg, sender, name, business, user_id)


def image(sender: str | None, caption: str | None = None, **kwargs: Any) -> JSON:
    return media(sender, "image", caption=caption, **kwargs)


def location(
    sender: str | None,
    latitude: float = 9.9312,
    longitude: float = 76.2673,
    *,
    place: str | None = "Ernakulam",
    address: str | None = "Kochi, Kerala",
    name: str = "Asha",
    business: Business = SAMPLE_BUSINESS,
    user_id: str | None = None,
    **meta: Any,
) -> JSON:
    msg = location_message(sender, latitude, longitude, place, address, user_id=user_id, business=business, **meta)
    return _single(msg, sender, name, business, user_id)


def reaction(
    sender: str | None,
    message_id: str,
    emoji: str = "\U0001f44d",
    *,
    name: str = "Asha",
    business: Business = SAMPLE_BUSINESS,
    user_id: str | None = None,
    **meta: Any,
) -> JSON:
    msg = reaction_message(sender, message_id, emoji, user_id=user_id, business=business, **meta)
    return _single(msg, sender, name, business, user_id)


def unsupported(
    sender: str | None,
    *,
    name: str = "Asha",
    business: Business = SAMPLE_BUSINESS,
    user_id: str | None = None,
    **meta: Any,
) -> JSON:
    msg = unsupported_message(sender, user_id=user_id, business=business, **meta)
    return _single(msg, sender, name, business, user_id)


def status(
    message_id: str,
    recipient_id: str,
    state: str = "delivered",
    *,
    error_code: int | None = None,
    timestamp: str | None = None,
    business: Business = SAMPLE_BUSINESS,
    callback_data: str | None = None,
) -> JSON:
    """A status notification (sent / delivered / read / failed) for one of the bot's messages.

    A `failed` status carries `errors[]`; give `error_code` (131047, 131026, 131056, 131000). `callback_data`:
    the send's `biz_opaque_callback_data`, which Meta returns in every status of that message.
    """
    st: JSON = {
        "id": message_id,
        "status": state,
        "timestamp": timestamp or now_timestamp(),
        "recipient_id": recipient_id,
    }
    if callback_data:
        st["biz_opaque_callback_data"] = callback_data
    if state in ("sent", "delivered"):
        st["conversation"] = {"id": secrets.token_hex(6), "origin": {"type": "service"}}
        st["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "service", "type": "regular"}
    if state == "failed":
        code = error_code or 131000
        title, details = _STATUS_ERRORS.get(code, ("Something went wrong", "Unknown error"))
        st["errors"] = [
            {
                "code": code,
                "title": title,
                "message": title,
                "error_data": {"details": details},
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }
        ]
    return wrap(statuses=[st], business=business)


def template_status_update(
    template: JSON, *, reason: str = "NONE", business: Business = SAMPLE_BUSINESS, timestamp: str | None = None
) -> JSON:
    """Meta's `message_template_status_update` webhook: a template of the account changed status."""
    value = {
        "event": template["status"],
        "message_template_id": int(template["id"]),
        "message_template_name": template["name"],
        "message_template_language": template["language"],
        "message_template_category": template.get("category", "UTILITY"),
        "reason": reason,
    }
    change = {"field": "message_template_status_update", "value": value}
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": business.waba_id, "time": int(timestamp or now_timestamp()), "changes": [change]}],
    }


def batch(*bodies: JSON, split_entries: bool = False) -> JSON:
    """Merge several webhook bodies into one POST, as Meta batches deliveries.

    By default every message/status goes into the first body's single change (contacts deduplicated);
    with `split_entries=True` each body keeps its own entry, so one POST carries several entries.
    """
    if not bodies:
        raise ValueError("batch() needs at least one body")
    merged = copy.deepcopy(bodies[0])
    if split_entries:
        for body in bodies[1:]:
            merged["entry"].extend(copy.deepcopy(body["entry"]))
        return merged
    value = merged["entry"][0]["changes"][0]["value"]
    for body in bodies[1:]:
        for entry in body["entry"]:
            for change in entry["changes"]:
                for key in ("contacts", "messages", "statuses"):
                    for item in change["value"].get(key, []):
                        if key == "contacts" and item in value.get("contacts", []):
                            continue
                        value.setdefault(key, []).append(copy.deepcopy(item))
    return merged


def message_ids(body: JSON) -> list[str]:
    """Every wamid in a webhook body (messages only), in order."""
    return [
        m["id"]
        for e in body.get("entry", [])
        for c in e.get("changes", [])
        for m in c.get("value", {}).get("messages", [])
    ]


# ---- bytes and signature -----------------------------------------------------------------------


def encode(body: JSON) -> bytes:
    """The exact bytes to POST (and to sign): compact UTF-8 JSON like Meta's."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signature(secret: str, raw: bytes) -> str:
    """`X-Hub-Signature-256` value: `sha256=` + hex HMAC-SHA256(app secret, raw body)."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).hexdigest()


def verify_signature(secret: str, raw: bytes, header: str | None) -> bool:
    """Constant-time check of a `X-Hub-Signature-256` header against the raw body."""
    return bool(header) and hmac.compare_digest(signature(secret, raw), header or "")


def signed(body: JSON, secret: str) -> tuple[bytes, dict[str, str]]:
    """(raw bytes, headers) ready to POST to a webhook."""
    raw = encode(body)
    return raw, {"Content-Type": "application/json", SIGNATURE_HEADER: signature(secret, raw)}

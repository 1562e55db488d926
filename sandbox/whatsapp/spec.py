"""`POST /_sim/send` request -> a Cloud-API webhook body (through the builders in payloads.py).

A send spec is one JSON object:

    {"from": "919876543210", "name": "Asha", "context_id": "wamid.…"?,  and one of
     "text": "hi"
     "button": {"id", "title"}                       an interactive button_reply
     "list": {"id", "title", "description"?}         an interactive list_reply
     "quick_reply": {"payload", "text"}              a template quick-reply (type: button)
     "media": "image"|"audio"|"voice"|"video"|"document"|"sticker"|"location"|"unsupported", "caption"?
     "location": {"latitude", "longitude", "name"?, "address"?}
     "reaction": {"message_id", "emoji"}}

or {"batch": [spec, spec, ...]} for several messages in one POST.
"""

from __future__ import annotations

from typing import Any

from . import payloads
from .payloads import JSON, Business

DEFAULT_NAME = "Sandbox User"
MEDIA_CHOICES = (*payloads.MEDIA_KINDS, "location", "unsupported")


class SpecError(ValueError):
    """The send request is not understood (answered with 400)."""


def _digits(raw: Any) -> str:
    text = str(raw or "").strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        raise SpecError("'from' must be a phone number in WhatsApp's form, e.g. 919876543210")
    return digits


def _pair(spec: JSON, key: str, fields: tuple[str, str]) -> tuple[str, str]:
    value = spec[key]
    if not isinstance(value, dict) or not all(isinstance(value.get(f), str) and value.get(f) for f in fields):
        raise SpecError(f"'{key}' must be an object with {' and '.join(fields)}")
    return value[fields[0]], value[fields[1]]


def build_message(spec: JSON, business: Business) -> tuple[str, str, JSON]:
    """(sender digits, sender name, one `value.messages` element) for a single-message spec."""
    if not isinstance(spec, dict):
        raise SpecError("a send spec must be a JSON object")
    sender = _digits(spec.get("from"))
    name = str(spec.get("name") or DEFAULT_NAME)
    meta: dict[str, Any] = {"business": business}
    if spec.get("context_id"):
        meta["context_id"] = str(spec["context_id"])
    if isinstance(spec.get("text"), str) and spec["text"]:
        return sender, name, payloads.text_message(sender, spec["text"], **meta)
    if "button" in spec:
        return sender, name, payloads.button_reply_message(sender, *_pair(spec, "button", ("id", "title")), **meta)
    if "list" in spec:
        row_id, title = _pair(spec, "list", ("id", "title"))
        description = spec["list"].get("description")
        return sender, name, payloads.list_reply_message(sender, row_id, title, description, **meta)
    if "quick_reply" in spec:
        payload, text = _pair(spec, "quick_reply", ("payload", "text"))
        return sender, name, payloads.quick_reply_message(sender, payload, text, **meta)
    if "location" in spec or spec.get("media") == "location":
        loc = spec.get("location") or {
            "latitude": 9.9312,
            "longitude": 76.2673,
            "name": "Ernakulam",
            "address": "Kochi, Kerala",
        }
        try:
            lat, lon = float(loc["latitude"]), float(loc["longitude"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SpecError("'location' needs numeric latitude and longitude") from exc
        return sender, name, payloads.location_message(sender, lat, lon, loc.get("name"), loc.get("address"), **meta)
    if "reaction" in spec:
        message_id, emoji = _pair(spec, "reaction", ("message_id", "emoji"))
        return sender, name, payloads.reaction_message(sender, message_id, emoji, **meta)
    if spec.get("media") == "unsupported":
        return sender, name, payloads.unsupported_message(sender, **meta)
    if spec.get("media") in payloads.MEDIA_KINDS:
        caption = spec.get("caption") if isinstance(spec.get("caption"), str) else None
        return sender, name, payloads.media_message(sender, spec["media"], caption=caption, **meta)
    if "media" in spec:
        raise SpecError(f"'media' must be one of {', '.join(MEDIA_CHOICES)}")
    raise SpecError("say what to send: text, button, list, quick_reply, media, location or reaction")


def build(spec: JSON, business: Business) -> JSON:
    """The whole webhook body for a spec (or a batch of specs)."""
    items = spec.get("batch") if isinstance(spec, dict) and "batch" in spec else [spec]
    if not isinstance(items, list) or not items:
        raise SpecError("'batch' must be a non-empty list of send specs")
    messages: list[JSON] = []
    contacts: list[JSON] = []
    for item in items:
        sender, name, message = build_message(item, business)
        messages.append(message)
        c = payloads.contact(sender, name)
        if c not in contacts:
            contacts.append(c)
    return payloads.wrap(messages, contacts, business=business)

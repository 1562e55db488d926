"""What the latest message said: its text, intent and entities, read the same way by every action."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Tracker

TAP_PREFIX = "/"  # a pressed button or list row arrives as "/intent{...}": the one tap-payload convention


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def latest_intent(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


def tap_payload(intent: str, **entities: str) -> str:
    """The payload of a button or list row: `/choose{"choice":"<id>"}`, read by Rasa's payload parser as that
    intent with those entities (never typed by a user)."""
    return TAP_PREFIX + intent + (json.dumps(entities, ensure_ascii=False, separators=(",", ":")) if entities else "")


def is_tap(text: str) -> bool:
    """Whether a message text is a button or list-row payload rather than typed words."""
    return text.startswith(TAP_PREFIX)


def entity(tracker: Tracker, name: str) -> str | None:
    """The first `name` entity of the latest message. Pieces that sit next to each other are one value:
    DIET may tag "Dr. Asha" as "Dr" + "Asha", and the text between them is only punctuation."""
    message = tracker.latest_message or {}
    text = message.get("text") or ""
    found = [e for e in message.get("entities") or [] if e.get("entity") == name and e.get("value")]
    if not found:
        return None
    spans = [e for e in found if isinstance(e.get("start"), int) and isinstance(e.get("end"), int)]
    if len(spans) != len(found) or not text or is_tap(text):
        return str(found[0]["value"])  # a payload (button, list row): its value is exact, its span is not
    spans.sort(key=lambda e: e["start"])
    start, end = spans[0]["start"], spans[0]["end"]
    for e in spans[1:]:
        gap = text[end : e["start"]]
        if gap.strip(" .,-") or len(gap) > 3:
            break
        end = e["end"]
    return text[start:end].strip() or str(spans[0]["value"])  # as typed ("Mira", not a normalised "mira")


def render(domain: dict[str, Any], response: str, **values: Any) -> str:
    """The text of a domain response filled with `values`, for fragments put inside another response
    (the words stay in the domain; the one message the user gets is still a response)."""
    variations = (domain.get("responses") or {}).get(response) or []
    plain = [v for v in variations if not v.get("condition")] or variations
    text = str(plain[0].get("text", "")) if plain else ""
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return text

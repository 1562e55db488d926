"""A bare number typed after a menu picks that item ("2" after the main menu means its second button).

People who grew up with numbered phone menus type the number instead of tapping. The options are those of
the last message with buttons or list rows that the assistant sent since the user last wrote, in the order
the user sees them (the same filtering as `output._options`), read from the conversation's own bot events.
Options whose titles hold numbers (times, dates) are not numbered: there a typed number means itself.
Pure: the channel hands in the events and uses the payload as if the user had tapped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from connectors.whatsapp.output import _options

_BARE_NUMBER = re.compile(r"\s*(?:no\.?\s*|#)?(\d{1,2})\s*[.)]?\s*")


def menu_number(text: str) -> int | None:
    """1-99 when the whole message is a number ("2", "2.", " 3 ", "#4"), else None."""
    match = _BARE_NUMBER.fullmatch(text or "")
    return int(match.group(1)) if match else None


def last_offered(events: Iterable[Any]) -> list[str]:
    """The payloads of the latest bot message with options since the user's last message ([] if none)."""
    for event in reversed(list(events)):
        kind = event.get("event") if isinstance(event, Mapping) else getattr(event, "type_name", None)
        if kind == "user":
            return []
        if kind != "bot":
            continue
        data = event.get("data") if isinstance(event, Mapping) else getattr(event, "data", None)
        buttons = (data or {}).get("buttons") or []
        if buttons:
            options = _options(buttons)[0]
            # a list of times or dates ("9 am", "Mon 7 Dec"): a typed "3" means 3 o'clock or the 3rd, not row 3
            if any(ch.isdigit() for title, _payload in options for ch in title):
                return []
            return [payload for _title, payload in options]
    return []


def pick(text: str, events: Iterable[Any]) -> str | None:
    """The payload that a bare number picks, or None (not a number, no options, out of range)."""
    number = menu_number(text)
    if number is None:
        return None
    offered = last_offered(events)
    return offered[number - 1] if 1 <= number <= len(offered) else None

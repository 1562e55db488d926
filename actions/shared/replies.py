"""Long answers: a list of records sent as a few WhatsApp messages, each under the length limit."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.shared.formatting import pack
from settings import get_settings

HEADER_ROOM = 200  # the response's own heading, in front of the first chunk


def max_length() -> int:
    return get_settings().whatsapp_max_message_length


def send(dispatcher: CollectingDispatcher, blocks: list[str], *, response: str, **values: Any) -> None:
    """A list of records: the first message carries the heading, the rest continue it (each < the limit)."""
    chunks = pack(blocks, max_length(), first_overhead=HEADER_ROOM)
    for i, chunk in enumerate(chunks):
        if i == 0:
            dispatcher.utter_message(response=response, items=chunk, **values)
        else:
            dispatcher.utter_message(response="utter_list_continued", items=chunk)

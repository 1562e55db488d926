"""Rasa responses -> Graph API messages.

The builders are pure (payload dicts, easy to test); `WhatsAppOutput` sends them in order. A failed send is
recorded and logged, and never raised into Rasa: the conversation goes on.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rasa.core.channels.channel import OutputChannel

from common.phone import mask_phone
from common.text import split_text, split_title, truncate
from connectors.whatsapp.graph import GraphClient, GraphError
from connectors.whatsapp.recorder import EventKind, EventRecorder

logger = logging.getLogger(__name__)

# Cloud API limits
TEXT_MAX = 4096
INTERACTIVE_BODY_MAX = 1024
REPLY_BUTTONS_MAX, REPLY_TITLE_MAX, REPLY_ID_MAX = 3, 20, 256
LIST_ROWS_MAX, ROW_TITLE_MAX, ROW_DESCRIPTION_MAX, ROW_ID_MAX = 10, 24, 72, 200
LIST_BUTTON_MAX, SECTION_TITLE_MAX = 20, 24

DEFAULT_LIST_BUTTON_LABEL = "Choose"
EMPTY_BODY = "👇"  # interactive messages need a body; a response with buttons but no text gets this
MESSAGE_TYPES = frozenset(
    {
        "text",
        "template",
        "interactive",
        "image",
        "audio",
        "video",
        "document",
        "sticker",
        "location",
        "contacts",
        "reaction",
    }
)
_WA_ID = re.compile(r"\+?\d{6,15}")

Option = tuple[str, str]  # (title, payload)


def recipient_fields(recipient_id: str) -> dict[str, str]:
    """A phone number goes in `to`; a business-scoped user id (a user with a username) in `recipient`."""
    if _WA_ID.fullmatch(recipient_id):
        return {"to": recipient_id.lstrip("+")}
    return {"recipient": recipient_id}


def _envelope(recipient_id: str, message_type: str, content: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        **recipient_fields(recipient_id),
        "type": message_type,
        message_type: dict(content),
    }


def text_message(recipient_id: str, body: str) -> dict[str, Any]:
    return _envelope(recipient_id, "text", {"body": body, "preview_url": "http://" in body or "https://" in body})


def text_messages(recipient_id: str, text: str, max_length: int = TEXT_MAX) -> list[dict[str, Any]]:
    return [text_message(recipient_id, chunk) for chunk in split_text(text, min(max_length, TEXT_MAX))]


def reply_buttons_message(recipient_id: str, body: str, options: Sequence[Option]) -> dict[str, Any]:
    buttons = [{"type": "reply", "reply": {"id": payload, "title": title}} for title, payload in options]
    content = {"type": "button", "body": {"text": body}, "action": {"buttons": buttons}}
    return _envelope(recipient_id, "interactive", content)


def list_row(title: str, payload: str) -> dict[str, str]:
    """A list row; a title too long for the row continues in the description."""
    head, rest = split_title(title, ROW_TITLE_MAX)
    row = {"id": payload, "title": head or truncate(payload, ROW_TITLE_MAX)}
    if rest:
        row["description"] = truncate(rest, ROW_DESCRIPTION_MAX)
    return row


def list_messages(
    recipient_id: str, body: str, options: Sequence[Option], button_label: str, section_title: str = ""
) -> list[dict[str, Any]]:
    """One list message per 10 rows; when there are several, their bodies say `(1/2)`, `(2/2)`."""
    pages = [options[i : i + LIST_ROWS_MAX] for i in range(0, len(options), LIST_ROWS_MAX)]
    messages = []
    for number, page in enumerate(pages, start=1):
        section: dict[str, Any] = {"rows": [list_row(title, payload) for title, payload in page]}
        if section_title:
            section["title"] = truncate(section_title, SECTION_TITLE_MAX)
        page_body = f"{body} ({number}/{len(pages)})" if len(pages) > 1 else body
        action = {"button": truncate(button_label, LIST_BUTTON_MAX), "sections": [section]}
        content = {"type": "list", "body": {"text": page_body}, "action": action}
        messages.append(_envelope(recipient_id, "interactive", content))
    return messages


def _options(buttons: Iterable[Mapping[str, Any]]) -> tuple[list[Option], list[str]]:
    """Rasa buttons -> (options with a payload, link lines for URL buttons). Duplicate payloads are kept once."""
    options: list[Option] = []
    links: list[str] = []
    seen: set[str] = set()
    for button in buttons:
        title = str(button.get("title") or "").strip()
        payload = str(button.get("payload") or "").strip()
        if not payload and button.get("url"):
            links.append(f"{title}: {button['url']}" if title else str(button["url"]))
            continue
        payload = payload or title
        if not payload or payload in seen:
            continue
        if len(payload) > REPLY_ID_MAX:  # too long for any button id: it would be cut, and mean something else
            logger.warning("button payload longer than %d characters dropped", REPLY_ID_MAX)
            continue
        seen.add(payload)
        options.append((title or payload, payload))
    return options, links


def button_messages(
    recipient_id: str,
    text: str,
    buttons: Iterable[Mapping[str, Any]],
    *,
    max_text_length: int = TEXT_MAX,
    list_button_label: str = DEFAULT_LIST_BUTTON_LABEL,
) -> list[dict[str, Any]]:
    """Text + Rasa buttons -> reply buttons (<= 3 short titles) or list message(s); long text goes first as text."""
    options, links = _options(buttons)
    text = "\n".join([(text or "").strip(), *links]).strip()
    fits_buttons = len(options) <= REPLY_BUTTONS_MAX and all(len(title) <= REPLY_TITLE_MAX for title, _ in options)
    if not fits_buttons:
        too_long = [o for o in options if len(o[1]) > ROW_ID_MAX]
        if too_long:
            logger.warning("%d option(s) with a payload over %d characters left out", len(too_long), ROW_ID_MAX)
            options = [o for o in options if len(o[1]) <= ROW_ID_MAX]
    if not options:
        return text_messages(recipient_id, text, max_text_length)
    # room for a " (n/m)" page suffix in list bodies
    chunks = split_text(text, min(INTERACTIVE_BODY_MAX - 12, max_text_length)) or [EMPTY_BODY]
    messages = [text_message(recipient_id, chunk) for chunk in chunks[:-1]]
    if fits_buttons:
        messages.append(reply_buttons_message(recipient_id, chunks[-1], options))
    else:
        messages.extend(list_messages(recipient_id, chunks[-1], options, list_button_label))
    return messages


def custom_message(recipient_id: str, json_message: Mapping[str, Any]) -> dict[str, Any] | None:
    """A custom response in WhatsApp's own shape (`{"type": "template", ...}` or `{"whatsapp": {...}}`) -> the
    Graph payload, addressed to this conversation's user. None when it is not a WhatsApp message."""
    inner = json_message.get("whatsapp", json_message)
    if not isinstance(inner, Mapping) or inner.get("type") not in MESSAGE_TYPES:
        return None
    # the recipient is always this conversation's user: a response cannot redirect messages elsewhere
    body = {k: v for k, v in inner.items() if k not in ("to", "recipient", "messaging_product")}
    return {"messaging_product": "whatsapp", "recipient_type": "individual", **body, **recipient_fields(recipient_id)}


def _link(attachment: Any) -> str:
    if isinstance(attachment, Mapping):
        payload = attachment.get("payload")
        if isinstance(payload, Mapping):
            return str(payload.get("src") or payload.get("url") or "")
        return str(attachment.get("url") or attachment.get("src") or "")
    return str(attachment or "")


class WhatsAppOutput(OutputChannel):
    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    def __init__(
        self,
        graph: GraphClient,
        recorder: EventRecorder | None = None,
        *,
        max_message_length: int = TEXT_MAX,
        list_button_label: str = DEFAULT_LIST_BUTTON_LABEL,
    ) -> None:
        self.graph = graph
        self.recorder = recorder or EventRecorder()
        self.max_message_length = max_message_length
        self.list_button_label = list_button_label

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send_all(recipient_id, text_messages(recipient_id, text, self.max_message_length))

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        messages = button_messages(
            recipient_id,
            text,
            buttons,
            max_text_length=self.max_message_length,
            list_button_label=self.list_button_label,
        )
        await self._send_all(recipient_id, messages)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send_all(recipient_id, text_messages(recipient_id, image, self.max_message_length))

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        link = _link(attachment)
        if link:
            await self._send_all(recipient_id, text_messages(recipient_id, link, self.max_message_length))

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        payload = custom_message(recipient_id, json_message) if isinstance(json_message, Mapping) else None
        if payload is None:
            self.recorder.record(
                EventKind.SEND_FAILED, recipient=recipient_id, title="custom payload is not a WhatsApp message"
            )
            return
        await self._send_all(recipient_id, [payload])

    async def _send_all(self, recipient_id: str, payloads: Sequence[Mapping[str, Any]]) -> bool:
        # the parts of one response make sense only in order: after a failure the rest is not sent
        for payload in payloads:
            if not await self._send(recipient_id, payload):
                return False
        return True

    async def _send(self, recipient_id: str, payload: Mapping[str, Any]) -> bool:
        try:
            await self.graph.send_message(payload)
            return True
        except GraphError as exc:
            self.recorder.record(EventKind.SEND_FAILED, recipient=recipient_id, code=exc.code, title=exc.title)
        except Exception as exc:
            logger.exception("sending a WhatsApp message to %s failed unexpectedly", mask_phone(recipient_id))
            self.recorder.record(EventKind.SEND_FAILED, recipient=recipient_id, title=type(exc).__name__)
        return False

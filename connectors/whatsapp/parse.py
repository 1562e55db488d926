"""Webhook body -> typed messages, statuses, reactions and errors. Pure: no I/O, no Rasa, never raises on a dict.

Every entry, change, message and status of a batch is read; pieces of the wrong shape are skipped and counted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

WHATSAPP_OBJECT = "whatsapp_business_account"
UNSUPPORTED_INTENT = "unsupported_message"

# Message types that carry nothing the user wants answered (a number change notice, the chat-opened ping).
IGNORED_TYPES = frozenset({"system", "request_welcome"})


@dataclass(frozen=True)
class InboundMessage:
    """A user message, with `text` already in the form Rasa gets (free text or an intent payload)."""

    message_id: str
    sender_id: str  # wa_id, or the business-scoped user id when the phone number is hidden
    type: str  # WhatsApp's message type, as received
    text: str
    timestamp: int | None = None
    profile_name: str = ""
    phone_number_id: str = ""  # the business number it was sent to

    def metadata(self) -> dict[str, Any]:
        """What goes into Rasa's UserMessage metadata (and the tracker): small, no phone numbers."""
        return {
            "message_id": self.message_id,
            "timestamp": self.timestamp,
            "type": self.type,
            "name": self.profile_name,
        }


@dataclass(frozen=True)
class StatusUpdate:
    message_id: str  # our outbound message
    status: str  # sent | delivered | read | failed | deleted ...
    recipient_id: str
    timestamp: int | None = None
    error_code: int | None = None
    error_title: str = ""
    error_details: str = ""
    callback_data: str = ""  # biz_opaque_callback_data of the send: a reminder's notification id


@dataclass(frozen=True)
class Reaction:
    message_id: str  # the reaction's own id
    sender_id: str
    reacted_message_id: str
    emoji: str  # empty when the user removed the reaction


@dataclass(frozen=True)
class WebhookError:
    code: int | None
    title: str
    details: str = ""
    message_id: str = ""  # set when the error came attached to a user message


@dataclass(frozen=True)
class TemplateStatus:
    """`message_template_status_update`: a template of the WhatsApp Business Account changed status."""

    name: str
    language: str
    status: str  # Meta's `event`: APPROVED, REJECTED, PAUSED, DISABLED, ...
    reason: str = ""


@dataclass
class ParsedWebhook:
    object: str = ""
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    errors: list[WebhookError] = field(default_factory=list)
    template_statuses: list[TemplateStatus] = field(default_factory=list)
    skipped: int = 0  # changes/messages we don't handle (other fields, malformed pieces, ignored types)

    @property
    def is_whatsapp(self) -> bool:
        return self.object == WHATSAPP_OBJECT


def unsupported_payload(message_type: str) -> str:
    """The intent payload Rasa gets for media and other types it cannot read: the domain answers politely."""
    entities = json.dumps({"message_type": message_type or "unknown"}, ensure_ascii=False, separators=(",", ":"))
    return f"/{UNSUPPORTED_INTENT}{entities}"


def neutralise_typed_text(body: str) -> str:
    """Typed text must not be read as an intent payload (`/choose{"patient_id":...}` would set entities directly),
    so leading slashes are dropped. Button replies keep their payloads: those ids are ours."""
    return body.lstrip().lstrip("/").lstrip()


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _first_error(errors: Any) -> WebhookError | None:
    for err in _list(errors):
        err = _dict(err)
        if err:
            details = _str(_dict(err.get("error_data")).get("details"))
            return WebhookError(_int(err.get("code")), _str(err.get("title") or err.get("message")), details)
    return None


def message_text(message: Mapping[str, Any]) -> str | None:
    """What Rasa gets for a user message; None when the message should not reach Rasa at all."""
    mtype = _str(message.get("type"))
    if mtype == "text":
        body = neutralise_typed_text(_str(_dict(message.get("text")).get("body")))
        return body or unsupported_payload(mtype)
    if mtype == "interactive":
        interactive = _dict(message.get("interactive"))
        kind = _str(interactive.get("type"))
        if kind in ("button_reply", "list_reply"):
            reply_id = _str(_dict(interactive.get(kind)).get("id")).strip()
            if reply_id:
                return reply_id  # our button ids are Rasa payloads such as /affirm
        return unsupported_payload(mtype)
    if mtype == "button":  # a template quick-reply; the payload is ours only when it is a Rasa payload
        button = _dict(message.get("button"))
        payload, text = _str(button.get("payload")).strip(), _str(button.get("text")).strip()
        if payload.startswith("/"):
            return payload
        return neutralise_typed_text(text) or unsupported_payload(mtype)
    if mtype in IGNORED_TYPES or mtype == "reaction":
        return None
    return unsupported_payload(mtype)


def _sender(message: Mapping[str, Any], contacts: list[dict]) -> tuple[str, str]:
    """(sender id, profile name). `from` is the wa_id; users with a username may only have a business-scoped id."""
    wa_id = _str(message.get("from"))
    user_id = _str(message.get("from_user_id"))
    contact: dict = {}
    for c in contacts:
        if (wa_id and _str(c.get("wa_id")) == wa_id) or (user_id and _str(c.get("user_id")) == user_id):
            contact = c
            break
    else:
        if len(contacts) == 1:
            contact = contacts[0]
    sender = wa_id or user_id or _str(contact.get("wa_id")) or _str(contact.get("user_id"))
    return sender, _str(_dict(contact.get("profile")).get("name"))


def _parse_status(raw: dict) -> StatusUpdate | None:
    message_id, status = _str(raw.get("id")), _str(raw.get("status"))
    if not message_id or not status:
        return None
    error = _first_error(raw.get("errors"))
    return StatusUpdate(
        message_id=message_id,
        status=status,
        recipient_id=_str(raw.get("recipient_id") or raw.get("recipient_user_id")),
        timestamp=_int(raw.get("timestamp")),
        error_code=error.code if error else None,
        error_title=error.title if error else "",
        error_details=error.details if error else "",
        callback_data=_str(raw.get("biz_opaque_callback_data")),
    )


def _parse_value(value: dict, out: ParsedWebhook) -> None:
    phone_number_id = _str(_dict(value.get("metadata")).get("phone_number_id"))
    contacts = [c for c in _list(value.get("contacts")) if isinstance(c, dict)]

    for raw in _list(value.get("messages")):
        raw = _dict(raw)
        message_id = _str(raw.get("id"))
        sender, name = _sender(raw, contacts)
        if not message_id or not sender:
            out.skipped += 1
            continue
        error = _first_error(raw.get("errors"))
        if error:
            out.errors.append(WebhookError(error.code, error.title, error.details, message_id))
        mtype = _str(raw.get("type"))
        if mtype == "reaction":
            reaction = _dict(raw.get("reaction"))
            out.reactions.append(
                Reaction(message_id, sender, _str(reaction.get("message_id")), _str(reaction.get("emoji")))
            )
            continue
        text = message_text(raw)
        if text is None:
            out.skipped += 1
            continue
        out.messages.append(
            InboundMessage(message_id, sender, mtype, text, _int(raw.get("timestamp")), name, phone_number_id)
        )

    for raw in _list(value.get("statuses")):
        status = _parse_status(_dict(raw))
        if status:
            out.statuses.append(status)
        else:
            out.skipped += 1

    for raw in _list(value.get("errors")):
        error = _first_error([raw])
        if error:
            out.errors.append(error)


def parse_webhook(payload: Mapping[str, Any]) -> ParsedWebhook:
    """Read a webhook body (already JSON-decoded). Only `object: whatsapp_business_account` bodies are read."""
    out = ParsedWebhook(object=_str(payload.get("object")))
    if not out.is_whatsapp:
        return out
    for entry in _list(payload.get("entry")):
        for change in _list(_dict(entry).get("changes")):
            change = _dict(change)
            template_status = _template_status(change)
            if template_status is not None:
                out.template_statuses.append(template_status)
                continue
            if change.get("field") != "messages" or not isinstance(change.get("value"), dict):
                out.skipped += 1  # template status, account updates...: not conversation traffic
                continue
            _parse_value(change["value"], out)
    return out


def _template_status(change: Mapping[str, Any]) -> TemplateStatus | None:
    if change.get("field") != "message_template_status_update":
        return None
    value = _dict(change.get("value"))
    name, language, event = (
        _str(value.get(k)) for k in ("message_template_name", "message_template_language", "event")
    )
    if not (name and language and event):
        return None
    return TemplateStatus(name, language, event.upper(), _str(value.get("reason")))

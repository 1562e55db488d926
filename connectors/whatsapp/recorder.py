"""Delivery events (statuses, reactions, send failures, webhook errors): kept in a bounded list and logged.

Numbers are masked before they are stored, so the list can be shown or persisted as is.
"""

from __future__ import annotations

import collections
import enum
import logging
import time
from dataclasses import dataclass, field

from common.phone import mask_phone

logger = logging.getLogger(__name__)


class EventKind(str, enum.Enum):
    STATUS = "status"
    REACTION = "reaction"
    SEND_FAILED = "send_failed"
    WEBHOOK_ERROR = "webhook_error"


@dataclass(frozen=True)
class DeliveryEvent:
    kind: EventKind
    message_id: str = ""
    recipient: str = ""  # masked
    status: str = ""  # a status name, or the emoji of a reaction
    code: int | None = None
    title: str = ""
    at: float = field(default_factory=time.time)

    @property
    def is_failure(self) -> bool:
        return self.kind in (EventKind.SEND_FAILED, EventKind.WEBHOOK_ERROR) or self.status == "failed"


class EventRecorder:
    def __init__(self, capacity: int = 1000) -> None:
        self._events: collections.deque[DeliveryEvent] = collections.deque(maxlen=capacity)

    def record(
        self,
        kind: EventKind,
        *,
        message_id: str = "",
        recipient: str = "",
        status: str = "",
        code: int | None = None,
        title: str = "",
    ) -> DeliveryEvent:
        event = DeliveryEvent(kind, message_id, mask_phone(recipient), status, code, title)
        self._events.append(event)
        logger.log(
            logging.WARNING if event.is_failure else logging.INFO,
            "whatsapp %s message=%s recipient=%s status=%s code=%s title=%s",
            event.kind.value,
            event.message_id or "-",
            event.recipient or "-",
            event.status or "-",
            event.code if event.code is not None else "-",
            event.title or "-",
        )
        return event

    @property
    def events(self) -> list[DeliveryEvent]:
        return list(self._events)

    def of_kind(self, kind: EventKind) -> list[DeliveryEvent]:
        return [e for e in self._events if e.kind == kind]

    def clear(self) -> None:
        self._events.clear()

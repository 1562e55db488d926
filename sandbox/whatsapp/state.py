"""The simulator's memory: every outbound Graph call (the outbox), the users' messages sent through it
(the inbox, so the web chat can show a conversation again after a reload) and the armed failure modes.

Kept in memory on purpose: the sandbox is for one developer or one test run, and `POST /_sim/reset`
must give a clean slate.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .graph_errors import GraphError

MAX_RECORDS = 5000  # a long-running sandbox must not grow without bound


@dataclass
class Record:
    """One call the bot made to the fake Graph API, and what the simulator answered."""

    seq: int
    time: float
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    kind: str  # "message" | "read" | "invalid"
    to: str | None  # the recipient's digits (for a read receipt: who sent the message being read)
    status: int
    response: dict[str, Any]
    # a template send as the phone shows it: {"text", "buttons": [{"text", "payload"}]} (the web chat draws it)
    rendered: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        shown = {"rendered": self.rendered} if self.rendered is not None else {}
        return {
            "seq": self.seq,
            "time": datetime.fromtimestamp(self.time, timezone.utc).isoformat(),
            "method": self.method,
            "path": self.path,
            "headers": self.headers,
            "body": self.body,
            "kind": self.kind,
            "to": self.to,
            "status": self.status,
            "response": self.response,
        } | shown


class Outbox:
    """Recorded calls with a growing sequence number, so pollers ask for `after=<last seq>`."""

    def __init__(self) -> None:
        self._records: deque[Record] = deque(maxlen=MAX_RECORDS)
        self._seq = 0
        self._changed = asyncio.Condition()

    @property
    def last_seq(self) -> int:
        return self._seq

    async def add(self, **fields: Any) -> Record:
        async with self._changed:
            self._seq += 1
            record = Record(seq=self._seq, time=time.time(), **fields)
            self._records.append(record)
            self._changed.notify_all()
            return record

    def query(self, to: str | None = None, after: int = 0, kind: str | None = None) -> list[Record]:
        # records are kept in seq order with no gaps: skip straight to the first one after `after`
        # (a poller asks after every new record; scanning all 5000 each time was most of the simulator's CPU)
        start = max(len(self._records) - (self._seq - max(after, 0)), 0)
        return [
            r
            for r in itertools.islice(self._records, start, None)
            if (to is None or r.to == to) and (kind is None or r.kind == kind)
        ]

    async def wait(self, to: str | None, after: int, kind: str | None, timeout: float) -> list[Record]:
        """Long poll: the matching records, waiting up to `timeout` s for the first one to arrive."""
        found = self.query(to, after, kind)
        if found or timeout <= 0:
            return found
        try:
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(lambda: bool(self.query(to, after, kind))), timeout)
        except asyncio.TimeoutError:
            pass
        return self.query(to, after, kind)

    async def clear(self) -> None:
        # the sequence keeps growing, so a poller's `after` never skips a message made after a reset
        async with self._changed:
            self._records.clear()
            self._changed.notify_all()


@dataclass
class Inbound:
    """One user message the simulator posted to the webhook (`POST /_sim/send`), and how it went."""

    after_seq: int  # the outbox's last seq when it was sent: it comes after that record in the conversation
    time: float
    sender: str
    message: dict[str, Any]  # the element of the webhook body's `value.messages`
    pending: bool = True  # the webhook has not answered yet
    status: int | None = None  # the webhook's HTTP status (None: unreachable, or still pending)
    response: str = ""

    def delivered(self, status: int | None, response: str) -> None:
        self.pending, self.status, self.response = False, status, response[:500]

    def to_json(self) -> dict[str, Any]:
        return {
            "after_seq": self.after_seq,
            "time": datetime.fromtimestamp(self.time, timezone.utc).isoformat(),
            "kind": "inbound",
            "from": self.sender,
            "body": self.message,
            "pending": self.pending,
            "status": self.status,
            "response": self.response,
        }


class Inbox:
    """The users' messages, in the order they were sent, placed between the outbox records."""

    def __init__(self, capacity: int = MAX_RECORDS) -> None:
        self._records: deque[Inbound] = deque(maxlen=capacity)

    def add(self, after_seq: int, sender: str, message: dict[str, Any]) -> Inbound:
        record = Inbound(after_seq=after_seq, time=time.time(), sender=sender, message=message)
        self._records.append(record)
        return record

    def query(self, sender: str | None = None, after: int = 0) -> list[Inbound]:
        """Messages from `sender` sent after outbox record `after` was made (`after_seq >= after`)."""
        return [r for r in self._records if (sender is None or r.sender == sender) and r.after_seq >= after]

    def clear(self) -> None:
        self._records.clear()


def conversation(records: list[Record], inbound: list[Inbound]) -> list[dict[str, Any]]:
    """Outbox records and user messages as one list in the order they happened (as JSON)."""
    keyed = [((r.seq, 0), r.to_json()) for r in records] + [((m.after_seq, 1), m.to_json()) for m in inbound]
    keyed.sort(key=lambda pair: pair[0])  # stable: user messages after the same record keep their order
    return [item for _, item in keyed]


@dataclass
class _Armed:
    error: GraphError
    remaining: int
    applies_to: str  # "message" | "read" | "all"


@dataclass
class FailurePlan:
    """Failure modes armed by `POST /_sim/fail`: each fails the next N matching calls, then recovers."""

    armed: list[_Armed] = field(default_factory=list)

    def arm(self, error: GraphError, times: int, applies_to: str = "message") -> None:
        self.armed.append(_Armed(error, times, applies_to))

    def take(self, kind: str) -> GraphError | None:
        for item in self.armed:
            if item.applies_to in (kind, "all"):
                item.remaining -= 1
                if item.remaining <= 0:
                    self.armed.remove(item)
                return item.error
        return None

    def pending(self) -> list[dict[str, Any]]:
        return [
            {
                "code": a.error.code,
                "http_status": a.error.http_status,
                "remaining": a.remaining,
                "applies_to": a.applies_to,
            }
            for a in self.armed
        ]

    def clear(self) -> None:
        self.armed.clear()


class SenderIndex:
    """wamid of an inbound message -> who sent it, so a read receipt can be shown in that chat."""

    def __init__(self, capacity: int = 10000) -> None:
        self._by_wamid: dict[str, str] = {}
        self._capacity = capacity

    def remember(self, wamid: str, sender: str) -> None:
        if len(self._by_wamid) >= self._capacity:
            self._by_wamid.pop(next(iter(self._by_wamid)))  # dicts keep insertion order: drop the oldest
        self._by_wamid[wamid] = sender

    def sender_of(self, wamid: Any) -> str | None:
        return self._by_wamid.get(wamid) if isinstance(wamid, str) else None

    def clear(self) -> None:
        self._by_wamid.clear()


TEMPLATE_STATUSES = ("APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED")


class TemplateBook:
    """The WhatsApp Business Account's message templates (`/{waba_id}/message_templates`). A template created
    here is APPROVED at once (Meta takes minutes to hours); `POST /_sim/template` moves one to another status.
    An empty book accepts every registry template's send; once a template is here, only an APPROVED one may
    be sent (132015 paused, 132016 disabled, 132001 otherwise)."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], dict[str, Any]] = {}
        self._ids = itertools.count(1)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        template = {
            "id": f"{900000000000000 + next(self._ids)}",
            "name": body["name"],
            "language": body["language"],
            "category": body["category"],
            "status": "APPROVED",
            "components": body.get("components") or [],
        }
        self._by_key[(template["name"], template["language"])] = template
        return template

    def get(self, name: str, language: str) -> dict[str, Any] | None:
        return self._by_key.get((name, language))

    def all(self) -> list[dict[str, Any]]:
        return list(self._by_key.values())

    def set_status(self, name: str, language: str, status: str) -> dict[str, Any] | None:
        template = self._by_key.get((name, language))
        if template is not None:
            template["status"] = status
        return template

    def clear(self) -> None:
        self._by_key.clear()

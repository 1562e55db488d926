"""A WhatsApp user for end-to-end tests: posts signed Cloud-API webhooks to the real Rasa server and reads
the bot's answers from the simulator's fake Graph API."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from sandbox.whatsapp import payloads
from settings import Settings


@dataclass
class WhatsAppUser:
    stack: Any
    phone: str  # wa_id: country code + number, no "+"
    name: str = "Asha"
    seen: int = field(default=0)

    @property
    def secret(self) -> str:
        return self.stack.env()["WHATSAPP_WEBHOOK_SECRET"]

    def post(self, body: dict, secret: str | None = None, headers: dict | None = None) -> requests.Response:
        raw, signed_headers = payloads.signed(body, secret or self.secret)
        return requests.post(
            self.stack.webhook_url, data=raw, headers={**signed_headers, **(headers or {})}, timeout=10
        )

    def say(self, text: str) -> requests.Response:
        return self.post(payloads.text(self.phone, text, name=self.name))

    def press(self, button_id: str, title: str = "") -> requests.Response:
        return self.post(payloads.button_reply(self.phone, button_id, title or button_id, name=self.name))

    def outbox(self, wait: float = 0.0) -> list[dict]:
        r = requests.get(
            f"{self.stack.sim_url}/_sim/outbox",
            params={"to": self.phone, "after": self.seen, "wait": wait},
            timeout=wait + 10,
        )
        r.raise_for_status()
        return r.json()["messages"]

    def replies(self, count: int = 1, timeout: float = 20.0, settle: float = 0.7) -> list[dict]:
        """The bot's next messages (Graph bodies), read receipts left out. Waits for `count`, then a little
        longer so that an unexpected extra message is seen too."""
        got: list[dict] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            want_more = len(got) < count
            records = self.outbox(wait=min(2.0, max(deadline - time.monotonic(), 0.1)) if want_more else settle)
            for rec in records:
                self.seen = max(self.seen, rec["seq"])
                if rec["body"].get("status") != "read":
                    got.append(rec["body"])
            if not want_more:
                break
        return got

    def read_receipt_for(self, message_id: str) -> dict | None:
        r = requests.get(f"{self.stack.sim_url}/_sim/outbox", params={"after": 0}, timeout=10)
        found = [rec["body"] for rec in r.json()["messages"] if rec["body"].get("message_id") == message_id]
        return found[0] if found else None


def text_of(body: dict) -> str:
    """What the user reads of one Graph message body (text, or the body of an interactive message)."""
    if body.get("type") == "text":
        return body["text"]["body"]
    if body.get("type") == "interactive":
        return body["interactive"]["body"]["text"]
    return ""


def texts(bodies: list[dict]) -> str:
    """What the user reads of the bot's messages, one after another (separated by a line of ---)."""
    return "\n---\n".join(text_of(b) for b in bodies)


def choices_of(body: dict) -> list[tuple[str, str]]:
    """(id, title) of the buttons or list rows the user can press."""
    inter = body.get("interactive") or {}
    if inter.get("type") == "button":
        return [(b["reply"]["id"], b["reply"]["title"]) for b in inter["action"]["buttons"]]
    if inter.get("type") == "list":
        return [(r["id"], r["title"]) for s in inter["action"]["sections"] for r in s["rows"]]
    return []


@pytest.fixture
def user(stack) -> WhatsAppUser:
    # a fresh number per test: conversations never leak between tests
    return WhatsAppUser(stack, phone=f"9199{uuid.uuid4().int % 10**8:08d}")


@pytest.fixture
def settings(stack) -> Settings:
    return Settings.from_env(stack.env())

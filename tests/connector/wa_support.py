"""Helpers for the WhatsApp channel tests: payload files, a fake Graph API, a fake agent, the app harness."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from connectors.whatsapp.channel import WhatsAppInput
from connectors.whatsapp.graph import GraphClient
from connectors.whatsapp.signature import sign
from settings import Settings

SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
ACCESS_TOKEN = "test-access-token-SECRET"
PHONE_NUMBER_ID = "106540352242922"  # the business number in the payload files

# the Cloud API's webhook bodies, copied from the project's shared folder (tests/fixtures/README.md)
PAYLOAD_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "whatsapp-payloads"
PAYLOAD_FILES = sorted(p.name for p in PAYLOAD_DIR.glob("*.json"))


def payload_bytes(name: str) -> bytes:
    return (PAYLOAD_DIR / name).read_bytes()


def payload(name: str) -> dict[str, Any]:
    return json.loads(payload_bytes(name))


def text_batch(*messages: tuple[str, str, str]) -> dict[str, Any]:
    """A webhook body with one text message per (sender wa_id, message id, body), in that order."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
                            "contacts": [
                                {"profile": {"name": "User"}, "wa_id": s} for s in dict.fromkeys(m[0] for m in messages)
                            ],
                            "messages": [
                                {"from": s, "id": i, "timestamp": "1764039600", "type": "text", "text": {"body": b}}
                                for s, i, b in messages
                            ],
                        },
                    }
                ],
            }
        ],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- fake Graph API -----------------------------------------------------------------------------------------


@dataclass
class GraphCall:
    path: str
    authorization: str
    body: dict[str, Any]


@dataclass
class FakeGraph:
    """Records every call; answers from `script` (status, json body, headers) or "drop"/"hang", else 200."""

    base_url: str = ""
    calls: list[GraphCall] = field(default_factory=list)
    script: deque = field(default_factory=deque)
    timeline: list[tuple[str, Any]] | None = None  # shared with the fake agent to check the order of events
    released: asyncio.Event = field(default_factory=asyncio.Event)  # ends "hang" answers at teardown

    def then(self, *responses: Any) -> FakeGraph:
        self.script.extend(responses)
        return self

    @property
    def sent(self) -> list[dict[str, Any]]:
        """Message payloads (not read receipts)."""
        return [c.body for c in self.calls if "type" in c.body]

    @property
    def reads(self) -> list[dict[str, Any]]:
        return [c.body for c in self.calls if c.body.get("status") == "read"]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.calls.append(GraphCall(request.path, request.headers.get("Authorization", ""), body))
        if self.timeline is not None:
            self.timeline.append(("graph", body))
        action = self.script.popleft() if self.script else None
        if action == "drop":  # the connection dies mid-request: a network error for the client
            request.transport.close()
            raise ConnectionResetError("dropped")
        if action == "hang":  # longer than any client timeout in the tests
            await self.released.wait()
            return web.json_response({})
        if action is None:
            return web.json_response(
                {"messaging_product": "whatsapp", "messages": [{"id": f"wamid.OUT{len(self.calls)}"}]}
            )
        status, json_body, *headers = action
        return web.json_response(json_body, status=status, headers=headers[0] if headers else None)


def graph_error_body(code: int, message: str = "error", subcode: int | None = None, details: str = "") -> dict:
    err: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}
    if subcode is not None:
        err["error_subcode"] = subcode
    if details:
        err["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return {"error": err}


def make_settings(graph_base_url: str = "http://127.0.0.1:9", **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        whatsapp_access_token=ACCESS_TOKEN,
        whatsapp_phone_number_id=PHONE_NUMBER_ID,
        whatsapp_webhook_verify_token=VERIFY_TOKEN,
        whatsapp_webhook_secret=SECRET,
        whatsapp_base_url=graph_base_url,
        whatsapp_timeout_seconds=5.0,
        whatsapp_max_retries=2,
        action_endpoint_url="",
    )
    values.update(overrides)
    return Settings(**values)


def fast_graph_client(settings: Settings, **kwargs: Any) -> GraphClient:
    """A client with tiny backoffs: retry tests check behaviour, not waiting."""
    kwargs.setdefault("timeout_seconds", settings.whatsapp_timeout_seconds)
    kwargs.setdefault("max_retries", settings.whatsapp_max_retries)
    return GraphClient(
        settings.graph_messages_url, settings.whatsapp_access_token, backoff_initial=0.001, backoff_max=0.01, **kwargs
    )


# --- the channel in a running Sanic app, wired like `rasa run` does it ----------------------------------------


class FakeAgent:
    """Stands in for rasa's Agent: records UserMessages, echoes text through the output channel.

    `gates[text]` holds a message until the test sets it (to observe ordering without timing).
    """

    def __init__(self, timeline: list[tuple[str, Any]], ready: bool = True) -> None:
        self.ready = ready
        self.received: list[UserMessage] = []
        self.timeline = timeline
        self.gates: dict[str, asyncio.Event] = {}
        self.started: dict[str, asyncio.Event] = {}
        self.finished: dict[str, asyncio.Event] = {}
        self.processor = None
        self.tracker_store = None
        self.lock_store = None
        self.action_endpoint = None
        self.echo = True

    def is_ready(self) -> bool:
        return self.ready

    def started_event(self, text: str) -> asyncio.Event:
        return self.started.setdefault(text, asyncio.Event())

    def finished_event(self, text: str) -> asyncio.Event:
        return self.finished.setdefault(text, asyncio.Event())

    async def handle_message(self, message: UserMessage) -> None:
        self.timeline.append(("rasa-start", message.text))
        self.started_event(message.text).set()
        if message.text in self.gates:
            await self.gates[message.text].wait()
        self.received.append(message)
        self.timeline.append(("rasa-end", message.text))
        if self.echo:
            await message.output_channel.send_text_message(message.sender_id, f"echo: {message.text}")
        self.finished_event(message.text).set()


@dataclass
class Harness:
    channel: WhatsAppInput
    agent: FakeAgent
    graph: FakeGraph
    app: Sanic
    url: str
    http: aiohttp.ClientSession
    timeline: list[tuple[str, Any]]

    async def post(self, body: bytes | dict, *, signature: str | None = "auto") -> aiohttp.ClientResponse:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if signature == "auto":
            signature = sign(SECRET, raw)
        if signature is not None:
            headers["X-Hub-Signature-256"] = signature
        async with self.http.post(f"{self.url}/webhooks/whatsapp/webhook", data=raw, headers=headers) as resp:
            await resp.read()
            return resp

    async def get(self, path: str, params: dict[str, str] | None = None) -> tuple[int, str, str]:
        async with self.http.get(f"{self.url}/webhooks/whatsapp/{path}", params=params) as resp:
            return resp.status, await resp.text(), resp.headers.get("Content-Type", "")

    async def settle(self) -> None:
        """Wait until everything the channel accepted has been handled."""
        assert await self.channel.queues.wait_idle(timeout=10)


@contextlib.asynccontextmanager
async def serving(app: Sanic) -> AsyncIterator[str]:
    """Run a Sanic app on a free 127.0.0.1 port inside the test's loop, with its start/stop listeners."""
    Sanic.test_mode = True  # several apps in one process: Sanic's class-level TouchUp must be re-runnable
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)  # already listening
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        await server.before_stop()  # the channel finishes accepted work here
        server.close()
        await server.wait_closed()
        await server.after_stop()

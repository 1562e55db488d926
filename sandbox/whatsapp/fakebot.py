"""A stand-in bot for trying the simulator without Rasa (and for the simulator's own tests).

It honours the same contract as the assistant: verifies `X-Hub-Signature-256`, answers the webhook at
once, then replies through the Graph API (`POST {graph}/{version}/{phone_number_id}/messages`):

- any text -> mark-as-read, then "*Hello!* ..." with two reply buttons (Yes / No)
- "menu"   -> an interactive list of three rows
- a button press -> "You pressed *<title>*."; a list pick -> "You picked _<title>_."; a template's quick reply
  -> "You tapped *<text>*."
- an image -> "Nice photo!"; other media/location -> "Got your <type>."

    python -m sandbox.whatsapp.fakebot --port 5005 --graph http://127.0.0.1:9001 --secret S --token T
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web

from . import payloads

HELLO_BUTTONS = [
    {"type": "reply", "reply": {"id": "/affirm", "title": "Yes"}},
    {"type": "reply", "reply": {"id": "/deny", "title": "No"}},
]
MENU_ROWS = [
    {"id": "appointments", "title": "Appointments", "description": "Upcoming visits"},
    {"id": "medications", "title": "Medications", "description": "Current prescriptions"},
    {"id": "records", "title": "Records", "description": "Encounters and diagnoses"},
]
RECEIVED = web.AppKey("received", list)


def reply_for(message: dict[str, Any]) -> dict[str, Any] | None:
    """The bot's answer (a Graph `/messages` body without messaging_product/to) to one user message."""
    kind = message.get("type")
    if kind == "text":
        if message["text"]["body"].strip().lower() == "menu":
            return {
                "type": "interactive",
                "interactive": {
                    "type": "list",
                    "body": {"text": "What would you like to see?"},
                    "action": {"button": "Menu", "sections": [{"title": "Your health", "rows": MENU_ROWS}]},
                },
            }
        return {
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "*Hello!* I am the _sandbox_ bot. Shall we start?"},
                "action": {"buttons": HELLO_BUTTONS},
            },
        }
    if kind == "interactive":
        inter = message["interactive"]
        if inter.get("type") == "button_reply":
            return {"type": "text", "text": {"body": f"You pressed *{inter['button_reply']['title']}*."}}
        if inter.get("type") == "list_reply":
            return {"type": "text", "text": {"body": f"You picked _{inter['list_reply']['title']}_."}}
    if kind == "button":  # a template's quick reply
        return {"type": "text", "text": {"body": f"You tapped *{message['button']['text']}*."}}
    if kind == "image":
        return {"type": "text", "text": {"body": "Nice photo!"}}
    if kind in ("audio", "video", "document", "sticker", "location"):
        return {"type": "text", "text": {"body": f"Got your {kind}."}}
    return None


def make_fakebot(
    graph_url: str,
    secret: str,
    token: str,
    phone_number_id: str,
    api_version: str = "v21.0",
    read_before_ack: bool = False,
) -> web.Application:
    """read_before_ack: mark each message read before answering the webhook, so the read receipt
    reaches the simulator's outbox before the sender learns the message id (a race the web chat must survive)."""
    app = web.Application()
    app[RECEIVED] = []  # every accepted webhook body, for tests
    messages_url = f"{graph_url.rstrip('/')}/{api_version}/{phone_number_id}/messages"
    tasks: set[asyncio.Task[None]] = set()
    session_box: list[aiohttp.ClientSession] = []

    async def graph(body: dict[str, Any]) -> None:
        body = {"messaging_product": "whatsapp", **body}
        async with session_box[0].post(
            messages_url,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=aiohttp.ClientTimeout(total=10),
        ) as resp:
            await resp.read()

    async def mark_read(message: dict[str, Any]) -> None:
        await graph({"status": "read", "message_id": message["id"], "typing_indicator": {"type": "text"}})

    async def answer(message: dict[str, Any]) -> None:
        if not read_before_ack:
            await mark_read(message)
        reply = reply_for(message)
        if reply is not None and message.get("from"):
            await graph({"recipient_type": "individual", "to": message["from"], **reply})

    async def webhook(request: web.Request) -> web.Response:
        raw = await request.read()
        header = request.headers.get(payloads.SIGNATURE_HEADER)
        if not header:
            return web.Response(status=401, text="missing signature")
        if not payloads.verify_signature(secret, raw, header):
            return web.Response(status=403, text="bad signature")
        try:
            body = json.loads(raw)
        except ValueError:
            return web.Response(status=400, text="malformed body")
        app[RECEIVED].append(body)
        for entry in body.get("entry", []):
            for change in entry.get("changes", []):
                for message in change.get("value", {}).get("messages", []):
                    if read_before_ack:
                        await mark_read(message)
                    # answer 200 first, reply afterwards: the real contract
                    task = asyncio.get_running_loop().create_task(answer(message))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        return web.json_response({"status": "ok"})

    async def lifecycle(_: web.Application) -> AsyncIterator[None]:
        session_box.append(aiohttp.ClientSession())
        yield
        for task in list(tasks):
            task.cancel()
        await session_box[0].close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_post("/webhooks/whatsapp/webhook", webhook)
    return app


def main() -> None:
    p = argparse.ArgumentParser(
        prog="python -m sandbox.whatsapp.fakebot",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5005)
    p.add_argument("--graph", default="http://127.0.0.1:9001", help="the simulator (fake Graph API) base URL")
    p.add_argument("--secret", default="", help="app secret the simulator signs with")
    p.add_argument("--token", default="sandbox-token", help="bearer token sent to the Graph API")
    p.add_argument("--phone-number-id", default=payloads.SAMPLE_BUSINESS.phone_number_id)
    p.add_argument("--api-version", default="v21.0")
    a = p.parse_args()
    web.run_app(make_fakebot(a.graph, a.secret, a.token, a.phone_number_id, a.api_version), host=a.host, port=a.port)


if __name__ == "__main__":
    main()

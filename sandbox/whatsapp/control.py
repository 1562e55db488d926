"""The simulator's own API under `/_sim/`: inject user messages, inspect the outbox, arm failures.

GET  /_sim/health                    config summary, last outbox seq, armed failures
GET  /_sim/outbox?to=&after=&kind=&wait=   recorded Graph calls after a seq (long poll up to `wait` s)
     &inbound=1                      ... and the user messages sent through /_sim/send (kind "inbound",
                                     `after_seq` instead of `seq`), in conversation order: a chat's history
POST /_sim/send    {send spec}       build + sign + post a user message to the webhook (see spec.py)
POST /_sim/raw     {"payload", "sign"}   forward any body, signed "valid" (default), "missing" or "bad"
POST /_sim/status  {"message_id", "to", "status", "error_code"?, "callback_data"?}   post a status notification
POST /_sim/fail    {"code", "times"?, "http_status"?, "applies_to"?}  fail the next N Graph calls
POST /_sim/template {"name", "language"?, "status"}   set a template's status in the fake WhatsApp Business
                                     Account (APPROVED, PAUSED, ...) and post its message_template_status_update
POST /_sim/send-due {"hours"?: 24}   send the reminders due within the next N hours now: runs the product's
                                     `python -m notifications.tasks send-due --horizon-hours N` (--send-due-command)
POST /_sim/reset                     clear outbox, user messages and failures (the templates stay)
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import payloads, spec
from .graph_errors import error_for_code
from .state import TEMPLATE_STATUSES, Inbound, Inbox, conversation
from .webhook import SIGN_MODES

if TYPE_CHECKING:  # avoids an import cycle at run time
    from .server import Simulator

MAX_WAIT_SECONDS = 30.0
SEND_DUE_TIMEOUT_SECONDS = 120.0


def _bad_request(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


async def _json(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "body must be JSON"}), content_type="application/json"
        ) from None


def _digits(value: str | None) -> str | None:
    if not value:
        return None
    return "".join(ch for ch in value if ch.isdigit()) or value


class Control:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.inbox = Inbox()  # what users sent through /_sim/send (only this API writes or reads it)

    async def health(self, request: web.Request) -> web.Response:
        cfg = self.sim.config
        business = cfg.business
        return web.json_response(
            {
                "status": "ok",
                "webhook_url": cfg.webhook_url,
                "graph_path": f"/{cfg.api_version}/{business.phone_number_id}/messages",
                "phone_number_id": business.phone_number_id,
                "display_phone_number": business.display_phone_number,
                "api_version": cfg.api_version,
                "bot_name": cfg.bot_name,
                "signing": bool(cfg.secret),
                "checks_token": bool(cfg.access_token),
                "last_seq": self.sim.outbox.last_seq,
                "failures": self.sim.failures.pending(),
            }
        )

    async def outbox(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            after = int(q.get("after", "0") or 0)
            wait = min(float(q.get("wait", "0") or 0), MAX_WAIT_SECONDS)
        except ValueError:
            return _bad_request("'after' and 'wait' must be numbers")
        kind = q.get("kind") or None
        if kind == "all":
            kind = None
        to = _digits(q.get("to"))
        records = await self.sim.outbox.wait(to, after, kind, wait)  # kind=inbound: no outbox record
        if q.get("inbound", "").lower() in ("1", "true", "yes") and kind in (None, "inbound"):
            # read in the same step as the records and last_seq: the history and the seq to poll after agree
            messages = conversation(records, self.inbox.query(to, after))
        else:
            messages = [r.to_json() for r in records]
        return web.json_response({"messages": messages, "last_seq": self.sim.outbox.last_seq})

    async def send(self, request: web.Request) -> web.Response:
        data = await _json(request)
        try:
            body = spec.build(data, self.sim.config.business)
        except spec.SpecError as exc:
            return _bad_request(str(exc))
        ids = payloads.message_ids(body)
        sent: list[Inbound] = []
        for message in body["entry"][0]["changes"][0]["value"]["messages"]:
            self.sim.senders.remember(message["id"], message["from"])
            sent.append(self.inbox.add(self.sim.outbox.last_seq, message["from"], message))
        delivery = await self.sim.webhook.post_body(body)
        for record in sent:
            record.delivered(delivery.status, delivery.text)
        result = {"status": delivery.status, "message_id": ids[0], "message_ids": ids, "response": delivery.text}
        return web.json_response(result, status=200 if delivery.status is not None else 502)

    async def raw(self, request: web.Request) -> web.Response:
        data = await _json(request)
        if not isinstance(data, dict) or "payload" not in data:
            return _bad_request('send {"payload": <JSON or string>, "sign": "valid"|"missing"|"bad"}')
        payload = data["payload"]
        raw = payload.encode("utf-8") if isinstance(payload, str) else payloads.encode(payload)
        sign = data.get("sign", "valid")
        if not isinstance(sign, str) or (sign not in SIGN_MODES and not sign.startswith("sha256=")):
            return _bad_request(f"'sign' must be one of {SIGN_MODES} or a literal 'sha256=…' header value")
        delivery = await self.sim.webhook.post(raw, sign)
        return web.json_response(
            {"status": delivery.status, "response": delivery.text}, status=200 if delivery.status is not None else 502
        )

    async def status(self, request: web.Request) -> web.Response:
        data = await _json(request)
        if not isinstance(data, dict) or not data.get("message_id") or not data.get("to"):
            return _bad_request('send {"message_id", "to", "status"?, "error_code"?}')
        state = data.get("status", "delivered")
        if state not in ("sent", "delivered", "read", "failed"):
            return _bad_request("'status' must be sent, delivered, read or failed")
        try:
            error_code = int(data["error_code"]) if data.get("error_code") is not None else None
        except (TypeError, ValueError):
            return _bad_request("'error_code' must be a number")
        body = payloads.status(
            str(data["message_id"]),
            _digits(str(data["to"])) or "",
            state,
            error_code=error_code,
            business=self.sim.config.business,
            callback_data=str(data["callback_data"]) if data.get("callback_data") else None,
        )
        delivery = await self.sim.webhook.post_body(body)
        return web.json_response(
            {"status": delivery.status, "response": delivery.text}, status=200 if delivery.status is not None else 502
        )

    async def fail(self, request: web.Request) -> web.Response:
        data = await _json(request)
        try:
            code = int(data["code"])
            times = int(data.get("times", 1))
            http_status = int(data["http_status"]) if data.get("http_status") is not None else None
        except (KeyError, TypeError, ValueError):
            return _bad_request('send {"code": <int>, "times": <int>?, "http_status": <int>?}')
        applies_to = data.get("applies_to", "message")
        if applies_to not in ("message", "read", "all") or times < 1:
            return _bad_request("'applies_to' must be message, read or all; 'times' at least 1")
        error = error_for_code(code, http_status)
        self.sim.failures.arm(error, times, applies_to)
        return web.json_response({"armed": self.sim.failures.pending(), "example": error.body()})

    async def reset(self, request: web.Request) -> web.Response:
        await self.sim.outbox.clear()
        self.inbox.clear()
        self.sim.failures.clear()
        self.sim.senders.clear()
        return web.json_response({"status": "ok", "last_seq": self.sim.outbox.last_seq})

    async def template(self, request: web.Request) -> web.Response:
        data = await _json(request)
        if not isinstance(data, dict) or not data.get("name") or data.get("status") not in TEMPLATE_STATUSES:
            return _bad_request(f'send {{"name", "language"?, "status"}}; status one of {TEMPLATE_STATUSES}')
        template = self.sim.templates.set_status(str(data["name"]), str(data.get("language") or "en"), data["status"])
        if template is None:
            return _bad_request(
                "no such template in the account: create it first (python -m notifications.templates create)"
            )
        body = payloads.template_status_update(template, business=self.sim.config.business)
        delivery = await self.sim.webhook.post_body(body)
        return web.json_response({"template": template, "status": delivery.status, "response": delivery.text})

    async def send_due(self, request: web.Request) -> web.Response:
        """Runs the configured product command (`--send-due-command`) with `--horizon-hours N`: the reminders due
        within N hours are sent now, as the workers would send them then. The sandbox only starts it."""
        data = await _json(request) if request.can_read_body else {}
        try:
            hours = float((data or {}).get("hours", 24))
        except (TypeError, ValueError, AttributeError):
            return _bad_request("'hours' must be a number")
        if not 0 <= hours <= 26:
            return _bad_request("'hours' must be between 0 and 26 (the reminders are scheduled 26 h ahead)")
        command = self.sim.config.send_due_command
        if not command:
            return web.json_response(
                {"error": "not configured: start the simulator with --send-due-command (make run does)"}, status=501
            )
        process = await asyncio.create_subprocess_exec(
            *command,
            "--horizon-hours",
            f"{hours:g}",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), SEND_DUE_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
            return web.json_response({"error": f"no answer in {SEND_DUE_TIMEOUT_SECONDS:g} s"}, status=504)
        lines = out.decode("utf-8", "replace").strip().splitlines()
        try:
            result = json.loads(lines[-1]) if lines else None
        except ValueError:
            result = None
        body = {"hours": hours, "exit_code": process.returncode, "result": result}
        if process.returncode != 0:
            body["log"] = err.decode("utf-8", "replace")[-2000:]  # the product's log lines mask numbers
        return web.json_response(body, status=200 if process.returncode == 0 else 502)

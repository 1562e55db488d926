"""The fake Graph API: `POST /{version}/{phone_number_id}/messages`.

Answers like the Cloud API (ids, error shapes, HTTP statuses) and records every call in the outbox,
so the bot's output mapping is exercised against the same rules Meta applies.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from notifications import templates

from . import payloads
from .graph_errors import GraphError, bad_token, invalid_parameter, unknown_object
from .validation import is_read_receipt, recipient, validate

if TYPE_CHECKING:  # avoids an import cycle at run time
    from .server import Simulator

ROUTE = r"/{version:v[0-9.]+}/{phone_number_id}/messages"
TEMPLATES_ROUTE = r"/{version:v[0-9.]+}/{waba_id}/message_templates"
# a send of a template the account holds but may not send
_NOT_SENDABLE = {
    "PAUSED": (132015, "(#132015) Cannot send message, template is paused", "Template is paused"),
    "DISABLED": (132016, "(#132016) Cannot send message, template is disabled", "Template has been disabled"),
}
# anything else under a version: e.g. `/v21.0//messages` when WHATSAPP_PHONE_NUMBER_ID is empty
OTHER_ROUTE = r"/{version:v[0-9.]+}/{rest:.*}"


def _masked_headers(request: web.Request) -> dict[str, str]:
    # the outbox is shown in the browser and in logs: keep the scheme, never the token
    headers = {}
    for key, value in request.headers.items():
        if key.lower() == "authorization":
            scheme = value.split(" ", 1)[0] if value else ""
            value = f"{scheme} ***" if scheme else "***"
        headers[key] = value
    return headers


def _bearer(request: web.Request) -> str:
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.query.get("access_token", "")  # Graph also takes the token as a parameter


def template_view(body: Any) -> dict[str, Any] | None:
    """A template send as the phone shows it: the registry's body with the parameters filled in, and its
    quick-reply buttons with the payload each one sends back (a button the send gives no payload for sends its
    text, as WhatsApp does). None for anything else."""
    if not isinstance(body, dict) or body.get("type") != "template":
        return None
    content = body.get("template") or {}
    template = templates.registry().get(str(content.get("name")), str((content.get("language") or {}).get("code")))
    if template is None:
        return None
    components = [c for c in content.get("components") or [] if isinstance(c, dict)]
    values = [
        str(p.get("text", ""))
        for c in components
        if str(c.get("type", "")).lower() == "body"
        for p in c.get("parameters") or []
        if isinstance(p, dict)
    ]
    payloads_by_index = {
        str(c.get("index")): str(((c.get("parameters") or [{}])[0] or {}).get("payload") or "")
        for c in components
        if str(c.get("type", "")).lower() == "button"
    }
    buttons = [
        {"text": b.text, "payload": payloads_by_index.get(str(i)) or b.text} for i, b in enumerate(template.buttons)
    ]
    text = template.text(values) if len(values) == len(template.params) else template.body
    return {"name": template.name, "language": template.language, "text": text, "buttons": buttons}


class FakeGraph:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def _check(self, request: web.Request, body: Any, parsed: bool) -> GraphError | None:
        token = _bearer(request)
        if not token:
            return bad_token(missing=True)
        if self.sim.config.access_token and token != self.sim.config.access_token:
            return bad_token(missing=False)
        pnid = request.match_info["phone_number_id"]
        if self.sim.config.phone_number_id and pnid != self.sim.config.phone_number_id:
            return unknown_object(pnid)
        if not parsed:
            return invalid_parameter("The request body is not valid JSON.")
        return validate(body) or self._template_refusal(body)

    def _template_refusal(self, body: Any) -> GraphError | None:
        """A template the account holds that is not APPROVED may not be sent (an empty account: any)."""
        if not isinstance(body, dict) or body.get("type") != "template" or not self.sim.templates.all():
            return None
        content = body.get("template") or {}
        language = (content.get("language") or {}).get("code", "")
        template = self.sim.templates.get(str(content.get("name")), str(language))
        if template is None:
            return GraphError(132001, "(#132001) Template name does not exist in the translation", 404)
        refusal = _NOT_SENDABLE.get(template["status"])
        if refusal is not None:
            return GraphError(refusal[0], refusal[1], 400, details=refusal[2])
        if template["status"] != "APPROVED":
            return GraphError(132001, "(#132001) Template name does not exist in the translation", 404)
        return None

    def _check_account(self, request: web.Request) -> GraphError | None:
        token = _bearer(request)
        if not token:
            return bad_token(missing=True)
        if self.sim.config.access_token and token != self.sim.config.access_token:
            return bad_token(missing=False)
        waba_id = request.match_info["waba_id"]
        if waba_id != self.sim.config.business.waba_id:
            return unknown_object(waba_id)
        return None

    async def list_templates(self, request: web.Request) -> web.Response:
        """GET /{waba_id}/message_templates: every template of the account, in one page."""
        error = self._check_account(request)
        if error is not None:
            return web.json_response(error.body(), status=error.http_status)
        fields = [f for f in request.query.get("fields", "").split(",") if f] or ["name", "language", "status", "id"]
        data = [{k: t[k] for k in fields if k in t} for t in self.sim.templates.all()]
        return web.json_response({"data": data, "paging": {"cursors": {"before": "MAZDZD", "after": "MjQZD"}}})

    async def create_template(self, request: web.Request) -> web.Response:
        """POST /{waba_id}/message_templates: created and APPROVED at once; a name + language twice is refused."""
        error = self._check_account(request)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if error is None and not (
            isinstance(body, dict) and all(isinstance(body.get(k), str) for k in ("name", "language", "category"))
        ):
            error = invalid_parameter("name, language and category are required")
        if error is None and self.sim.templates.get(body["name"], body["language"]) is not None:
            error = GraphError(
                100,
                "Invalid parameter",
                400,
                subcode=2388023,
                details=f"Message template {body['name']} already exists in {body['language']}",
            )
        if error is not None:
            return web.json_response(error.body(), status=error.http_status)
        template = self.sim.templates.create(body)
        return web.json_response({"id": template["id"], "status": template["status"], "category": template["category"]})

    async def messages(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body: Any = json.loads(raw or b"null")
            parsed = True
        except ValueError:
            body, parsed = raw.decode("utf-8", "replace"), False
        if not parsed:
            kind, to = "invalid", None
        elif is_read_receipt(body):
            kind, to = "read", self.sim.senders.sender_of(body.get("message_id"))
        else:
            kind, to = "message", recipient(body)
        error = self._check(request, body, parsed) or self.sim.failures.take(kind)
        if error is not None:
            status, response = error.http_status, error.body()
        elif kind == "read":
            status, response = 200, {"success": True}
        else:
            status, response = 200, self._accepted(body)
        await self.sim.outbox.add(
            method=request.method,
            path=request.path,
            headers=_masked_headers(request),
            body=body,
            kind=kind,
            to=to,
            status=status,
            response=response,
            rendered=template_view(body) if status == 200 and kind == "message" else None,
        )
        if status == 200 and kind == "message" and self.sim.config.send_statuses:
            wamid = response["messages"][0]["id"]
            callback = body.get("biz_opaque_callback_data")
            self.sim.spawn(self._report_statuses(wamid, to or "", callback if isinstance(callback, str) else None))
        return web.json_response(response, status=status)

    async def unknown_path(self, request: web.Request) -> web.Response:
        """Graph's answer to a path it does not serve, recorded so a misconfigured connector shows up."""
        error = GraphError(2500, f"Unknown path components: /{request.match_info['rest']}")
        raw = await request.read()
        response = error.body()
        await self.sim.outbox.add(
            method=request.method,
            path=request.path,
            headers=_masked_headers(request),
            body=raw.decode("utf-8", "replace"),
            kind="invalid",
            to=None,
            status=error.http_status,
            response=response,
        )
        return web.json_response(response, status=error.http_status)

    @staticmethod
    def _accepted(body: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {"id": payloads.new_wamid()}
        if body.get("type") == "template":
            message["message_status"] = "accepted"
        to = body.get("to") or body.get("recipient")
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": recipient(body) or to}],
            "messages": [message],
        }

    async def _report_statuses(self, wamid: str, to: str, callback_data: str | None) -> None:
        # Meta notifies sent then delivered, each a separate signed POST, with the send's callback data
        for state in ("sent", "delivered"):
            await asyncio.sleep(0.05)
            body = payloads.status(wamid, to, state, business=self.sim.config.business, callback_data=callback_data)
            await self.sim.webhook.post_body(body)

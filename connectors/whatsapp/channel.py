"""The WhatsApp Cloud API input channel: webhook verification, signed message delivery, health.

credentials.yml:  `connectors.whatsapp.channel.WhatsAppInput:` (no keys: settings come from the environment).
Routes (under /webhooks/whatsapp): GET /webhook (verify), POST /webhook (messages), GET /health.

A POST is answered as soon as it is verified, parsed and deduplicated; the conversation work runs afterwards,
one sender at a time in arrival order (SenderQueues). On shutdown the accepted work is finished first.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.core.domain import SessionConfig
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from common.logs import install_log_masking
from common.phone import mask_phone
from common.safety import is_emergency
from connectors.whatsapp import numbers
from connectors.whatsapp.dedupe import Deduplicator
from connectors.whatsapp.dispatch import ConversationThread, SenderQueues
from connectors.whatsapp.graph import GraphClient, GraphError
from connectors.whatsapp.health import health_report
from connectors.whatsapp.output import WhatsAppOutput
from connectors.whatsapp.parse import InboundMessage, ParsedWebhook, parse_webhook
from connectors.whatsapp.recorder import EventKind, EventRecorder
from connectors.whatsapp.signature import SignatureCheck, check_signature
from notifications.webhooks import ReminderHooks
from rasa_tuning import speedups as rasa_speedups
from rasa_tuning.endpoint_sessions import close_kept_sessions
from rasa_tuning.heap import freeze_loaded_model
from sessions.redaction import redact_inbound
from sessions.store import SessionStore, get_session_store
from settings import Settings, get_settings

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
SHUTDOWN_DRAIN_SECONDS = 60.0  # how long a stopping server waits for accepted messages to be answered

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def apply_session_timeout(agent: Any, hours: float) -> bool:
    """Make conversation sessions expire after `hours` of silence, with no slots carried over.

    The processor reads `self.domain.session_config` on every message (`_has_session_expired`), and
    `agent.domain` is the processor's domain object, so both are set (usually one object). `hours <= 0`
    disables session expiry. Returns True when something changed (a new model brings its own domain).
    """
    processor = getattr(agent, "processor", None)
    domains = [getattr(agent, "domain", None), getattr(processor, "domain", None)]
    config = SessionConfig(session_expiration_time=max(hours, 0.0) * 60, carry_over_slots=False)
    changed = False
    for domain in {id(d): d for d in domains if d is not None}.values():
        if domain.session_config != config:
            domain.session_config = config
            changed = True
    return changed


def _agent_ready(app: Any) -> bool:
    """False only when a Rasa app has no usable agent (model missing or loading); a bare app counts as ready."""
    if not hasattr(app.ctx, "agent"):
        return True
    agent = app.ctx.agent
    return agent is not None and agent.is_ready()


class WhatsAppInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WhatsAppInput:
        """How `rasa run` creates the channel. Also masks phone numbers in every log line of the server
        (Rasa logs sender ids): once now, and again after start when Rasa has added its file handlers.
        Rasa's per-message costs that need no paying each time are removed here too (rasa_speedups)."""
        if credentials:
            logger.warning("whatsapp credentials in credentials.yml are ignored: set WHATSAPP_* environment variables")
        install_log_masking()
        rasa_speedups.install()
        from settings import log_missing_for_production  # one ERROR line naming every missing production setting

        log_missing_for_production()
        from notifications.store import get_notification_store

        return cls(
            get_settings(),
            mask_server_logs=True,
            conversation_thread=True,
            freeze_model_heap=True,
            reminders=ReminderHooks(get_notification_store),
        )

    def __init__(
        self,
        settings: Settings,
        *,
        graph: GraphClient | None = None,
        recorder: EventRecorder | None = None,
        dedupe: Deduplicator | None = None,
        sessions: SessionStore | None = None,
        mask_server_logs: bool = False,
        conversation_thread: bool = False,
        freeze_model_heap: bool = False,
        reminders: ReminderHooks | None = None,
    ) -> None:
        self.settings = settings
        # the reminders learn here who wrote when (the 24 h window) and how their sends went (status webhooks);
        # None: nothing is recorded (tests of the conversation alone)
        self.reminders = reminders
        self._background: set[asyncio.Task[Any]] = set()
        self._sessions = sessions
        self._mask_server_logs = mask_server_logs
        self.graph = graph or GraphClient.from_settings(settings)
        self.recorder = recorder or EventRecorder()
        self.dedupe = dedupe or Deduplicator.from_settings(settings)
        # `rasa run` uses the thread (see dispatch.py); tests may keep everything on one loop. It is started
        # in `before_server_start`, inside each Sanic worker: a thread does not survive the workers' fork.
        self._use_thread = conversation_thread
        # the server's own process only: a test process's heap is not the model's (rasa_tuning/heap.py)
        self._freeze_model_heap = freeze_model_heap
        self._thread: ConversationThread | None = None
        self.queues = SenderQueues()
        self._closing = False
        if not settings.whatsapp_webhook_secret:
            logger.error("WHATSAPP_WEBHOOK_SECRET is empty: every webhook POST will be refused (403)")
        if not settings.whatsapp_webhook_verify_token:
            logger.warning("WHATSAPP_WEBHOOK_VERIFY_TOKEN is empty: webhook verification (GET) will be refused")
        if not settings.whatsapp_access_token:
            logger.warning("WHATSAPP_ACCESS_TOKEN is empty: replies will fail")

    def get_output_channel(self) -> WhatsAppOutput:
        return WhatsAppOutput(self.graph, self.recorder, max_message_length=self.settings.whatsapp_max_message_length)

    # --- routes -------------------------------------------------------------------------------------------

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        bp = Blueprint("whatsapp_webhook", __name__)

        @bp.route("/health", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            agent = getattr(request.app.ctx, "agent", None)
            hooks = self.reminders
            templates = hooks.paused_templates if hooks is not None else None
            report = await health_report(agent, self.settings.action_endpoint_url, templates)
            # 503 only when no model is loaded (this instance cannot answer); a down dependency is "degraded"
            return response.json(report, status=200 if report["model"]["loaded"] else 503)

        @bp.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if self.verify_subscription(request.args.get("hub.mode"), request.args.get("hub.verify_token")):
                return response.text(request.args.get("hub.challenge") or "")
            logger.warning("webhook verification refused")
            return response.text("forbidden", status=403)

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request, on_new_message)

        @bp.listener("before_server_start")
        async def start_conversation_thread(_app: Any, _loop: Any) -> None:
            if self._use_thread and self._thread is None:
                self._thread = ConversationThread()
                self.queues = SenderQueues(self._thread)

        @bp.listener("after_server_start")
        async def on_start(app: Any, _loop: Any) -> None:
            if self._mask_server_logs:
                install_log_masking()
            self._adopt_model(app)

        @bp.listener("before_server_stop")
        async def finish_accepted_work(_app: Any, _loop: Any) -> None:
            await self.shutdown()

        @bp.listener("after_server_stop")
        async def close_clients(_app: Any, _loop: Any) -> None:
            await self.close()

        return bp

    def verify_subscription(self, mode: str | None, token: str | None) -> bool:
        expected = self.settings.whatsapp_webhook_verify_token
        if mode != "subscribe" or not expected or token is None:
            return False
        return hmac.compare_digest(expected.encode(), token.encode())

    async def receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        secret = self.settings.whatsapp_webhook_secret
        check = check_signature(secret, request.body, request.headers.get(SIGNATURE_HEADER))
        if check is SignatureCheck.MISSING:
            logger.warning("webhook POST without %s refused", SIGNATURE_HEADER)
            return response.text("signature missing", status=401)
        if check is SignatureCheck.INVALID:
            logger.warning("webhook POST with a wrong signature refused")
            return response.text("signature invalid", status=403)
        try:
            payload = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            return response.text("malformed JSON", status=400)
        if not isinstance(payload, dict):
            return response.text("JSON object expected", status=400)
        # Not accepting now makes Meta redeliver later (to this instance once ready, or another one).
        if self._closing or not _agent_ready(request.app):
            return response.text("not ready", status=503)

        parsed = parse_webhook(payload)
        if not parsed.is_whatsapp:
            logger.info("webhook for object %r ignored", parsed.object[:64])
            return response.text("ignored")
        self._record(parsed)
        self._track_reminders(parsed)
        for message in parsed.messages:
            await self._accept(message, on_new_message, request.app)
        return response.text("ok")

    # --- after the answer ----------------------------------------------------------------------------------

    async def _accept(self, message: InboundMessage, on_new_message: OnNewMessage, app: Any) -> None:
        our_number = self.settings.whatsapp_phone_number_id
        if our_number and message.phone_number_id and message.phone_number_id != our_number:
            # another number of the same WhatsApp Business Account: answering from ours would confuse the user
            logger.warning("message %s for another business number ignored", message.message_id)
            return
        if not await self.dedupe.first_seen(message.message_id):
            logger.info("duplicate message %s from %s ignored", message.message_id, mask_phone(message.sender_id))
            return
        self._note_inbound(message)
        self.queues.submit(message.sender_id, lambda: self._handle(message, on_new_message, app))

    async def _handle(self, message: InboundMessage, on_new_message: OnNewMessage, app: Any) -> None:
        self._adopt_model(app)
        await self._mark_read(message)
        # a menu number first: "2" on the code screen means its second button, never a 1-digit code
        text = await self._menu_choice(message.text, message.sender_id, app) if message.type == "text" else ""
        if not text.startswith("/"):
            text = await self._redact(message)
        user_message = UserMessage(
            text=text,
            output_channel=self.get_output_channel(),
            sender_id=message.sender_id,
            input_channel=self.name(),
            message_id=message.message_id,
            metadata=message.metadata(),
        )
        try:
            await on_new_message(user_message)
        except Exception as exc:
            logger.error(
                "Rasa failed on message %s from %s: %s",
                message.message_id,
                mask_phone(message.sender_id),
                type(exc).__name__,
            )
            logger.debug("traceback", exc_info=True)

    async def _redact(self, message: InboundMessage) -> str:
        """A code or password the assistant asked for goes to the session store, never to Rasa."""
        if message.type != "text":
            return message.text
        try:
            if self._sessions is None:
                self._sessions = await asyncio.to_thread(get_session_store)
            return await asyncio.to_thread(redact_inbound, self._sessions, message.sender_id, message.text)
        except Exception as exc:  # noqa: BLE001 - fail closed: the text might be a secret
            logger.error(
                "session store unavailable (%s): message %s not passed on", type(exc).__name__, message.message_id
            )
            # ... unless it is a cry for help: that is answered even without the store
            return message.text if is_emergency(message.text) else "/session_unavailable"

    async def _menu_choice(self, text: str, sender_id: str, app: Any) -> str:
        """A bare "2" after a menu is that menu's second option (numbers.py); any other text is unchanged."""
        if numbers.menu_number(text) is None:
            return text
        store = getattr(getattr(app.ctx, "agent", None), "tracker_store", None)
        if store is None:
            return text
        try:
            tracker = await store.retrieve(sender_id)
        except Exception as exc:  # noqa: BLE001 - without the menu the number is passed on as typed
            logger.info("menu lookup failed (%s)", type(exc).__name__)
            return text
        payload = numbers.pick(text, tracker.events if tracker is not None else [])
        return payload or text

    async def _mark_read(self, message: InboundMessage) -> None:
        try:
            await self.graph.mark_read(message.message_id)
        except GraphError as exc:
            logger.info("marking %s read failed (%s)", message.message_id, type(exc).__name__)

    def _adopt_model(self, app: Any) -> None:
        """Settings that belong to the loaded model; checked on every message, as a new one may be loaded."""
        agent = getattr(app.ctx, "agent", None)
        if agent is None or getattr(agent, "processor", None) is None:
            return
        if self._freeze_model_heap:
            freeze_loaded_model(agent)
        if apply_session_timeout(agent, self.settings.whatsapp_session_timeout_hours):
            logger.info("conversation sessions expire after %s h", self.settings.whatsapp_session_timeout_hours)

    def _record(self, parsed: ParsedWebhook) -> None:
        for status in parsed.statuses:
            self.recorder.record(
                EventKind.STATUS,
                message_id=status.message_id,
                recipient=status.recipient_id,
                status=status.status,
                code=status.error_code,
                title=status.error_title,
            )
        for reaction in parsed.reactions:
            self.recorder.record(
                EventKind.REACTION,
                message_id=reaction.reacted_message_id,
                recipient=reaction.sender_id,
                status=reaction.emoji,
            )
        for error in parsed.errors:
            self.recorder.record(
                EventKind.WEBHOOK_ERROR, message_id=error.message_id, code=error.code, title=error.title
            )

    # --- reminders -----------------------------------------------------------------------------------------

    def _note_inbound(self, message: InboundMessage) -> None:
        """The sender's 24 h window opens again: written off the loop, at most once a minute per sender."""
        hooks = self.reminders
        if hooks is None:
            return
        now = time.time()
        # Meta's timestamp (a redelivery keeps the original one), never later than now
        at = min(float(message.timestamp), now) if message.timestamp else now
        if hooks.inbound_due(message.sender_id, at):
            self._in_background(asyncio.to_thread(hooks.record_inbound, message.sender_id, at), "window")

    def _track_reminders(self, parsed: ParsedWebhook) -> None:
        """Status webhooks of reminders (they carry the notification id) move their rows on, off the loop."""
        hooks = self.reminders
        if hooks is None:
            return
        for template in parsed.template_statuses:
            level = logging.ERROR if template.status in ("PAUSED", "DISABLED") else logging.INFO
            logger.log(level, "WhatsApp template %s (%s) is now %s", template.name, template.language, template.status)
            save = functools.partial(hooks.record_template_status, template.name, template.language, template.status)
            self._in_background(asyncio.to_thread(save), "template status")
        for status in parsed.statuses:
            if status.callback_data:
                update = functools.partial(
                    hooks.record_status,
                    status=status.status,
                    message_id=status.message_id,
                    callback_data=status.callback_data,
                    error_code=status.error_code,
                )
                self._in_background(asyncio.to_thread(update), "status")

    def _in_background(self, work: Awaitable[Any], what: str) -> None:
        async def run() -> None:
            try:
                await work
            except Exception as exc:  # noqa: BLE001 - the reminders' bookkeeping never stops a conversation
                logger.error("reminder %s not recorded: %s", what, type(exc).__name__)

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(self._background.discard)

    # --- lifecycle -----------------------------------------------------------------------------------------

    async def shutdown(self, timeout: float = SHUTDOWN_DRAIN_SECONDS) -> bool:
        """Stop accepting (503) and wait for the accepted messages to be answered. False if some were not."""
        self._closing = True
        done = await self.queues.wait_idle(timeout)
        if self._background:  # the reminders' bookkeeping of the last messages
            await asyncio.wait(set(self._background), timeout=5)
        if not done:
            logger.error("shutdown: %d WhatsApp message(s) still in progress after %.0fs", self.queues.pending, timeout)
        return done

    async def close(self) -> None:
        """Release the HTTP session and the Redis client (after `shutdown`: work still running then is given up)."""
        self._closing = True
        if self._thread is not None:
            await self._thread.run(self.graph.close())  # the Graph session lives on the conversation loop
            await self._thread.run(close_kept_sessions())  # and so do Rasa's sessions to the action server
            self._thread.stop()
        else:
            await self.graph.close()
            await close_kept_sessions()
        await self.dedupe.close()

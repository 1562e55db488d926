"""Channel wiring: credentials.yml loading, session expiry, the health route."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import threading
import time
import uuid
from types import SimpleNamespace

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from rasa.core.channels.channel import UserMessage, register
from rasa.core.lock_store import InMemoryLockStore, RedisLockStore
from rasa.core.processor import MessageProcessor
from rasa.core.run import _create_single_channel, configure_app
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain, SessionConfig
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from sanic import Sanic
from wa_support import (
    SECRET,
    VERIFY_TOKEN,
    fast_graph_client,
    free_port,
    make_settings,
    payload_bytes,
    serving,
    text_batch,
)

import settings as settings_module
from connectors.whatsapp.channel import WhatsAppInput, apply_session_timeout
from connectors.whatsapp.dedupe import Deduplicator
from connectors.whatsapp.health import action_server_health_url, probe_store
from connectors.whatsapp.output import WhatsAppOutput
from connectors.whatsapp.signature import sign

# --- credentials.yml ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("credentials", [None, {}])
def test_rasa_loads_the_channel_from_its_class_path(monkeypatch, credentials):
    monkeypatch.setenv("WHATSAPP_WEBHOOK_SECRET", "from-env")
    masking = []
    monkeypatch.setattr("connectors.whatsapp.channel.install_log_masking", lambda: masking.append(True))
    settings_module.get_settings.cache_clear()
    try:
        channel = _create_single_channel("connectors.whatsapp.channel.WhatsAppInput", credentials)
    finally:
        settings_module.get_settings.cache_clear()
    assert isinstance(channel, WhatsAppInput)
    assert channel.name() == channel.url_prefix() == "whatsapp"  # -> /webhooks/whatsapp/webhook
    assert channel.settings.whatsapp_webhook_secret == "from-env"
    assert isinstance(channel.get_output_channel(), WhatsAppOutput)
    assert masking  # Rasa's own log lines (sender ids) get masked too


def test_only_the_servers_channel_freezes_the_loaded_model(monkeypatch):
    """`rasa run` (from_credentials) keeps the model out of garbage collection (rasa_tuning/heap.py); a channel
    built in a test process leaves that process's heap alone."""
    import gc

    from rasa_tuning import heap

    monkeypatch.setattr("connectors.whatsapp.channel.install_log_masking", lambda: None)
    monkeypatch.setattr(heap, "_frozen_for", lambda: None)
    threshold = gc.get_threshold()

    class Processor:  # the real MessageProcessor can be weakly referenced; a SimpleNamespace cannot
        domain = Domain.empty()

    app = SimpleNamespace(ctx=SimpleNamespace(agent=SimpleNamespace(domain=Processor.domain, processor=Processor())))
    try:
        WhatsAppInput(make_settings())._adopt_model(app)
        assert gc.get_freeze_count() == 0
        settings_module.get_settings.cache_clear()
        _create_single_channel("connectors.whatsapp.channel.WhatsAppInput", None)._adopt_model(app)
        assert gc.get_freeze_count() > 0
    finally:
        settings_module.get_settings.cache_clear()
        gc.unfreeze()
        gc.set_threshold(*threshold)


async def test_in_rasas_own_app_without_a_model_messages_wait_for_redelivery():
    """`rasa run` builds the app with rasa.server.create_app; until a model is loaded app.ctx.agent is None."""
    channel = WhatsAppInput(make_settings())
    app = configure_app([channel], enable_api=True)
    async with serving(app) as url, aiohttp.ClientSession() as http:
        verify = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"}
        async with http.get(f"{url}/webhooks/whatsapp/webhook", params=verify) as resp:
            assert (resp.status, await resp.text()) == (200, "42")
        raw = payload_bytes("text.json")
        async with http.post(
            f"{url}/webhooks/whatsapp/webhook", data=raw, headers={"X-Hub-Signature-256": sign(SECRET, raw)}
        ) as resp:
            assert resp.status == 503
        async with http.get(f"{url}/webhooks/whatsapp/health") as resp:
            assert resp.status == 503 and (await resp.json())["model"] == {"loaded": False}
    assert await channel.dedupe.first_seen(json.loads(raw)["entry"][0]["changes"][0]["value"]["messages"][0]["id"])


# --- session expiry ----------------------------------------------------------------------------------------


def _agent_with(domain: Domain) -> SimpleNamespace:
    return SimpleNamespace(domain=domain, processor=SimpleNamespace(domain=domain))


def _expired(domain: Domain, silent_for_hours: float) -> bool:
    """Ask Rasa's own MessageProcessor code whether a session silent for that long has expired."""
    tracker = DialogueStateTracker.from_events(
        "s", [UserUttered("hi", timestamp=time.time() - silent_for_hours * 3600)]
    )
    return MessageProcessor._has_session_expired(SimpleNamespace(domain=domain), tracker)  # type: ignore[arg-type]


def test_session_timeout_is_what_the_processor_reads():
    domain = Domain.from_dict(
        {"session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True}}
    )
    agent = _agent_with(domain)
    assert apply_session_timeout(agent, 2) is True
    assert agent.processor.domain.session_config == SessionConfig(session_expiration_time=120, carry_over_slots=False)
    assert not _expired(agent.processor.domain, 1.5)
    assert _expired(agent.processor.domain, 2.5)
    assert apply_session_timeout(agent, 2) is False  # already set: nothing to do


def test_session_timeout_sets_agent_and_processor_domains_when_they_differ():
    agent = SimpleNamespace(domain=Domain.empty(), processor=SimpleNamespace(domain=Domain.empty()))
    apply_session_timeout(agent, 0.5)
    assert agent.domain.session_config.session_expiration_time == 30
    assert agent.processor.domain.session_config.session_expiration_time == 30


def test_session_timeout_zero_disables_expiry():
    agent = _agent_with(Domain.empty())
    apply_session_timeout(agent, 0)
    assert not agent.domain.session_config.are_sessions_enabled()
    assert not _expired(agent.domain, 1000)


@pytest.mark.parametrize("harness_settings", [{"whatsapp_session_timeout_hours": 3.0}])
async def test_session_timeout_is_applied_before_a_message_is_handled(harness):
    # the agent was not loaded at server start (no processor): a message finds it loaded later
    domain = Domain.empty()
    seen: list[float] = []
    harness.agent.processor = SimpleNamespace(domain=domain)
    harness.agent.domain = domain
    original = harness.agent.handle_message

    async def handle(message: UserMessage) -> None:
        seen.append(domain.session_config.session_expiration_time)
        await original(message)

    harness.agent.handle_message = handle
    await harness.post(payload_bytes("text.json"))
    await harness.settle()
    assert seen == [180]


# --- health ------------------------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def action_server():
    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/health", health)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/webhook"
    await runner.cleanup()


def _loaded(harness, action_url: str) -> None:
    harness.agent.processor = SimpleNamespace(domain=Domain.empty())
    harness.agent.model_id = "m1"
    harness.agent.tracker_store = FailSafeTrackerStore(InMemoryTrackerStore(Domain.empty()))
    harness.agent.lock_store = InMemoryLockStore()
    harness.channel.settings = dataclasses.replace(harness.channel.settings, action_endpoint_url=action_url)


async def test_health_ok_when_everything_answers(harness, action_server):
    _loaded(harness, action_server)
    status, body, _ = await harness.get("health")
    assert status == 200
    assert json.loads(body) == {
        "status": "ok",
        "model": {"loaded": True, "id": "m1"},
        "tracker_store": {"type": "InMemoryTrackerStore", "reachable": True},
        "lock_store": {"type": "InMemoryLockStore", "reachable": True},
        "action_server": {"reachable": True},
        "whatsapp_templates": {"not_sendable": None},  # no reminders wired in this test
    }


async def test_health_degraded_when_the_action_server_is_down(harness):
    _loaded(harness, f"http://127.0.0.1:{free_port()}/webhook")
    status, body, _ = await harness.get("health")
    report = json.loads(body)
    assert status == 200 and report["status"] == "degraded" and report["action_server"] == {"reachable": False}


async def test_health_prefers_the_agents_action_endpoint(harness, action_server):
    _loaded(harness, f"http://127.0.0.1:{free_port()}/webhook")
    harness.agent.action_endpoint = EndpointConfig(action_server)
    _, body, _ = await harness.get("health")
    assert json.loads(body)["action_server"] == {"reachable": True}


async def test_health_without_a_model_is_503(harness):
    harness.app.ctx.agent = None
    status, body, _ = await harness.get("health")
    report = json.loads(body)
    assert status == 503 and report["status"] == "degraded" and report["model"] == {"loaded": False}


async def test_sql_store_is_probed(tmp_path):
    store = SQLTrackerStore(Domain.empty(), db=str(tmp_path / "t.db"))
    assert await probe_store(FailSafeTrackerStore(store)) == {"type": "SQLTrackerStore", "reachable": True}


async def test_unreachable_redis_lock_store_is_reported(caplog):
    caplog.set_level(logging.WARNING)
    store = RedisLockStore(host="127.0.0.1", port=free_port(), socket_timeout=0.5)
    assert await probe_store(store) == {"type": "RedisLockStore", "reachable": False}


def test_action_server_health_url():
    assert action_server_health_url("http://127.0.0.1:5055/webhook") == "http://127.0.0.1:5055/health"
    assert action_server_health_url("http://actions:5055/webhook/") == "http://actions:5055/health"
    assert action_server_health_url("http://actions:5055") == "http://actions:5055/health"


async def test_conversation_thread_runs_messages_off_the_web_loop_in_order(fake_graph):
    """With the conversation thread (as `rasa run` uses it), Rasa's work never runs on the web server's loop,
    and one sender's messages still arrive in order."""
    settings = make_settings(fake_graph.base_url)
    channel = WhatsAppInput(
        settings,
        graph=fast_graph_client(settings),
        dedupe=Deduplicator(100, 60),
        conversation_thread=True,
        sessions=_NoSecrets(),
    )
    seen: list[tuple[str, str]] = []

    class ThreadAgent:
        processor = tracker_store = lock_store = action_endpoint = None

        def is_ready(self) -> bool:
            return True

        async def handle_message(self, message):
            await asyncio.sleep(0.01)
            seen.append((message.text, threading.current_thread().name))
            await message.output_channel.send_text_message(message.sender_id, "ok")

    app = Sanic(f"whatsapp_thread_{uuid.uuid4().hex[:8]}", configure_logging=False)
    app.ctx.agent = ThreadAgent()
    register([channel], app, route="/webhooks/")
    body = text_batch(*[("919876543210", f"wamid.T{i}", f"m{i}") for i in range(5)])
    raw = json.dumps(body).encode()
    async with serving(app) as url:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{url}/webhooks/whatsapp/webhook",
                data=raw,
                headers={"X-Hub-Signature-256": sign(settings.whatsapp_webhook_secret, raw)},
            ) as r,
        ):
            assert r.status == 200
        assert await channel.queues.wait_idle(timeout=10)
    assert [text for text, _ in seen] == [f"m{i}" for i in range(5)]
    assert {thread for _, thread in seen} == {"whatsapp-conversations"}
    assert len(fake_graph.sent) == 5


class _NoSecrets:
    def expected_secret(self, sender):
        return None

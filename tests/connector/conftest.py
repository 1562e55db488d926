"""Fixtures for the WhatsApp channel tests (helpers live in wa_support.py, expectations in wa_cases.py)."""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from rasa.core.channels.channel import register
from sanic import Sanic
from wa_support import FakeAgent, FakeGraph, Harness, fast_graph_client, free_port, make_settings, serving

from connectors.whatsapp.channel import WhatsAppInput
from connectors.whatsapp.dedupe import Deduplicator
from sessions.kv import SQLKeyValueStore
from sessions.store import SessionStore


@pytest_asyncio.fixture
async def fake_graph():
    graph = FakeGraph()
    app = web.Application()
    app.router.add_post("/{version}/{phone_number_id}/messages", graph.handle)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    graph.base_url = f"http://127.0.0.1:{port}"
    yield graph
    graph.released.set()
    await runner.cleanup()


@pytest.fixture
def harness_settings() -> dict[str, Any]:
    """Tests override settings by updating this dict before using `harness`."""
    return {}


@pytest.fixture
def sessions(tmp_path) -> SessionStore:
    return SessionStore(SQLKeyValueStore(f"sqlite:///{tmp_path / 'sessions.db'}"), 3600)


@pytest_asyncio.fixture
async def harness(fake_graph: FakeGraph, harness_settings: dict[str, Any], sessions: SessionStore):
    timeline: list[tuple[str, Any]] = []
    fake_graph.timeline = timeline
    settings = make_settings(fake_graph.base_url, **harness_settings)
    channel = WhatsAppInput(
        settings,
        graph=fast_graph_client(settings),
        dedupe=Deduplicator(settings.dedupe_capacity, settings.dedupe_ttl_seconds),
        sessions=sessions,
    )
    app = Sanic(f"whatsapp_test_{uuid.uuid4().hex[:8]}", configure_logging=False)
    agent = FakeAgent(timeline)
    app.ctx.agent = agent
    register([channel], app, route="/webhooks/")  # what `rasa run` does with credentials.yml channels
    async with serving(app) as url, aiohttp.ClientSession() as http:
        yield Harness(channel, agent, fake_graph, app, url, http, timeline)

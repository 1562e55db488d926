"""The simulator's aiohttp application: fake Graph API + `/_sim/` control API + the web chat page."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from .config import SimConfig
from .control import Control
from .graph_api import OTHER_ROUTE, ROUTE, TEMPLATES_ROUTE, FakeGraph
from .state import FailurePlan, Outbox, SenderIndex, TemplateBook
from .webhook import WebhookClient

STATIC_DIR = Path(__file__).resolve().parent / "static"


@dataclass
class Simulator:
    """Everything the handlers share."""

    config: SimConfig
    outbox: Outbox = field(default_factory=Outbox)
    failures: FailurePlan = field(default_factory=FailurePlan)
    senders: SenderIndex = field(default_factory=SenderIndex)
    templates: TemplateBook = field(default_factory=TemplateBook)
    webhook: WebhookClient = field(init=False)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.webhook = WebhookClient(self.config)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        # keep a reference: the event loop only holds weak ones to tasks
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


SIM_KEY = web.AppKey("simulator", Simulator)


@web.middleware
async def _no_cache(request: web.Request, handler: Any) -> web.StreamResponse:
    # the chat page and its polls must never be served stale
    response = await handler(request)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


async def _index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


def make_app(config: SimConfig) -> web.Application:
    sim = Simulator(config)
    graph, control = FakeGraph(sim), Control(sim)
    app = web.Application(middlewares=[_no_cache])
    app[SIM_KEY] = sim

    async def lifecycle(_: web.Application) -> AsyncIterator[None]:
        await sim.webhook.start()
        yield
        for task in list(sim._tasks):
            task.cancel()
        await sim.webhook.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_post(ROUTE, graph.messages)
    app.router.add_get(TEMPLATES_ROUTE, graph.list_templates)
    app.router.add_post(TEMPLATES_ROUTE, graph.create_template)
    app.router.add_route("*", OTHER_ROUTE, graph.unknown_path)
    app.router.add_get("/_sim/health", control.health)
    app.router.add_get("/_sim/outbox", control.outbox)
    app.router.add_post("/_sim/send", control.send)
    app.router.add_post("/_sim/raw", control.raw)
    app.router.add_post("/_sim/status", control.status)
    app.router.add_post("/_sim/fail", control.fail)
    app.router.add_post("/_sim/reset", control.reset)
    app.router.add_post("/_sim/template", control.template)
    app.router.add_post("/_sim/send-due", control.send_due)
    app.router.add_get("/", _index)
    app.router.add_static("/static/", STATIC_DIR)
    return app


def simulator_of(app: web.Application) -> Simulator:
    return app[SIM_KEY]

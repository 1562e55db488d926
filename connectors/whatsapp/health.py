"""`GET /webhooks/whatsapp/health`: is the model loaded, are the stores and the action server reachable, which
WhatsApp templates are paused or disabled?

Every probe has a 2 s limit; the blocking store clients (SQLAlchemy, redis-py, pymongo) are probed in a thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import aiohttp

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_SECONDS = 2.0
_IN_MEMORY = ("InMemoryTrackerStore", "InMemoryLockStore")


def _unwrap(store: Any) -> Any:
    """Rasa wraps tracker stores (FailSafe, Awaitable): the inner one says what is really used."""
    for _ in range(5):
        inner = getattr(store, "_tracker_store", None)
        if inner is None:
            break
        store = inner
    return store


def _ping_function(store: Any) -> Callable[[], Any] | None:
    if type(store).__name__ in _IN_MEMORY:
        return lambda: True
    engine = getattr(store, "engine", None)
    if engine is not None:  # SQLTrackerStore

        def ping_sql() -> None:
            import sqlalchemy

            with engine.connect() as conn:
                conn.execute(sqlalchemy.text("SELECT 1"))

        return ping_sql
    red = getattr(store, "red", None)
    if red is not None:  # Redis tracker/lock store (sync client)
        return red.ping
    client = getattr(store, "client", None)
    if client is not None and hasattr(client, "admin"):  # MongoTrackerStore
        return lambda: client.admin.command("ping")
    return None


async def probe_store(store: Any) -> dict[str, Any]:
    if store is None:
        return {"type": None, "reachable": False}
    store = _unwrap(store)
    info: dict[str, Any] = {"type": type(store).__name__}
    ping = _ping_function(store)
    if ping is None:
        info["reachable"] = None  # a store we cannot probe cheaply: unknown, not down
        return info
    try:
        await asyncio.wait_for(asyncio.to_thread(ping), PROBE_TIMEOUT_SECONDS)
        info["reachable"] = True
    except Exception as exc:  # noqa: BLE001 - any failure means unreachable
        logger.warning("health: %s unreachable (%s)", info["type"], type(exc).__name__)
        info["reachable"] = False
    return info


def action_server_health_url(webhook_url: str) -> str:
    """`http://host:5055/webhook` -> `http://host:5055/health` (rasa-sdk serves both)."""
    base = webhook_url.rstrip("/")
    if base.endswith("/webhook"):
        base = base[: -len("/webhook")]
    return base + "/health"


async def probe_action_server(webhook_url: str) -> dict[str, Any]:
    if not webhook_url:
        return {"reachable": None}
    url = action_server_health_url(webhook_url)
    try:
        timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as resp:
            return {"reachable": resp.status == 200}
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        logger.warning("health: action server unreachable (%s)", type(exc).__name__)
        return {"reachable": False}


async def probe_templates(read: Callable[[], list[str]] | None) -> dict[str, Any]:
    """The WhatsApp templates known to be paused or disabled (one small SELECT off the loop): named, not a
    reason to be unhealthy (the chat goes on; the reminders outside the 24 h window fail until fixed)."""
    if read is None:
        return {"not_sendable": None}
    try:
        names = await asyncio.wait_for(asyncio.to_thread(read), PROBE_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - unknown, not down
        logger.warning("health: template statuses unreadable (%s)", type(exc).__name__)
        return {"not_sendable": None}
    return {"not_sendable": names}


async def health_report(
    agent: Any, fallback_action_url: str, templates: Callable[[], list[str]] | None = None
) -> dict[str, Any]:
    """The JSON body of the health route; `status` is "ok" only when nothing is known to be down. `templates`
    lists the paused or disabled WhatsApp templates ("name (language): STATUS")."""
    processor = getattr(agent, "processor", None)
    model: dict[str, Any] = {"loaded": bool(agent is not None and processor is not None)}
    if processor is not None:
        model["id"] = getattr(agent, "model_id", None)
    endpoint = getattr(agent, "action_endpoint", None)
    action_url = getattr(endpoint, "url", None) or fallback_action_url
    tracker, lock, action, whatsapp_templates = await asyncio.gather(
        probe_store(getattr(agent, "tracker_store", None)),
        probe_store(getattr(agent, "lock_store", None)),
        probe_action_server(action_url),
        probe_templates(templates),
    )
    down = not model["loaded"] or any(part.get("reachable") is False for part in (tracker, lock, action))
    return {
        "status": "degraded" if down else "ok",
        "model": model,
        "tracker_store": tracker,
        "lock_store": lock,
        "action_server": action,
        "whatsapp_templates": whatsapp_templates,
    }

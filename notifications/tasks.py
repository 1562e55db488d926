"""The reminder workers' Celery tasks: thin wrappers over notifications/scan.py and notifications/sender.py.

Neither takes an argument (no patient, number or text ever passes through the broker) and both may run twice
or not at all without harm: the work is in SQL rows that one worker claims at a time.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from celery.signals import worker_process_shutdown

from connectors.whatsapp.graph import GraphClient
from notifications import scan as scanning
from notifications.care import ServiceAccountCare
from notifications.celery_app import app
from notifications.scan import ScanConfig
from notifications.sender import SendConfig, Sender
from notifications.store import NotificationStore, get_notification_store

logger = logging.getLogger(__name__)

SCAN_BUDGET_SECONDS = 50.0  # under the minute between two scans
SEND_BUDGET_SECONDS = 60.0  # then the task hands over to a fresh one, so a worker stops in time when asked


@dataclass
class Runtime:
    """What a worker process keeps between tasks: one store engine, one CARE login, one Graph session."""

    store: NotificationStore
    care: ServiceAccountCare
    graph: GraphClient
    scan_config: ScanConfig
    sender: Sender


@functools.lru_cache(maxsize=1)
def runtime() -> Runtime:
    from settings import get_settings

    settings = get_settings()
    store = get_notification_store()
    care = ServiceAccountCare.from_settings(settings)
    graph = GraphClient.from_settings(settings)

    def send(payload: Any) -> str:
        return graph.send_message_sync(payload, retries=0)  # once: a timed-out send is settled, not repeated

    sender = Sender(store, care, send, SendConfig.from_settings(settings))
    return Runtime(store, care, graph, ScanConfig.from_settings(settings), sender)


def worker_id() -> str:
    """hostname:pid, read at each task: a prefork child has its own pid."""
    return f"{socket.gethostname()[:50]}:{os.getpid()}"


@app.task(name="notifications.scan")
def scan() -> dict[str, Any]:
    rt = runtime()
    result = scanning.scan(rt.store, rt.care, rt.scan_config, budget_seconds=SCAN_BUDGET_SECONDS)
    if result.consents:
        logger.info("reminder scan: %s", result.as_dict())
    return result.as_dict()


@app.task(name="notifications.send_due")
def send_due() -> dict[str, Any]:
    rt = runtime()
    me = worker_id()
    started = time.monotonic()
    totals: Counter[str] = Counter()
    helped = False
    while True:
        result = rt.sender.run(me)
        totals.update({k: v for k, v in result.as_dict().items() if v})
        if result.claimed < rt.sender.config.batch_size:
            break
        if not helped:  # a full batch: more are due, so another worker may share them
            send_due.apply_async()
            helped = True
        if time.monotonic() - started > SEND_BUDGET_SECONDS:
            send_due.apply_async()
            break
    if totals:
        logger.info("reminders: %s", dict(totals))
    return dict(totals)


@worker_process_shutdown.connect
def _close_graph(**_: Any) -> None:
    if runtime.cache_info().currsize:
        runtime().graph.close_sync()

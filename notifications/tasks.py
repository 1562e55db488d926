"""The reminder workers' Celery tasks: thin wrappers over notifications/scan.py and notifications/sender.py.

Neither takes an argument (no patient, number or text ever passes through the broker) and both may run twice
or not at all without harm: the work is in SQL rows that one worker claims at a time.

`python -m notifications.tasks send-due --horizon-hours N` (no broker): one scan, then every reminder due
within the next N hours (default 24) is sent now, each checked as if its time had come: to try the reminders
without waiting for them (the simulator's "send what is due now" runs it), or to catch up after an outage.
Rows are claimed as the workers claim them, so it may run beside them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import logging
import os
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from celery.signals import worker_process_shutdown

from common.logs import install_log_masking
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


def send_due_now(horizon: dt.timedelta, rt: Runtime | None = None) -> dict[str, Any]:
    """One scan, then the reminders due within `horizon`, batch after batch, until none is left."""
    rt = rt or runtime()
    me = worker_id()
    scanned = scanning.scan(rt.store, rt.care, rt.scan_config, budget_seconds=SCAN_BUDGET_SECONDS)
    totals: Counter[str] = Counter()
    while True:
        result = rt.sender.run(me, horizon=horizon)
        totals.update({k: v for k, v in result.as_dict().items() if v})
        if result.claimed < rt.sender.config.batch_size:
            break
    return {"scan": scanned.as_dict(), "reminders": dict(totals)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notifications.tasks")
    commands = parser.add_subparsers(dest="command", required=True)
    send = commands.add_parser("send-due", help="scan, then send the reminders due within the next N hours now")
    send.add_argument("--horizon-hours", type=float, default=24.0, help="N (default 24; the scan looks 26 h ahead)")
    args = parser.parse_args(argv)
    if not 0 <= args.horizon_hours <= 26:
        parser.error("--horizon-hours must be between 0 and 26 (the scan schedules 26 h ahead)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
    rt = runtime()
    try:
        print(json.dumps(send_due_now(dt.timedelta(hours=args.horizon_hours), rt)))
    finally:
        rt.graph.close_sync()
    return 0


if __name__ == "__main__":
    sys.exit(main())

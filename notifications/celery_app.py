"""The Celery app of the reminder workers: `celery -A notifications.celery_app worker` (and `beat`).

Configured from settings.py only:
- production: Redis is the broker (CELERY_BROKER_URL, else REDIS_URL) and beat runs with celery-redbeat, whose
  lock in Redis lets one of several beat processes fire the schedule (`-S redbeat.RedBeatScheduler`, also the
  default here when the broker is Redis);
- embedded (`make run`, no Redis): kombu's SQLAlchemy transport on a SQLite file in `.run/`, no server needed,
  one process `worker -B --pool solo` (sandbox/stack.py).

Beat fires two tasks, both without arguments (nothing about a patient ever passes through the broker):
`notifications.scan` every minute (CARE -> due rows in SQL, notifications/scan.py) and `notifications.send_due`
every REMINDER_SEND_SECONDS (due rows -> WhatsApp, notifications/sender.py). Reminders are never queued days
ahead as ETA tasks (a Redis broker redelivers unacknowledged ones): the due rows live in SQL, tasks only scan
and claim, so a trigger lost or run twice changes nothing. Each trigger expires before the next one is fired,
so triggers do not pile up while the workers are down.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

from common.logs import install_log_masking
from settings import ROOT, Settings, get_settings

SCAN_EVERY = dt.timedelta(minutes=1)
EMBEDDED_BROKER_FILE = ROOT / ".run" / "celery-broker.db"
REDBEAT = "redbeat.RedBeatScheduler"


def broker_url(settings: Settings) -> str:
    """CELERY_BROKER_URL; else Redis at REDIS_URL; else the embedded SQLite broker (no server)."""
    if settings.celery_broker_url:
        return settings.celery_broker_url
    if settings.redis_url:
        return settings.redis_url
    return f"sqla+sqlite:///{EMBEDDED_BROKER_FILE}"


def is_redis(url: str) -> bool:
    return url.startswith(("redis://", "rediss://", "redis+socket://"))


def config(settings: Settings) -> dict[str, Any]:
    """Celery's configuration for these settings (a plain dict, so tests read it without a worker)."""
    url = broker_url(settings)
    send_every = max(settings.reminder_send_seconds, 1.0)
    conf: dict[str, Any] = {
        "broker_url": url,
        "broker_connection_retry_on_startup": True,
        "task_ignore_result": True,
        "result_backend": None,
        "timezone": "UTC",
        "enable_utc": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        # triggers: one at a time per worker process, acknowledged on receipt (one lost is fired again soon)
        "worker_prefetch_multiplier": 1,
        "task_acks_late": False,
        "worker_hijack_root_logger": True,
        "beat_schedule": {
            "reminders-scan": {
                "task": "notifications.scan",
                "schedule": SCAN_EVERY,
                "options": {"expires": SCAN_EVERY.total_seconds() * 0.9},
            },
            "reminders-send-due": {
                "task": "notifications.send_due",
                "schedule": dt.timedelta(seconds=send_every),
                "options": {"expires": send_every * 0.9},
            },
        },
        # beat looks at its schedule at least this often (and a redbeat follower at the lock)
        "beat_max_loop_interval": 5,
    }
    if is_redis(url):
        prefix = settings.celery_key_prefix
        conf.update(
            beat_scheduler=REDBEAT,
            redbeat_redis_url=url,
            redbeat_key_prefix=f"{prefix}redbeat",
            # a beat that died hands over to another within this many seconds
            redbeat_lock_timeout=30,
            # non-empty, so redbeat does not read the broker's options as its own (retry_period is redbeat's)
            redbeat_redis_options={"retry_period": 60},
            broker_transport_options={"global_keyprefix": prefix} if prefix else {},
        )
    else:
        if url.startswith("sqla+sqlite:///"):
            Path(url.removeprefix("sqla+sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        conf.update(
            # (its transport options go to SQLAlchemy's create_engine: none here; it polls every second)
            # the SQL transport has no fanout: no remote control, no events
            worker_enable_remote_control=False,
            worker_send_task_events=False,
        )
    return conf


def make_app(settings: Settings | None = None) -> Celery:
    celery = Celery("care_reminders", include=["notifications.tasks"])
    celery.conf.update(config(settings or get_settings()))
    return celery


@after_setup_logger.connect
@after_setup_task_logger.connect
def _mask_phones(logger: logging.Logger | None = None, **_: Any) -> None:
    # Celery sets up its own handlers: mask numbers in every line they write, as the Rasa server does
    install_log_masking(logger)


app = make_app()

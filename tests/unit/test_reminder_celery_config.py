"""The reminder workers' Celery configuration, read from settings: no server needed by default (SQLite broker in
.run/), Redis and redbeat in production, beat's two triggers that expire before the next one, and tasks that
take no arguments (nothing about a patient passes through the broker)."""

from __future__ import annotations

import datetime as dt
import inspect

from notifications import tasks
from notifications.celery_app import EMBEDDED_BROKER_FILE, REDBEAT, app, broker_url, config
from settings import Settings


def test_the_embedded_default_needs_no_server():
    conf = config(Settings.from_env({}))
    assert conf["broker_url"] == f"sqla+sqlite:///{EMBEDDED_BROKER_FILE}"
    assert "beat_scheduler" not in conf  # Celery's own file-backed beat, inside the one embedded process
    assert conf["worker_enable_remote_control"] is False  # the SQL transport has no fanout


def test_production_runs_on_redis_with_redbeat_so_two_beats_never_double_fire():
    conf = config(Settings.from_env({"REDIS_URL": "redis://cache:6379/0", "CELERY_KEY_PREFIX": "care:"}))
    assert conf["broker_url"] == "redis://cache:6379/0" and conf["beat_scheduler"] == REDBEAT
    assert conf["redbeat_redis_url"] == "redis://cache:6379/0" and conf["redbeat_key_prefix"] == "care:redbeat"
    assert conf["broker_transport_options"] == {"global_keyprefix": "care:"}
    assert conf["redbeat_lock_timeout"] <= 60  # a dead beat hands over within a minute
    explicit = Settings.from_env({"REDIS_URL": "redis://cache:6379/0", "CELERY_BROKER_URL": "redis://broker:6379/5"})
    assert broker_url(explicit) == "redis://broker:6379/5"


def test_beat_scans_every_minute_and_sends_every_few_seconds_with_triggers_that_expire():
    schedule = config(Settings.from_env({"REMINDER_SEND_SECONDS": "10"}))["beat_schedule"]
    assert {name: (e["task"], e["schedule"]) for name, e in schedule.items()} == {
        "reminders-scan": ("notifications.scan", dt.timedelta(minutes=1)),
        "reminders-send-due": ("notifications.send_due", dt.timedelta(seconds=10)),
    }
    for entry in schedule.values():
        assert 0 < entry["options"]["expires"] < entry["schedule"].total_seconds()
        assert "args" not in entry and "kwargs" not in entry


def test_the_tasks_take_no_arguments_and_results_are_not_kept():
    assert {"notifications.scan", "notifications.send_due"} <= set(app.tasks)
    for task in (tasks.scan, tasks.send_due):
        assert list(inspect.signature(task.run).parameters) == []
    assert app.conf.task_ignore_result is True


def test_the_reminder_settings_have_their_defaults():
    defaults = Settings.from_env({})
    assert (defaults.reminder_send_seconds, defaults.reminder_rescan_minutes) == (15.0, 60)
    assert (defaults.celery_broker_url, defaults.celery_key_prefix) == ("", "")

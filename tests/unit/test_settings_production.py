"""The settings a production run needs: checked in one message, `.env` and the documented defaults reach
endpoints.production.yml (through `scripts/production.py`), and the file loads in Rasa against the real
PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import uuid
from pathlib import Path

import pytest

import settings

ROOT = Path(__file__).resolve().parents[2]
ALL_REQUIRED = list(settings.PRODUCTION_REQUIRED + settings.PRODUCTION_STORES_REQUIRED)
EVERY_NAME = ALL_REQUIRED + list(settings.PRODUCTION_DEFAULTS)

# what a deployment sets (the services on this machine: PostgreSQL `test` with trust auth, Redis)
COMPLETE = {
    "WHATSAPP_ACCESS_TOKEN": "token",
    "WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
    "WHATSAPP_WEBHOOK_VERIFY_TOKEN": "verify",
    "WHATSAPP_WEBHOOK_SECRET": "secret",
    "CARE_BASE_URL": "https://care.example.org",
    "CARE_USERNAME": "assistant",
    "CARE_PASSWORD": "pw",
    "HOSPITAL_EMERGENCY_NUMBER": "+91 177 265 2000",
    "HOSPITAL_HELPDESK_NUMBER": "+91 177 265 2011",
    "ASSISTANT_SECRET_KEY": "a-long-random-secret",
    "ASSISTANT_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test",
    "TRACKER_DB_HOST": os.environ.get("TEST_PG_HOST", "127.0.0.1"),
    "TRACKER_DB_NAME": os.environ.get("TEST_PG_DB", "test"),
    "TRACKER_DB_USER": os.environ.get("TEST_PG_USER", "postgres"),
    "REDIS_HOST": os.environ.get("TEST_REDIS_HOST", "127.0.0.1"),
}


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No production setting in the environment, and `.env` read from an empty directory (not the developer's)."""
    for name in EVERY_NAME:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(settings, "ROOT", tmp_path)
    return tmp_path


# ---- the check -----------------------------------------------------------------------------------------


def test_every_missing_setting_is_named_in_documentation_order():
    assert settings.missing_for_production({}) == ALL_REQUIRED
    assert settings.missing_for_production({}, stores=False) == list(settings.PRODUCTION_REQUIRED)
    assert settings.missing_for_production(COMPLETE) == []
    blank = {**COMPLETE, "CARE_PASSWORD": "  ", "REDIS_HOST": ""}
    assert settings.missing_for_production(blank) == ["CARE_PASSWORD", "REDIS_HOST"]


def test_the_message_is_one_line_with_every_name_and_the_way_to_check():
    message = settings.missing_message(ALL_REQUIRED)
    assert "\n" not in message
    assert all(name in message for name in ALL_REQUIRED)
    assert "scripts/production.py check" in message and ".env" in message


def test_the_documented_defaults_fill_what_is_unset_or_empty():
    env = settings.production_env({**COMPLETE, "TRACKER_DB_PORT": "", "REDIS_LOCK_DB": "7"})
    assert env["ACTION_ENDPOINT_URL"] == "http://127.0.0.1:5055/webhook"
    assert env["TRACKER_DB_PORT"] == "5432"  # empty counts as unset
    assert env["REDIS_PORT"] == "6379" and env["TRACKER_DB_PASSWORD"] == "" and env["REDIS_PASSWORD"] == ""
    assert env["REDIS_LOCK_DB"] == "7"  # a set value is kept
    assert env["CARE_PASSWORD"] == "pw"


def test_dotenv_values_reach_the_production_environment_and_the_real_environment_wins(clean_env, monkeypatch):
    (clean_env / ".env").write_text("TRACKER_DB_HOST=db.from-dotenv\nREDIS_HOST=redis.from-dotenv\n")
    monkeypatch.setenv("REDIS_HOST", "redis.from-environment")
    env = settings.production_env()
    assert env["TRACKER_DB_HOST"] == "db.from-dotenv"
    assert env["REDIS_HOST"] == "redis.from-environment"
    assert "TRACKER_DB_HOST" not in settings.missing_for_production()


def test_rasa_start_logs_one_error_line_naming_what_is_missing(clean_env, monkeypatch, caplog):
    """The WhatsApp channel's from_credentials (where `rasa run` starts the channel) calls the check."""
    from rasa.core.run import _create_single_channel

    monkeypatch.setattr("connectors.whatsapp.channel.install_log_masking", lambda: None)
    monkeypatch.setattr("connectors.whatsapp.channel.rasa_speedups.install", lambda: None)
    for name in (
        "WHATSAPP_ACCESS_TOKEN",
        "WHATSAPP_PHONE_NUMBER_ID",
        "WHATSAPP_WEBHOOK_VERIFY_TOKEN",
        "WHATSAPP_WEBHOOK_SECRET",
        "CARE_BASE_URL",
        "CARE_USERNAME",
    ):
        monkeypatch.setenv(name, COMPLETE[name])
    settings.get_settings.cache_clear()
    try:
        with caplog.at_level(logging.ERROR, logger="settings"):
            _create_single_channel("connectors.whatsapp.channel.WhatsAppInput", None)
    finally:
        settings.get_settings.cache_clear()
    lines = [r.getMessage() for r in caplog.records if r.name == "settings"]
    assert lines == [
        settings.missing_message(
            [
                "CARE_PASSWORD",
                "HOSPITAL_EMERGENCY_NUMBER",
                "HOSPITAL_HELPDESK_NUMBER",
                "ASSISTANT_SECRET_KEY",
                "ASSISTANT_DATABASE_URL",
            ]
        )
    ]


def test_nothing_is_logged_when_the_settings_are_complete(caplog):
    with caplog.at_level(logging.ERROR, logger="settings"):
        assert settings.log_missing_for_production(COMPLETE) == []
    assert not [r for r in caplog.records if r.name == "settings"]


# ---- scripts/production.py -----------------------------------------------------------------------------


@pytest.fixture
def production(monkeypatch):
    spec = importlib.util.spec_from_file_location("production_script", ROOT / "scripts" / "production.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    calls: list[tuple[str, list[str], dict[str, str]]] = []
    monkeypatch.setattr(os, "execve", lambda path, args, env: calls.append((path, args, env)))
    monkeypatch.setattr(os, "chdir", lambda path: None)
    module.execs = calls
    return module


def test_check_exits_1_with_one_line_naming_everything_missing(production, clean_env, monkeypatch, capsys):
    monkeypatch.setenv("CARE_USERNAME", "assistant")
    assert production.main(["check"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.strip() == settings.missing_message([n for n in ALL_REQUIRED if n != "CARE_USERNAME"])


def test_check_passes_with_only_the_required_settings(production, clean_env, monkeypatch, capsys):
    for name, value in COMPLETE.items():
        monkeypatch.setenv(name, value)
    assert production.main(["check"]) == 0
    out = capsys.readouterr().out
    assert "complete" in out and "ACTION_ENDPOINT_URL=http://127.0.0.1:5055/webhook" in out
    assert "PASSWORD" not in out


def test_rasa_refuses_to_start_when_something_is_missing(production, clean_env, capsys):
    assert production.main(["rasa"]) == 1
    assert production.execs == []
    assert "missing production settings: WHATSAPP_ACCESS_TOKEN" in capsys.readouterr().err


def test_rasa_starts_with_dotenv_and_the_defaults_in_its_environment(production, clean_env, monkeypatch):
    (clean_env / ".env").write_text("".join(f"{k}={v}\n" for k, v in COMPLETE.items() if k != "REDIS_HOST"))
    monkeypatch.setenv("REDIS_HOST", "127.0.0.1")
    production.main(["rasa", "--port", "5010"])
    [(path, args, env)] = production.execs
    assert path.endswith("/rasa") and args[:2] == [path, "run"]
    assert args[args.index("--endpoints") + 1] == "endpoints.production.yml"
    assert args[-2:] == ["--port", "5010"]  # after the default 5005: the last one wins
    assert env["TRACKER_DB_HOST"] == COMPLETE["TRACKER_DB_HOST"]  # from .env
    assert env["ACTION_ENDPOINT_URL"] == "http://127.0.0.1:5055/webhook" and env["REDIS_LOCK_DB"] == "1"
    assert str(ROOT) in env["PYTHONPATH"].split(os.pathsep)  # rasa_tuning.* in endpoints.production.yml


def test_the_action_server_needs_only_care_and_the_hospital(production, clean_env, monkeypatch):
    for name in production.ACTIONS_REQUIRED:
        monkeypatch.setenv(name, COMPLETE[name])
    production.main(["actions"])
    [(_path, args, env)] = production.execs
    assert args[1:3] == ["run", "actions"]
    assert env["SANIC_HOST"] == "127.0.0.1" and env["SANIC_KEEP_ALIVE_TIMEOUT"] == "75"


# ---- endpoints.production.yml in Rasa, against the real PostgreSQL and Redis ----------------------------


def test_endpoints_production_yml_needs_the_wrapper_without_it(clean_env, monkeypatch):
    """Rasa alone: no defaults, one variable at a time. This is why `scripts/production.py rasa` exists."""
    from rasa.core.utils import AvailableEndpoints
    from rasa.shared.exceptions import RasaException

    for name, value in COMPLETE.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(RasaException, match="ACTION_ENDPOINT_URL"):
        AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.production.yml"))


def test_endpoints_production_yml_loads_in_rasa_with_only_the_required_settings(clean_env, monkeypatch):
    from rasa.core.lock_store import LockStore
    from rasa.core.tracker_store import TrackerStore
    from rasa.core.utils import AvailableEndpoints
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from sqlalchemy import text

    # what `scripts/production.py rasa` gives Rasa: the required settings plus the documented defaults
    for name, value in settings.production_env(dict(COMPLETE)).items():
        if name in EVERY_NAME:
            monkeypatch.setenv(name, value)
    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.production.yml"))
    assert endpoints.action.url == "http://127.0.0.1:5055/webhook"
    assert endpoints.tracker_store.kwargs["port"] == "5432" and endpoints.lock_store.kwargs["db"] == "1"

    domain = Domain.load(str(ROOT / "domain"))
    try:
        tracker_store = TrackerStore.create(endpoints.tracker_store, domain)
        lock_store = LockStore.create(endpoints.lock_store)
        lock_store.red.ping()
    except Exception as exc:  # noqa: BLE001  # pragma: no cover - a machine without the services is a failed run
        pytest.fail(f"PostgreSQL or Redis on {COMPLETE['TRACKER_DB_HOST']} not reachable: {exc}")
    assert type(tracker_store).__name__ == "CachedSQLTrackerStore"
    assert type(lock_store).__module__ == "rasa_tuning.lock_store"
    assert lock_store.red.connection_pool.connection_kwargs["db"] == 1

    sender = f"test-production-{uuid.uuid4().hex}"
    events = [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered("hi", intent={"name": "greet", "confidence": 0.99}),
    ]

    async def round_trip() -> None:
        async with lock_store.lock(sender):
            await tracker_store.save(DialogueStateTracker.from_events(sender, events, slots=domain.slots))
        got = await tracker_store.retrieve(sender)
        assert got is not None and got.latest_message.text == "hi"

    try:
        asyncio.run(round_trip())
    finally:
        with tracker_store.engine.begin() as conn:
            conn.execute(text("DELETE FROM events WHERE sender_id = :sender"), {"sender": sender})

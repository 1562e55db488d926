"""Action tests: the real domain, a real CollectingDispatcher, inline rasa_sdk Trackers, and the sandbox CARE
as a real process (so the actions talk HTTP to CARE's recorded API shapes, with the sandbox's data).

    t = make_tracker(RAMESH_PHONE, text="what tablets do i take", intent="get_medications")
    dispatcher, events = run(ActionGetMedications(), t, domain)
"""
from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "contract"))

from care_support import SandboxProcess  # noqa: E402  (tests/contract: the sandbox as a subprocess)

OTP = "45612"
RAMESH_PHONE = "919876543210"  # wa_id: Ramesh and Sunita Kumar
ANITA_PHONE = "919123456789"
RAMESH = "ee456dc9-7f58-47ed-bded-e0b4c97fe596"
SUNITA = "dce684f0-9962-4497-988f-fe7947379b21"
ANITA = "e66f3c5f-b2b6-40a9-940f-9f00490e2a27"


@pytest.fixture(scope="session")
def care_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    proc = SandboxProcess(tmp_path_factory.mktemp("care-sandbox")).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain")).as_dict()


def reset_caches() -> None:
    from actions.patient import booking
    from actions.shared import clients
    from sessions.store import get_session_store
    from settings import get_settings

    get_settings.cache_clear()
    get_session_store.cache_clear()
    clients.forget_clients()
    booking._cache.clear()


@pytest.fixture
def care_env(care_sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxProcess]:
    """Actions configured like the stack: the sandbox CARE, the care-admin service account, a fresh session store."""
    monkeypatch.setenv("CARE_BASE_URL", care_sandbox.url)
    monkeypatch.setenv("CARE_USERNAME", "care-admin")
    monkeypatch.setenv("CARE_PASSWORD", "Ohcn@123")
    monkeypatch.setenv("SESSION_STORE_URL", f"sqlite:///{tmp_path / 'sessions.db'}")
    monkeypatch.setenv("CARE_TIMEZONE", "Asia/Kolkata")
    reset_caches()
    yield care_sandbox
    reset_caches()


# ------------------------------------------------------------------------------------------- trackers

def make_tracker(sender: str = RAMESH_PHONE, *, text: str = "", intent: str = "",
                 entities: list[tuple[str, str]] | None = None,
                 slots: dict[str, Any] | None = None, active_loop: str | None = None,
                 requested_slot: str | None = None, latest_action: str = "action_listen",
                 confidence: float = 0.95) -> Any:
    """An inline rasa_sdk Tracker as the action server receives it after a user message."""
    from rasa_sdk import Tracker

    all_slots: dict[str, Any] = dict(slots or {})
    if requested_slot is not None:
        all_slots["requested_slot"] = requested_slot
    latest = {"text": text, "intent": {"name": intent, "confidence": confidence},
              "entities": [{"entity": e, "value": v} for e, v in (entities or [])]}
    events: list[dict[str, Any]] = []
    if latest_action == "action_listen":
        events = [{"event": "action", "name": "action_listen"}, {"event": "user", "text": text, "parse_data": latest}]
        if active_loop and requested_slot:
            # what Rasa's form action sends to validate_<form>: the form's own execution appended
            events += [{"event": "slot", "name": "requested_slot", "value": requested_slot},
                       {"event": "action", "name": active_loop}]
            latest_action = active_loop
    else:
        events = [{"event": "action", "name": latest_action}]
    return Tracker(sender_id=sender, slots=all_slots, latest_message=latest, events=events, paused=False,
                   followup_action=None, active_loop={"name": active_loop} if active_loop else {},
                   latest_action_name=latest_action)


def run(action: Any, tracker: Any, domain: dict[str, Any]) -> tuple[Any, list[dict[str, Any]]]:
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    result = action.run(dispatcher, tracker, domain)
    events = asyncio.run(result) if asyncio.iscoroutine(result) else result
    return dispatcher, list(events or [])


def responses(dispatcher: Any) -> list[str]:
    return [m.get("response") for m in dispatcher.messages]


def message(dispatcher: Any, response: str) -> dict[str, Any]:
    found = [m for m in dispatcher.messages if m.get("response") == response]
    assert found, f"{response} not sent; sent: {responses(dispatcher)}"
    return found[0]


def slots_set(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def active_loop_of(events: list[dict[str, Any]]) -> str | None | bool:
    """The loop the events activate (None = deactivated), False when they don't touch it."""
    loops = [e for e in events if e.get("event") == "active_loop"]
    return loops[-1]["name"] if loops else False


def fresh_sender() -> str:
    """A WhatsApp id nobody else uses (rate limits and logins are per sender)."""
    return f"9199{uuid.uuid4().int % 10**8:08d}"


def log_in(sender: str, phone: str, selected: str = "") -> Any:
    """A real OTP login against the sandbox, saved as the login form would save it."""
    from actions.shared import clients, who
    from sessions.store import Login

    care = clients.service()
    care.send_otp(phone)
    token = care.login_otp(phone, OTP)
    patients = care.as_patient(token).list_patients()
    login = Login(kind="patient", access_token=token.access, expires_at=token.expires_at.timestamp(), phone=phone,
                  patient_ids=[p.id for p in patients],
                  selected_patient_id=selected or (patients[0].id if len(patients) == 1 else ""))
    who.store().save_login(sender, login)
    return login

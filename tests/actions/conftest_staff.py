"""Helpers of the staff action tests (imported explicitly: tests/actions/conftest.py is the patient part's).

The actions run for real: a real CollectingDispatcher, the real domain, inline rasa_sdk Trackers, the real
session store (SQLite in a temp dir) and a real sandbox CARE subprocess. `FormDriver` plays the part of
Rasa's FormAction (validate, pick the next slot, run its ask action) so whole form conversations can be
tested without a trained model; the end-to-end tests cover Rasa itself.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import struct
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterator

import pytest
from rasa.shared.core.domain import Domain
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher, ActionExecutor

from tests.contract.care_support import SandboxProcess

PASSWORD = "Ohcn@123"
TOTP_SECRET = "JBSWY3DPEHPK3PXP"


def totp(secret: str = TOTP_SECRET, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 TOTP (HMAC-SHA1), as an authenticator app computes it."""
    import base64

    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = struct.pack(">Q", int((time.time() if at is None else at) // step))
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 10 ** digits
    return str(code).zfill(digits)


@pytest.fixture(scope="session")
def staff_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    proc = SandboxProcess(tmp_path_factory.mktemp("staff-care")).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    from tests.conftest import ROOT

    return Domain.load(str(ROOT / "domain")).as_dict()


@pytest.fixture
def staff_env(staff_sandbox, tmp_path, monkeypatch):
    """Settings, session store and CARE client pointed at this test's sandbox and store."""
    monkeypatch.setenv("CARE_BASE_URL", staff_sandbox.url)
    monkeypatch.setenv("SESSION_STORE_URL", f"sqlite:///{tmp_path / 'sessions.db'}")
    monkeypatch.setenv("CARE_TIMEZONE", "Asia/Kolkata")
    _clear_caches()
    yield staff_sandbox
    _clear_caches()


def _clear_caches() -> None:
    import settings
    from actions.shared import clients
    from actions.staff import permissions, practitioners, search
    from sessions import store

    settings.get_settings.cache_clear()
    store.get_session_store.cache_clear()
    clients.forget_clients()
    search.forget_cache()
    practitioners.forget_cache()
    permissions.forget()


def store():
    from sessions.store import get_session_store

    return get_session_store()


def new_sender() -> str:
    return f"9198{uuid.uuid4().int % 10**8:08d}"


def log_in(sender: str, username: str = "care-doctor", code: str | None = None) -> None:
    """A staff login done directly against CARE (for tests about what comes after it)."""
    from actions.care.models import MfaChallenge
    from actions.shared.clients import staff_client
    from actions.staff.session import login_from

    care = staff_client()
    tokens = care.login(username, PASSWORD)
    if isinstance(tokens, MfaChallenge):
        tokens = care.login_mfa(tokens, code or totp())
    latest = [tokens]
    user = care.as_staff(tokens, on_refresh=latest.append).current_user()  # may rotate short-lived tokens
    store().save_login(sender, login_from(latest[-1], user, username, [f.id for f in user.facilities]))


# ---------------------------------------------------------------------- running actions

def make_tracker(sender: str, slots: dict[str, Any], text: str = "", intent: str = "",
                 entities: list[dict[str, Any]] | None = None, active_loop: str | None = None) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or []}
    return Tracker(sender, dict(slots), latest, [], False, None,
                   {"name": active_loop} if active_loop else {}, "action_listen")


def ents(**values: str) -> list[dict[str, Any]]:
    return [{"entity": k, "value": v} for k, v in values.items()]


def run(action: Action, tracker: Tracker, domain: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(_call(action, dispatcher, tracker, domain))
    return dispatcher.messages, events


async def _call(action: Action, dispatcher, tracker, domain):
    from rasa_sdk.utils import call_potential_coroutine

    run_ = action.run if hasattr(action, "run") else action
    return await call_potential_coroutine(run_(dispatcher, tracker, domain)) or []


def apply(slots: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    for e in events:
        if e.get("event") == "slot":
            slots[e["name"]] = e["value"]
    return slots


def active_loop_of(events: list[dict[str, Any]]) -> str | None | bool:
    """The loop an action started (name), stopped (None), or False when it did neither."""
    found: Any = False
    for e in events:
        if e.get("event") == "active_loop":
            found = e.get("name")
    return found


def text(message: dict[str, Any], domain: dict[str, Any], slots: dict[str, Any] | None = None) -> str:
    """What the user reads of one dispatched message: the response's variation for these slots, filled in."""
    name = message.get("response")
    if not name:
        return message.get("text") or ""
    variations = domain["responses"][name]
    chosen = None
    for v in variations:
        conds = v.get("condition") or []
        if all((slots or {}).get(c["name"]) == c["value"] for c in conds):
            chosen = v
            break
    out = str((chosen or variations[0]).get("text", ""))
    for key, value in message.items():
        if key not in ("response", "buttons", "template", "text", "elements", "attachment", "image", "custom",
                       "json_message"):
            out = out.replace("{" + key + "}", str(value))
    return out


def texts(messages: list[dict[str, Any]], domain: dict[str, Any], slots: dict[str, Any] | None = None) -> str:
    return "\n---\n".join(text(m, domain, slots) for m in messages)


def buttons(messages: list[dict[str, Any]], domain: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for m in messages:
        name = m.get("response")
        if name:
            found += domain["responses"][name][0].get("buttons") or []
        found += m.get("buttons") or []
    return found


_executor: ActionExecutor | None = None


def registered() -> dict[str, Any]:
    """Every action of the action server, by name (as `rasa run actions` finds them)."""
    global _executor
    if _executor is None:
        _executor = ActionExecutor()
        _executor.register_package("actions")
    return _executor.actions


def action(name: str) -> Any:
    return registered()[name]


@dataclass
class FormDriver:
    """Rasa's FormAction, in the small: validate the answer, choose the next slot, run its ask action."""

    form: str
    sender: str
    domain: dict[str, Any]
    slots: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    active: bool = False
    rejected: bool = False

    def _required(self) -> list[str]:
        return list(self.domain["forms"][self.form]["required_slots"])

    def _turn(self, text_: str, intent: str, entities: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
        t = make_tracker(self.sender, self.slots, text_, intent, entities, self.form)
        msgs, events = run(action(f"validate_{self.form}"), t, self.domain)
        validated = [e for e in events if e.get("event") == "slot" and e["name"] != "requested_slot"]
        self.rejected = bool(self.slots.get("requested_slot")) and not validated
        if self.rejected:
            return msgs  # Rasa rejects the form: a rule handles the message (stop, help, ...)
        apply(self.slots, events)
        requested = [e["value"] for e in events if e.get("event") == "slot" and e["name"] == "requested_slot"]
        if requested:
            nxt = requested[-1]
        else:
            nxt = next((s for s in self._required() if self.slots.get(s) is None), None)
        self.slots["requested_slot"] = nxt
        if nxt is None:
            self.active = False
            return msgs
        ask = f"action_ask_{self.form}_{nxt}"
        if ask in registered():
            more, ask_events = run(registered()[ask], make_tracker(self.sender, self.slots, text_, intent,
                                                                       entities, self.form), self.domain)
            apply(self.slots, ask_events)
            msgs = msgs + more
        else:
            msgs = msgs + [{"response": f"utter_ask_{self.form}_{nxt}"}]
        return msgs

    def start(self, text_: str = "", intent: str = "", entities: list[dict[str, Any]] | None = None,
              **slots: Any) -> list[dict[str, Any]]:
        """The form starts (after the events of the action that started it were applied)."""
        self.slots.update(slots)
        self.slots["requested_slot"] = None
        self.active = True
        out = self._turn(text_, intent, entities)
        self.messages += out
        return out

    def say(self, text_: str, intent: str = "inform", entities: list[dict[str, Any]] | None = None,
            may_reject: bool = False) -> list[dict]:
        out = self._turn(text_, intent, entities)
        assert may_reject or not self.rejected, f"the form rejected {text_!r}"
        self.messages += out
        return out

    def choose(self, payload_choice: str) -> list[dict[str, Any]]:
        text_ = f'/staff_choose{{"staff_choice":"{payload_choice}"}}'
        # like Rasa's payload parser, the entity has a span that is not the value's
        return self.say(text_, "staff_choose",
                        [{"entity": "staff_choice", "value": payload_choice, "start": 0, "end": len(text_)}])

    def secret(self, kind: str, value: str) -> list[dict[str, Any]]:
        """What the connector does with a secret the assistant asked for: keep it, hand Rasa the intent."""
        from sessions.redaction import redact_inbound

        text_ = redact_inbound(store(), self.sender, value)
        assert text_.startswith("/secret_provided"), "the assistant did not ask for a secret"
        return self.say(text_, "secret_provided", ents(secret_kind=kind))


def choice_of(button: dict[str, Any]) -> str:
    """The staff_choice value of a list row payload."""
    payload = button["payload"]
    return payload.split('"staff_choice":"', 1)[1].rstrip('"}')

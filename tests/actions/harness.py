"""The one harness of the action tests, patient and staff alike: make a tracker, log someone in, run an action,
read what was said. Its fixtures (`care_sandbox`, `domain`, `care_env`) are in conftest.py, so pytest finds
them; test files import the helpers from here.

The actions run for real: a real CollectingDispatcher, the real domain, inline rasa_sdk Trackers as the action
server receives them, the real session store (SQLite in the test's temp dir) and a real sandbox CARE
subprocess (CARE's recorded API shapes, with the sandbox's data). `FormDriver` plays the part of Rasa's
FormAction (validate, pick the next slot, run its ask action), so whole form conversations are tested without
a trained model; the end-to-end tests cover Rasa itself.

    sender = fresh_sender()
    log_in_patient(sender, "+919876543210", selected=RAMESH)      # or log_in_staff(sender, "care-doctor")
    said, events = run(action("action_get_medications"), make_tracker(sender, text="my tablets",
                                                                      intent="get_medications"), domain)
    responses(said), message(said, "utter_medications"), texts(said, domain), buttons(said, domain)
    slots_set(events), active_loop_of(events)
"""

from __future__ import annotations

import asyncio
import inspect
import re
import sys
import uuid
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

from tests.contract.care_support import SandboxProcess
from tests.contract.care_support import totp as _totp

ROOT = Path(__file__).resolve().parents[2]

# the sandbox's people (sandbox/care/fixtures.yml)
OTP = "45612"  # every patient's one-time code
PASSWORD = "Ohcn@123"  # every staff member's password (care-doctor, care-nurse, care-staff, care-volunteer, ...)
TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # care-doctor-mfa's authenticator secret
RAMESH_PHONE = "919876543210"  # wa_id: Ramesh and Sunita Kumar
ANITA_PHONE = "919123456789"
RAMESH = "ee456dc9-7f58-47ed-bded-e0b4c97fe596"
SUNITA = "dce684f0-9962-4497-988f-fe7947379b21"
ANITA = "e66f3c5f-b2b6-40a9-940f-9f00490e2a27"

__all__ = [
    "ANITA",
    "ANITA_PHONE",
    "OTP",
    "PASSWORD",
    "RAMESH",
    "RAMESH_PHONE",
    "ROOT",
    "SUNITA",
    "TOTP_SECRET",
    "FormDriver",
    "Said",
    "SandboxProcess",
    "action",
    "active_loop_of",
    "apply",
    "buttons",
    "choice_of",
    "ents",
    "forget_caches",
    "fresh_sender",
    "log_in_patient",
    "log_in_staff",
    "make_tracker",
    "message",
    "registered",
    "responses",
    "run",
    "slots_set",
    "store",
    "text",
    "texts",
    "totp",
    "use_care",
]


# ------------------------------------------------------------------------------------------- CARE and caches


def use_care(monkeypatch: pytest.MonkeyPatch, care_url: str, tmp_path: Path) -> None:
    """Actions configured like the stack: this CARE, the care-admin service account, a fresh session store in
    `tmp_path`, the hospital's time zone; every cache forgotten so that they take effect."""
    monkeypatch.setenv("CARE_BASE_URL", care_url)
    monkeypatch.setenv("CARE_USERNAME", "care-admin")
    monkeypatch.setenv("CARE_PASSWORD", PASSWORD)
    monkeypatch.setenv("SESSION_STORE_URL", f"sqlite:///{tmp_path / 'sessions.db'}")
    monkeypatch.setenv("CARE_TIMEZONE", "Asia/Kolkata")
    forget_caches()


# What the actions keep between calls, found by name in whichever actions module holds it now (code moves: the
# booking's cache from actions/patient/booking.py to actions/scheduling/, say). A cache exists only in a module
# that was imported, so the loaded actions modules are searched.
_FORGETTERS = ("forget_clients", "forget_cache", "forget_caches", "forget")  # called when they take no argument
_CACHE_DICTS = ("_cache",)


def forget_caches() -> None:
    """Forget every cache: settings, the session store, the CARE clients, and each cache of the actions
    (lru_caches, `forget_cache()`/`forget()` functions, `_cache` dicts: the booking's facility and doctors, the
    staff's search, practitioners and permissions, ...)."""
    import settings
    from actions.shared import clients
    from sessions import store as session_store

    settings.get_settings.cache_clear()
    session_store.get_session_store.cache_clear()
    clients.forget_clients()
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "actions" or name.startswith("actions.")):
            continue
        for attr, value in list(vars(module).items()):
            if attr in _CACHE_DICTS and isinstance(value, MutableMapping):
                value.clear()
            elif attr in _FORGETTERS and callable(value) and _takes_no_argument(value):
                value()
            elif callable(getattr(value, "cache_clear", None)) and getattr(value, "__module__", "") == name:
                value.cache_clear()  # a functools.lru_cache of this module


def _takes_no_argument(fn: Any) -> bool:
    try:
        return not any(
            p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            for p in inspect.signature(fn).parameters.values()
        )
    except (TypeError, ValueError):
        return False


def store() -> Any:
    """The session store the actions use (logins, secrets in transit, counters)."""
    from sessions.store import get_session_store

    return get_session_store()


# ------------------------------------------------------------------------------------------- people


def fresh_sender() -> str:
    """A WhatsApp id nobody else uses (rate limits and logins are per sender)."""
    return f"9199{uuid.uuid4().int % 10**8:08d}"


def log_in_patient(sender: str, phone: str, selected: str = "") -> Any:
    """A real OTP login against the sandbox, saved as the login form would save it; returns the Login."""
    from actions.shared import clients, who
    from sessions.store import Login

    care = clients.service()
    care.send_otp(phone)
    token = care.login_otp(phone, OTP)
    patients = care.as_patient(token).list_patients()
    login = Login(
        kind="patient",
        access_token=token.access,
        expires_at=token.expires_at.timestamp(),
        phone=phone,
        patient_ids=[p.id for p in patients],
        selected_patient_id=selected or (patients[0].id if len(patients) == 1 else ""),
    )
    who.store().save_login(sender, login)
    return login


def log_in_staff(sender: str, username: str = "care-doctor", code: str | None = None) -> Any:
    """A staff login done directly against CARE (for tests about what comes after it); returns the Login."""
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
    return store().login(sender)


def totp(secret: str = TOTP_SECRET, at: float | None = None) -> str:
    """The code an authenticator app shows now (RFC 6238), by default care-doctor-mfa's."""
    return _totp(secret, at)


# ------------------------------------------------------------------------------------------- trackers


def make_tracker(
    sender: str = RAMESH_PHONE,
    slots: dict[str, Any] | None = None,
    text: str = "",
    intent: str = "",
    entities: Iterable[tuple[str, Any] | dict[str, Any]] | None = None,
    active_loop: str | None = None,
    *,
    requested_slot: str | None = None,
    latest_action: str = "action_listen",
    confidence: float = 0.95,
) -> Tracker:
    """An inline rasa_sdk Tracker as the action server receives it after a user message.

    `entities`: (name, value) pairs or entity dicts (with a span, say). `requested_slot` with `active_loop`:
    what Rasa's form action sends to validate_<form> (the form's own execution appended). `latest_action`
    other than action_listen: the action that ran last, without a user message after it."""
    all_slots: dict[str, Any] = dict(slots or {})
    if requested_slot is not None:
        all_slots["requested_slot"] = requested_slot
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": [dict(e) if isinstance(e, dict) else {"entity": e[0], "value": e[1]} for e in (entities or [])],
    }
    events: list[dict[str, Any]]
    if latest_action == "action_listen":
        events = [{"event": "action", "name": "action_listen"}, {"event": "user", "text": text, "parse_data": latest}]
        if active_loop and requested_slot:
            events += [
                {"event": "slot", "name": "requested_slot", "value": requested_slot},
                {"event": "action", "name": active_loop},
            ]
            latest_action = active_loop
    else:
        events = [{"event": "action", "name": latest_action}]
    return Tracker(
        sender_id=sender,
        slots=all_slots,
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name=latest_action,
    )


def ents(**values: str) -> list[dict[str, Any]]:
    """Entity dicts: ents(person="Meera") -> [{"entity": "person", "value": "Meera"}]."""
    return [{"entity": k, "value": v} for k, v in values.items()]


# ------------------------------------------------------------------------------------------- running actions


class Said(list):
    """What an action dispatched: its messages in order, dicts as the CollectingDispatcher keeps them.
    `.messages` is this same list, so a result also reads as the dispatcher it came from."""

    @property
    def messages(self) -> Said:
        return self


def run(action: Any, tracker: Tracker, domain: dict[str, Any]) -> tuple[Said, list[dict[str, Any]]]:
    """Run an action (or an action-shaped coroutine function: `fn(dispatcher, tracker, domain)`) as the action
    server would: (what it said, its events)."""
    from rasa_sdk.utils import call_potential_coroutine

    dispatcher = CollectingDispatcher()
    run_ = action.run if hasattr(action, "run") else action

    async def call() -> Any:
        return await call_potential_coroutine(run_(dispatcher, tracker, domain))

    events = asyncio.run(call())
    return Said(dispatcher.messages), list(events or [])


def slots_set(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The slots the events set, by name (the last value of each)."""
    return apply({}, events)


def apply(slots: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    """`slots` with the events' slot values applied (in place), as Rasa applies them."""
    for e in events:
        if e.get("event") == "slot":
            slots[e["name"]] = e["value"]
    return slots


def active_loop_of(events: list[dict[str, Any]]) -> str | bool | None:
    """The loop the events leave active: its name, None when they stop it, False when they don't touch it."""
    found: str | bool | None = False
    for e in events:
        if e.get("event") == "active_loop":
            found = e.get("name")
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


# ------------------------------------------------------------------------------------------- what was said


def _messages(said: Any) -> list[dict[str, Any]]:
    """A run's messages, from what `run` returned, a dispatcher or a list of message dicts."""
    return said.messages if hasattr(said, "messages") else list(said)


def responses(said: Any) -> list[str | None]:
    """The names of the responses sent, in order (None for a plain text)."""
    return [m.get("response") for m in _messages(said)]


def message(said: Any, response: str) -> dict[str, Any]:
    """The first message that sent `response` (its variables and buttons); fails when none did."""
    found = [m for m in _messages(said) if m.get("response") == response]
    assert found, f"{response} not sent; sent: {responses(said)}"
    return found[0]


# the dispatcher's own keys: what is left of a message are the variables of its response
_NOT_VARIABLES = (
    "response",
    "buttons",
    "template",
    "text",
    "elements",
    "attachment",
    "image",
    "custom",
    "json_message",
)


def _variation(domain: dict[str, Any], name: str, slots: dict[str, Any] | None) -> dict[str, Any]:
    """The variation of a response Rasa would choose for these slots: one whose conditions hold, else one
    without conditions; the first of them (Rasa picks at random among them)."""
    variations = domain["responses"][name]

    def holds(condition: dict[str, Any]) -> bool:
        have, want = (slots or {}).get(condition["name"]), condition["value"]
        if isinstance(have, str) and isinstance(want, str):
            return have.casefold() == want.casefold()
        return have == want

    conditional = [v for v in variations if v.get("condition") and all(map(holds, v["condition"]))]
    plain = [v for v in variations if not v.get("condition")]
    chosen = conditional or plain
    assert chosen, f"{name} has no variation for the slots {slots}: Rasa would send nothing"
    return chosen[0]


def _fill(template: str, values: dict[str, Any]) -> str:
    """Rasa's interpolation ({name} of the message's variables, then of the slots); a name without a value is
    left as it is, so a test sees it."""
    return re.sub(r"{([^\n{}]+?)}", lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), template)


def text(message: dict[str, Any], domain: dict[str, Any], slots: dict[str, Any] | None = None) -> str:
    """What the user reads of one dispatched message: its response's variation for these slots, filled in with
    the message's variables and the slots, as Rasa fills it; or the message's own text."""
    name = message.get("response")
    if not name:
        return message.get("text") or ""
    if message.get("text"):
        return str(message["text"])  # Rasa lets the message's own text win over the response's
    values = {**(slots or {}), **{k: v for k, v in message.items() if k not in _NOT_VARIABLES}}
    return _fill(str(_variation(domain, name, slots).get("text", "")), values)


def texts(said: Any, domain: dict[str, Any], slots: dict[str, Any] | None = None) -> str:
    """What the user reads of all the messages, one after another (separated by a line of ---)."""
    return "\n---\n".join(text(m, domain, slots) for m in _messages(said))


def buttons(said: Any, domain: dict[str, Any], slots: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The buttons (or list rows) the user can press: the responses' own, then those the messages add."""
    found: list[dict[str, Any]] = []
    for m in _messages(said):
        name = m.get("response")
        if name:
            found += _variation(domain, name, slots).get("buttons") or []
        found += m.get("buttons") or []
    return found


def choice_of(button: dict[str, Any]) -> str:
    """The staff_choice value of a list row payload."""
    payload = button["payload"]
    return payload.split('"staff_choice":"', 1)[1].rstrip('"}')


# ------------------------------------------------------------------------------------------- forms


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

    def _turn(self, text_: str, intent: str, entities: list[dict[str, Any]] | None) -> Said:
        t = make_tracker(self.sender, self.slots, text_, intent, entities, self.form)
        msgs, events = run(action(f"validate_{self.form}"), t, self.domain)
        validated = [e for e in events if e.get("event") == "slot" and e["name"] != "requested_slot"]
        self.rejected = bool(self.slots.get("requested_slot")) and not validated
        if self.rejected:
            return msgs  # Rasa rejects the form: a rule handles the message (stop, help, ...)
        apply(self.slots, events)
        requested = [e["value"] for e in events if e.get("event") == "slot" and e["name"] == "requested_slot"]
        nxt = requested[-1] if requested else next((s for s in self._required() if self.slots.get(s) is None), None)
        self.slots["requested_slot"] = nxt
        if nxt is None:
            self.active = False
            return msgs
        ask = f"action_ask_{self.form}_{nxt}"
        if ask in registered():
            more, ask_events = run(
                registered()[ask],
                make_tracker(self.sender, self.slots, text_, intent, entities, self.form),
                self.domain,
            )
            apply(self.slots, ask_events)
            return Said(msgs + more)
        return Said(msgs + [{"response": f"utter_ask_{self.form}_{nxt}"}])

    def start(
        self, text_: str = "", intent: str = "", entities: list[dict[str, Any]] | None = None, **slots: Any
    ) -> Said:
        """The form starts (after the events of the action that started it were applied)."""
        self.slots.update(slots)
        self.slots["requested_slot"] = None
        self.active = True
        out = self._turn(text_, intent, entities)
        self.messages += out
        return out

    def say(
        self, text_: str, intent: str = "inform", entities: list[dict[str, Any]] | None = None, may_reject: bool = False
    ) -> Said:
        out = self._turn(text_, intent, entities)
        assert may_reject or not self.rejected, f"the form rejected {text_!r}"
        self.messages += out
        return out

    def choose(self, payload_choice: str) -> Said:
        text_ = f'/staff_choose{{"staff_choice":"{payload_choice}"}}'
        # like Rasa's payload parser, the entity has a span that is not the value's
        return self.say(
            text_, "staff_choose", [{"entity": "staff_choice", "value": payload_choice, "start": 0, "end": len(text_)}]
        )

    def secret(self, kind: str, value: str) -> Said:
        """What the connector does with a secret the assistant asked for: keep it, hand Rasa the intent."""
        from sessions.redaction import redact_inbound

        text_ = redact_inbound(store(), self.sender, value)
        assert text_.startswith("/secret_provided"), "the assistant did not ask for a secret"
        return self.say(text_, "secret_provided", ents(secret_kind=kind))

"""Server-side sessions keyed by sender: who is logged in, their CARE tokens, and secrets in transit.

Why not Rasa slots: slots are tracker events, stored forever in the tracker store and visible to anyone
who reads it. Tokens, OTPs and passwords must never get there, so they live here with an expiry:
- a *login* (patient or staff) lasts at most WHATSAPP_SESSION_TIMEOUT_HOURS of inactivity and never
  longer than CARE's own token;
- an *expectation* says the next message of a sender is a secret (the connector then keeps the text here
  and hands Rasa only `/secret_provided`);
- a *secret* is kept for two minutes, taken exactly once by the action that needs it;
- *counters* limit wrong codes, resends and failed logins per time window.
"""

from __future__ import annotations

import functools
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from sessions.kv import KeyValueStore, make_kv_store

SECRET_KINDS = ("otp", "password", "totp", "phone", "note")  # phone: typed at login; note: for the helpdesk
SECRET_TTL_SECONDS = 120
EXPECTATION_TTL_SECONDS = 600
LINGERING = "~"  # prefix of an expectation whose question was left


@dataclass
class Login:
    kind: str  # "patient" or "staff"
    access_token: str
    expires_at: float  # epoch seconds after which CARE no longer accepts the login (patient token, staff refresh)
    refresh_token: str = ""
    access_expires_at: float = 0.0  # staff: the short-lived access token
    phone: str = ""  # patient: the E.164 number the code went to
    patient_ids: list[str] = field(default_factory=list)  # the patients this OTP login proved
    selected_patient_id: str = ""
    username: str = ""
    user_id: str = ""
    facility_ids: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    created_at: float = field(default_factory=time.time)

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at

    def may_read(self, patient_id: str) -> bool:
        """A patient login reads only the patients it proved; staff rely on CARE's own checks."""
        return self.kind == "staff" or patient_id in self.patient_ids

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Login:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


class SessionStore:
    def __init__(self, kv: KeyValueStore, session_timeout_seconds: float) -> None:
        self.kv = kv
        self.session_timeout_seconds = session_timeout_seconds

    # logins -------------------------------------------------------------------------------------------
    def login(self, sender: str) -> Login | None:
        data = self.kv.get(f"login:{sender}")
        if data is None:
            return None
        login = Login.from_dict(data)
        if login.expired:
            self.kv.delete(f"login:{sender}")
            return None
        return login

    def save_login(self, sender: str, login: Login) -> None:
        ttl = min(self.session_timeout_seconds, login.expires_at - time.time())
        if ttl <= 0:
            self.kv.delete(f"login:{sender}")
            return
        self.kv.set(f"login:{sender}", asdict(login), ttl)

    def end(self, sender: str) -> None:
        """Logout: the login, any pending secret and expectation are gone at once."""
        self.kv.delete(f"login:{sender}", f"expect:{sender}", *(f"secret:{sender}:{k}" for k in SECRET_KINDS))

    # secrets in transit -------------------------------------------------------------------------------
    def expect_secret(self, sender: str, kind: str) -> None:
        if kind not in SECRET_KINDS:
            raise ValueError(f"unknown secret kind {kind!r}")
        self.kv.set(f"expect:{sender}", kind, EXPECTATION_TTL_SECONDS)

    def expected_secret(self, sender: str) -> str | None:
        """The kind of secret the next message is, or `~kind` while a question that asked for one was left
        (an emergency, "menu"): then only a message of exactly that shape is still kept (sessions/redaction.py)."""
        return self.kv.get(f"expect:{sender}")

    def linger_expectation(self, sender: str) -> None:
        """The question that asked for a secret was left: a code or password typed out of habit right after
        must still not reach Rasa in clear, but words are words again."""
        kind = self.kv.get(f"expect:{sender}")
        if kind and not kind.startswith(LINGERING):
            self.kv.set(f"expect:{sender}", LINGERING + kind, EXPECTATION_TTL_SECONDS)

    def clear_expectation(self, sender: str) -> None:
        self.kv.delete(f"expect:{sender}")

    def put_secret(self, sender: str, kind: str, value: str) -> None:
        self.kv.set(f"secret:{sender}:{kind}", value, SECRET_TTL_SECONDS)

    def take_secret(self, sender: str, kind: str) -> str | None:
        return self.kv.pop(f"secret:{sender}:{kind}")

    # rate limits --------------------------------------------------------------------------------------
    def hit(self, sender: str, name: str, window_seconds: float) -> int:
        """Counts one event in the current window and returns the count so far."""
        return self.kv.incr(f"count:{name}:{sender}", window_seconds)

    def count(self, sender: str, name: str) -> int:
        return int(self.kv.get(f"count:{name}:{sender}") or 0)

    def seconds_left(self, sender: str, name: str) -> float:
        return self.kv.ttl(f"count:{name}:{sender}") or 0.0

    def reset(self, sender: str, name: str) -> None:
        self.kv.delete(f"count:{name}:{sender}")


@functools.lru_cache(maxsize=1)
def get_session_store() -> SessionStore:
    from settings import ROOT, get_settings

    s = get_settings()
    (ROOT / ".run").mkdir(exist_ok=True)
    kv = make_kv_store(s.session_store_url, s.redis_url, str(ROOT / ".run" / "sessions.db"))
    return SessionStore(kv, s.whatsapp_session_timeout_hours * 3600)

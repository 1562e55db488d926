"""Sandbox-only knobs, read from the environment here (the assistant's settings.py is not involved).

SANDBOX_ACCESS_TOKEN_MINUTES   staff access JWT lifetime (CARE: 10)
SANDBOX_REFRESH_TOKEN_MINUTES  staff refresh JWT lifetime, rotating (CARE: 30)
SANDBOX_PATIENT_TOKEN_MINUTES  OTP patient JWT lifetime (CARE: 60)
SANDBOX_JWT_SECRET             HS256 key; default: random per start, so a restart logs everyone out
SANDBOX_CARE_FIXTURES          another fixture file than sandbox/care/fixtures.yml
SANDBOX_TODAY                  YYYY-MM-DD to pin "today" (relative fixture dates), default: the real date
Lifetimes accept fractions (0.05 = 3 s) so tests can watch tokens expire.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures.yml"


def _minutes(env: dict[str, str], name: str, default: float) -> dt.timedelta:
    raw = env.get(name, "").strip()
    try:
        return dt.timedelta(minutes=float(raw)) if raw else dt.timedelta(minutes=default)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number of minutes, got {raw!r}") from exc


@dataclass(frozen=True)
class SandboxConfig:
    access_lifetime: dt.timedelta = dt.timedelta(minutes=10)
    refresh_lifetime: dt.timedelta = dt.timedelta(minutes=30)
    patient_lifetime: dt.timedelta = dt.timedelta(minutes=60)
    mfa_lifetime: dt.timedelta = dt.timedelta(minutes=5)
    jwt_secret: str = "sandbox-only-key-not-a-secret-anywhere"  # from_env picks a random one
    fixtures: Path = FIXTURES
    today: dt.date | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> SandboxConfig:
        e = dict(os.environ) if env is None else env
        today = e.get("SANDBOX_TODAY", "").strip()
        return cls(
            access_lifetime=_minutes(e, "SANDBOX_ACCESS_TOKEN_MINUTES", 10),
            refresh_lifetime=_minutes(e, "SANDBOX_REFRESH_TOKEN_MINUTES", 30),
            patient_lifetime=_minutes(e, "SANDBOX_PATIENT_TOKEN_MINUTES", 60),
            jwt_secret=e.get("SANDBOX_JWT_SECRET", "") or secrets.token_urlsafe(32),
            fixtures=Path(e.get("SANDBOX_CARE_FIXTURES", "") or FIXTURES),
            today=dt.date.fromisoformat(today) if today else None,
        )

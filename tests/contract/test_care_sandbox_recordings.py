"""The sandbox answers every recorded request of the real CARE with the same status and JSON shape.

The recorded requests are replayed in their recorded order against one sandbox subprocess, with
the caller each recording names (doctor, volunteer, staff, admin, a patient OTP token, a garbage
token...). Ids of Ramesh, Sunita, Anita and their records are the recorded ids; ids that a replayed
create or slot list produced are mapped to the sandbox's; recorded dates are moved to a Thursday
at least nine days ahead (2026-11-26 was a Thursday) so the recorded slots are free.

Recordings 107+ come from a second CARE whose ids all differ: its facility, doctor, patients, encounter,
department and schedule are mapped onto the sandbox's seeded ones (SECOND_SERVER), and its slots onto
the sandbox slots at the same (moved) time. Redacted tokens in request bodies are the tokens each
recording's note names (BODY_TOKENS); TOTP codes come from the `secret_key` the sandbox's setup answered
(107), backup codes from its verify (109). Expired tokens (153-156) are minted, as the recordings were,
with the server's own claims and key: the sandbox runs with a known SANDBOX_JWT_SECRET.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests
import yaml
from care_support import ROOT, SandboxProcess, all_recordings, recording, shape_misses, totp

PASSWORD = "Ohcn@123"
OTP = "45612"
RECORDED_DAY0 = dt.date(2026, 11, 26)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
RAMESH_PHONE = "+919876543210"
JWT_SECRET = secrets.token_urlsafe(32)  # the replay sandbox's signing key, to mint expired tokens (153-156)

NOT_SERVED = {  # recordings the sandbox deliberately does not serve
    "23": "creating schedules: the assistant only reads them",
    "103": "questionnaires",
    "104": "questionnaires",
    "105": "questionnaires",
    "106": "questionnaires",
}
CALLER = {
    **dict.fromkeys(("90", "91", "92", "93", "94"), "volunteer"),
    "95": "staff",
    "10": "admin",
    **dict.fromkeys(("41", "42", "43", "44", "45", "46", "47", "48", "49", "50", "51", "52"), "patient"),
    "56": "patient-anita",
    "58": "patient-unknown",
    "53": "doctor",
    "59": "garbage",
    "61": "garbage",
    "60": None,
    "62": "doctor-refresh",
    # 107+: care-nurse sets up TOTP, then logs in with it; "session" is a fresh care-doctor login
    # that is rotated (145) and logged out (147); "expired-*" are minted with exp in the past
    **dict.fromkeys(("107", "108", "109", "110"), "nurse"),
    "112": "temp",
    "119": "nurse-mfa",
    "141": "volunteer",
    **dict.fromkeys(("142", "143", "147", "148"), "session"),
    "151": "session-rotated",
    "152": "session-rotated",
    "153": "expired-access",
    "155": "expired-patient",
    "156": "expired-patient",
}
USERS = {
    "doctor": "care-doctor",
    "volunteer": "care-volunteer",
    "staff": "care-staff",
    "admin": "admin",
    "nurse": "care-nurse",
}

SECOND_SERVER = {  # ids of the second CARE (107+) -> the sandbox's seeded ones (README "Key ids")
    "63a65370-3428-44b7-ad8f-051a565a829a": "788d76a3-70dc-4d84-93ad-9751f20ba63f",  # facility
    "3bd35d3d-7aee-4b7d-ab1f-5ffa084bc1e5": "bd54a959-57e2-48e9-b170-c87fde12b80a",  # care-doctor
    "12eba874-d754-43d2-9c3d-61731d67b26f": "ee456dc9-7f58-47ed-bded-e0b4c97fe596",  # Ramesh
    "27f07c4c-06d7-4a90-be22-c9add29be88e": "dce684f0-9962-4497-988f-fe7947379b21",  # Sunita
    "60c2e687-d0ac-40c4-9e57-93bc3da0db10": "e66f3c5f-b2b6-40a9-940f-9f00490e2a27",  # Anita
    "4630f7c6-5829-443c-8a81-279320ac3b8d": "c566c37c-682e-4773-9d6c-b07232e57477",  # Ramesh's encounter
    "0cd3cc6e-070f-4cfe-bd89-653bacbf476f": "21756f12-e0af-4d7c-b3f0-f9bd2959d287",  # department
    "3cfc2bbc-1a5f-452f-a9dc-3e1e0f68529c": "c7a6175e-7d08-4707-abd7-1e963407a4dc",  # schedule
}
_TEMP, _TEMP2 = {"<temp-token-jwt>": "temp"}, {"<temp-token-jwt>": "temp-2"}
_SESSION = {"<access-jwt>": "session", "<refresh-jwt>": "session-refresh"}
BODY_TOKENS = {  # redacted tokens in request bodies -> the token the recording's note names
    "113": {"<refresh-jwt>": "temp"},
    "114": _TEMP,
    "116": {"<temp-token-jwt>": "doctor-refresh"},
    "117": _TEMP,
    "118": _TEMP,
    "120": _TEMP,
    "121": _TEMP2,
    "122": _TEMP2,
    "142": {"<access-jwt>": "session"},
    "143": {"<access-jwt>": "session", "<refresh-jwt>": "staff-refresh"},
    "144": _SESSION,
    "145": {"<refresh-jwt>": "session-refresh"},
    "146": {"<refresh-jwt>": "session-refresh"},
    "147": _SESSION,
    "149": {"<refresh-jwt>": "session-refresh"},
    "150": {"<refresh-jwt>": "session-rotated-refresh"},
    "152": _SESSION,
    "154": {"<refresh-jwt>": "expired-refresh"},
}
_BOOKING = ("status", "note", "token_slot.allocated")
SAME_VALUES = {  # 107+: beyond the shape, these values must be the recorded ones (the behaviour the README names)
    "123": _BOOKING,
    "124": _BOOKING,
    "125": _BOOKING,
    "127": _BOOKING,
    "131": _BOOKING,
    "132": _BOOKING,
    "136": ("status", "information_source", "dosage_text", "effective_period"),
    "137": ("status", "information_source", "effective_period"),
    "110": ("mfa_enabled",),
    "119": ("username", "mfa_enabled"),
    "151": ("username",),
}
TOTP_NOW = ("109", "118", "120")  # their recorded codes were current then: send the current one
BACKUP_CODE = re.compile(r"^<backup-code-(\d+)>$")


def _seeded_ids() -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                found.add(str(v)) if k == "id" else walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(yaml.safe_load((ROOT / "sandbox/care/fixtures.yml").read_text()))
    return found


def _second_server_slots() -> dict[str, str]:
    """Slot id -> start of every `token_slot` the second server's recordings show."""
    found: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            slot = node.get("token_slot")
            if isinstance(slot, dict):
                found[slot["id"]] = slot["start_datetime"]
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for number, rec in all_recordings():
        if int(number) >= 107:
            walk(rec["response"]["body"])
    return found


class Replayer:
    def __init__(self, base: str, jwt_secret: str = JWT_SECRET) -> None:
        self.base = base
        self.jwt_secret = jwt_secret
        self.ids: dict[str, str] = dict(SECOND_SERVER)
        self.tokens: dict[str, str] = {}
        self.seeded = _seeded_ids()
        self.totp_secret = ""
        self.backup_codes: list[str] = []
        today = dt.date.today()
        start = today + dt.timedelta(days=9)
        self.day0 = start + dt.timedelta(days=(3 - start.weekday()) % 7)  # a Thursday, like 2026-11-26

    # -------------------------------------------------------------- callers

    def _login(self, who: str) -> dict[str, str]:
        r = requests.post(
            self.base + "/api/v1/auth/login/", json={"username": USERS[who], "password": PASSWORD}, timeout=10
        )
        r.raise_for_status()
        return r.json()

    def staff(self, who: str) -> str:
        if who not in self.tokens:
            pair = self._login(who)
            self.tokens[who], self.tokens[who + "-refresh"] = pair["access"], pair["refresh"]
        return self.tokens[who]

    def patient(self, phone: str, send: bool = True) -> str:
        if send:
            requests.post(self.base + "/api/v1/otp/send/", json={"phone_number": phone}, timeout=10).raise_for_status()
        r = requests.post(self.base + "/api/v1/otp/login/", json={"phone_number": phone, "otp": OTP}, timeout=10)
        r.raise_for_status()
        return r.json()["access"]

    def named(self, name: str) -> str:
        """A token of 107+ by name: a user's (refresh) token, the "session" login, an expired one, or one
        learnt from an earlier answer (temp, nurse-mfa, session-rotated...)."""
        if name not in self.tokens:
            if name.removesuffix("-refresh") in USERS:
                self.staff(name.removesuffix("-refresh"))
            elif name in ("session", "session-refresh"):
                pair = self._login("doctor")
                self.tokens["session"], self.tokens["session-refresh"] = pair["access"], pair["refresh"]
            elif name.startswith("expired-"):
                self.tokens[name] = self.expired(name.removeprefix("expired-"))
        return self.tokens[name]

    def expired(self, kind: str) -> str:
        """Signed with the sandbox's key and its claims, `exp` in the past (153: 10 min, 155: 1 h)."""
        now = int(time.time())
        if kind == "patient":
            claims: dict[str, Any] = {
                "token_type": "patient_login",
                "phone_number": RAMESH_PHONE,
                "iat": now - 7200,
                "exp": now - 3600,
            }
        else:
            doctor = jwt.decode(self.staff("doctor"), options={"verify_signature": False})
            claims = {"token_type": kind, "user_id": doctor["user_id"], "iat": now - 2400, "exp": now - 600}
        return jwt.encode({**claims, "jti": uuid.uuid4().hex}, self.jwt_secret, algorithm="HS256")

    def token(self, number: str, rec: dict[str, Any]) -> str | None:
        if "Authorization" not in rec["request"]["headers"]:
            return None
        who = CALLER.get(number, "doctor")
        if who is None:
            return None
        if int(number) >= 107 and who not in USERS:
            return self.named(who)
        if who == "garbage":
            return "not-a-token"
        if who == "doctor-refresh":
            self.staff("doctor")
            return self.tokens["doctor-refresh"]
        if who == "patient-anita":
            return self.tokens["patient-anita"]
        if who == "patient-unknown":
            return self.patient("+919000000001")
        if who == "patient":
            return self.tokens.setdefault("patient", self.patient(RAMESH_PHONE))
        return self.staff(who)

    def before(self, number: str) -> None:
        if number == "40":  # a successful login spends the code 36 sent; 40 replays it
            self.tokens["patient"] = self.patient(RAMESH_PHONE, send=False)
        if number == "121":  # "fresh temp_token from a new password login"
            self.tokens["temp-2"] = self._login("nurse")["temp_token"]
        if number == "123":
            self.map_second_server_slots()

    def map_second_server_slots(self) -> None:
        """The second server's slots -> the sandbox doctor's slots at the same moved time."""
        doctor, facility = (
            SECOND_SERVER["3bd35d3d-7aee-4b7d-ab1f-5ffa084bc1e5"],
            SECOND_SERVER["63a65370-3428-44b7-ad8f-051a565a829a"],
        )
        headers = {"Authorization": f"Bearer {self.staff('doctor')}"}
        for slot_id, start in _second_server_slots().items():
            day = self.sub(start[:10])
            r = requests.post(
                f"{self.base}/api/v1/facility/{facility}/slots/get_slots_for_day/",
                headers=headers,
                json={"resource_type": "practitioner", "resource_id": doctor, "day": day},
                timeout=10,
            )
            r.raise_for_status()
            [mine] = [s for s in r.json()["results"] if s["start_datetime"][11:] == start[11:]]
            self.ids[slot_id] = mine["id"]

    def fill(self, number: str, body: Any) -> Any:
        """Redacted tokens and codes of a 107+ request body -> live ones."""
        if not isinstance(body, dict) or int(number) < 107:
            return body
        out = {}
        for key, value in body.items():
            if isinstance(value, str) and value in BODY_TOKENS.get(number, {}):
                value = self.named(BODY_TOKENS[number][value])
            elif isinstance(value, str) and BACKUP_CODE.match(value):
                value = self.backup_codes[int(BACKUP_CODE.match(value).group(1)) - 1]
            elif key == "code" and number in TOTP_NOW:
                value = totp(self.totp_secret)
            out[key] = value
        return out

    # -------------------------------------------------------------- ids and dates

    def sub(self, node: Any) -> Any:
        if isinstance(node, dict):
            return {k: self.sub(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self.sub(v) for v in node]
        if isinstance(node, str):
            if DATE.match(node):
                return (self.day0 + (dt.date.fromisoformat(node) - RECORDED_DAY0)).isoformat()
            for old, new in self.ids.items():
                node = node.replace(old, new)
        return node

    def learn(self, number: str, rec: dict[str, Any], got: Any) -> None:
        real = rec["response"]["body"]
        if number in ("27", "42"):  # slot ids by position
            for old, new in zip(real["results"], got["results"], strict=False):
                self.ids[old["id"]] = new["id"]
        elif (
            isinstance(real, dict)
            and isinstance(got, dict)
            and real.get("id")
            and got.get("id")
            and rec["response"]["status"] == 200
            and real["id"] not in self.seeded
            and real["id"] not in SECOND_SERVER
        ):
            self.ids[real["id"]] = got["id"]
        if number == "55":
            self.tokens["patient-anita"] = got["access"]
        if rec["response"]["status"] != 200 or not isinstance(got, dict):
            return
        learnt = {
            "107": ("secret_key", "totp"),
            "109": ("backup_codes", "backup"),
            "111": ("temp_token", "temp"),
            "118": ("access", "nurse-mfa"),
            "145": ("refresh", "session-rotated-refresh"),
            "150": ("access", "session-rotated"),
        }
        if number in learnt:
            key, name = learnt[number]
            if name == "totp":
                self.totp_secret = got[key]
            elif name == "backup":
                self.backup_codes = got[key]
            else:
                self.tokens[name] = got[key]

    # -------------------------------------------------------------- one exchange

    def replay(self, number: str) -> tuple[requests.Response, Any]:
        rec = recording(number)
        self.before(number)
        req = rec["request"]
        headers = {"Accept": "application/json"}
        token = self.token(number, rec)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        body = self.sub(self.fill(number, req["body"]))
        if number == "64":
            self.staff("doctor")
            body = {"refresh": self.tokens["doctor-refresh"]}
        r = requests.request(
            req["method"],
            self.base + self.sub(req["path"]),
            params=self.sub(req["query"]),
            json=body,
            headers=headers,
            timeout=10,
        )
        try:
            got = r.json()
        except ValueError:
            got = None
        self.learn(number, rec, got)
        return r, got


def value_at(body: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        body = body.get(key) if isinstance(body, dict) else None
    return body


def strict_misses(real: Any, got: Any, path: str = "$") -> list[str]:
    """shape_misses, plus: a list that is non-empty in the recording must not be empty here."""
    misses = shape_misses(real, got, path)
    if isinstance(real, dict) and isinstance(got, dict):
        for key, value in real.items():
            if isinstance(value, list) and value and isinstance(got.get(key), list) and not got[key]:
                misses.append(f"{path}.{key} is empty")
            elif isinstance(value, dict):
                misses.extend(m for m in strict_misses(value, got.get(key), f"{path}.{key}") if m.endswith("is empty"))
    return misses


@pytest.fixture(scope="module")
def replayer(tmp_path_factory: pytest.TempPathFactory, recordings_dir) -> Iterator[Replayer]:
    proc = SandboxProcess(tmp_path_factory.mktemp("care-replay"), env={"SANDBOX_JWT_SECRET": JWT_SECRET}).start()
    yield Replayer(proc.url, JWT_SECRET)
    proc.stop()


def _numbers() -> list[str]:
    try:
        return [n for n, _ in all_recordings()]
    except OSError:
        return []


@pytest.mark.parametrize("number", _numbers())
def test_sandbox_answers_like_the_real_care(number: str, replayer: Replayer) -> None:
    if number in NOT_SERVED:
        pytest.skip(NOT_SERVED[number])
    rec = recording(number)
    r, got = replayer.replay(number)
    assert r.status_code == rec["response"]["status"], (r.status_code, got)
    real = rec["response"]["body"]
    if number == "26":  # availability stats are keyed by the (moved) dates
        real = {replayer.sub(day): stats for day, stats in real.items()}
    if isinstance(real, (dict, list)):
        assert strict_misses(real, got) == []
    else:  # 52: Django's HTML 404 page
        assert r.headers["Content-Type"].startswith("text/html")
    for key in SAME_VALUES.get(number, ()):
        assert value_at(got, key) == value_at(real, key), key
    if number == "133":  # both the rescheduled booking and the new one are listed
        assert {"rescheduled", "booked"} <= {b["status"] for b in got["results"]}
    if number == "109":
        assert len(got["backup_codes"]) == 10 and all(re.fullmatch(r"\d{8}", c) for c in got["backup_codes"])

"""The sandbox answers every recorded request of the real CARE with the same status and JSON shape.

The recorded requests are replayed in their recorded order against one sandbox subprocess, with
the caller each recording names (doctor, volunteer, staff, admin, a patient OTP token, a garbage
token...). Ids of Ramesh, Sunita, Anita and their records are the recorded ids; ids that a replayed
create or slot list produced are mapped to the sandbox's; recorded dates are moved to a Thursday
at least nine days ahead (2026-11-26 was a Thursday) so the recorded slots are free.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Iterator

import pytest
import requests
import yaml
from care_support import ROOT, SandboxProcess, all_recordings, recording, shape_misses

PASSWORD = "Ohcn@123"
OTP = "45612"
RECORDED_DAY0 = dt.date(2026, 11, 26)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
RAMESH_PHONE = "+919876543210"

NOT_SERVED = {  # recordings the sandbox deliberately does not serve
    "23": "creating schedules: the assistant only reads them",
    "103": "questionnaires", "104": "questionnaires", "105": "questionnaires", "106": "questionnaires",
}
CALLER = {**{n: "volunteer" for n in ("90", "91", "92", "93", "94")}, "95": "staff", "10": "admin",
          **{n: "patient" for n in ("41", "42", "43", "44", "45", "46", "47", "48", "49", "50", "51", "52")},
          "56": "patient-anita", "58": "patient-unknown", "53": "doctor", "59": "garbage", "61": "garbage",
          "60": None, "62": "doctor-refresh"}
USERS = {"doctor": "care-doctor", "volunteer": "care-volunteer", "staff": "care-staff", "admin": "admin"}


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


class Replayer:
    def __init__(self, base: str) -> None:
        self.base = base
        self.ids: dict[str, str] = {}
        self.tokens: dict[str, str] = {}
        self.seeded = _seeded_ids()
        today = dt.date.today()
        start = today + dt.timedelta(days=9)
        self.day0 = start + dt.timedelta(days=(3 - start.weekday()) % 7)  # a Thursday, like 2026-11-26

    # -------------------------------------------------------------- callers

    def _login(self, who: str) -> dict[str, str]:
        r = requests.post(self.base + "/api/v1/auth/login/", json={"username": USERS[who], "password": PASSWORD},
                          timeout=10)
        r.raise_for_status()
        return r.json()

    def staff(self, who: str) -> str:
        if who not in self.tokens:
            pair = self._login(who)
            self.tokens[who], self.tokens[who + "-refresh"] = pair["access"], pair["refresh"]
        return self.tokens[who]

    def patient(self, phone: str, send: bool = True) -> str:
        if send:
            requests.post(self.base + "/api/v1/otp/send/", json={"phone_number": phone},
                          timeout=10).raise_for_status()
        r = requests.post(self.base + "/api/v1/otp/login/", json={"phone_number": phone, "otp": OTP}, timeout=10)
        r.raise_for_status()
        return r.json()["access"]

    def token(self, number: str, rec: dict[str, Any]) -> str | None:
        if "Authorization" not in rec["request"]["headers"]:
            return None
        who = CALLER.get(number, "doctor")
        if who is None:
            return None
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
        elif isinstance(real, dict) and isinstance(got, dict) and real.get("id") and got.get("id") \
                and rec["response"]["status"] == 200 and real["id"] not in self.seeded:
            self.ids[real["id"]] = got["id"]
        if number == "55":
            self.tokens["patient-anita"] = got["access"]

    # -------------------------------------------------------------- one exchange

    def replay(self, number: str) -> tuple[requests.Response, Any]:
        rec = recording(number)
        self.before(number)
        req = rec["request"]
        headers = {"Accept": "application/json"}
        token = self.token(number, rec)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        body = self.sub(req["body"])
        if number == "64":
            self.staff("doctor")
            body = {"refresh": self.tokens["doctor-refresh"]}
        r = requests.request(req["method"], self.base + self.sub(req["path"]), params=self.sub(req["query"]),
                             json=body, headers=headers, timeout=10)
        try:
            got = r.json()
        except ValueError:
            got = None
        self.learn(number, rec, got)
        return r, got


def strict_misses(real: Any, got: Any, path: str = "$") -> list[str]:
    """shape_misses, plus: a list that is non-empty in the recording must not be empty here."""
    misses = shape_misses(real, got, path)
    if isinstance(real, dict) and isinstance(got, dict):
        for key, value in real.items():
            if isinstance(value, list) and value and isinstance(got.get(key), list) and not got[key]:
                misses.append(f"{path}.{key} is empty")
            elif isinstance(value, dict):
                misses.extend(m for m in strict_misses(value, got.get(key), f"{path}.{key}")
                              if m.endswith("is empty"))
    return misses


@pytest.fixture(scope="module")
def replayer(tmp_path_factory: pytest.TempPathFactory, recordings_dir) -> Iterator[Replayer]:
    proc = SandboxProcess(tmp_path_factory.mktemp("care-replay")).start()
    yield Replayer(proc.url)
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

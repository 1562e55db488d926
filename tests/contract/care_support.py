"""Helpers of the CARE contract tests: the recordings, a JSON shape comparator, unsigned test JWTs,
TOTP codes, and the sandbox run as a real subprocess on a free port."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
RECORDINGS = Path(os.environ.get("CARE_RECORDINGS_DIR", ROOT / "tests" / "fixtures" / "care-api"))


# ---------------------------------------------------------------------- recordings


def recording(number: str) -> dict[str, Any]:
    """`recording("74")` -> {"request": ..., "response": ...} of shared/care-api/74-*.json."""
    [path] = RECORDINGS.glob(f"{number}-*.json")
    return json.loads(path.read_text(encoding="utf-8"))


def all_recordings() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(RECORDINGS.glob("*.json"), key=lambda p: int(p.name.split("-")[0])):
        out.append((path.name.split("-")[0], json.loads(path.read_text(encoding="utf-8"))))
    return out


# ---------------------------------------------------------------------- shapes


def jtype(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return {dict: "object", list: "array", str: "string", type(None): "null"}[type(value)]


def shape_misses(real: Any, got: Any, path: str = "$") -> list[str]:
    """Key paths of `real` missing from `got` or of another JSON type (null matches anything).
    Lists compare their first items, as CARE's lists are homogeneous."""
    misses: list[str] = []
    if isinstance(real, dict):
        if not isinstance(got, dict):
            return [path]
        for key, value in real.items():
            if key not in got:
                misses.append(f"{path}.{key}")
            elif "null" not in (jtype(value), jtype(got[key])) and jtype(value) != jtype(got[key]):
                misses.append(f"{path}.{key} ({jtype(got[key])}, want {jtype(value)})")
            else:
                misses.extend(shape_misses(value, got[key], f"{path}.{key}"))
    elif isinstance(real, list) and real and isinstance(got, list) and got:
        misses.extend(shape_misses(real[0], got[0], f"{path}[0]"))
    return misses


# ---------------------------------------------------------------------- tokens


def fake_jwt(claims: dict[str, Any] | None = None, expires_in: float = 3600) -> str:
    """An unsigned JWT the client can read `exp` from (it never verifies signatures)."""

    def b64(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    payload = {"exp": int(time.time() + expires_in), **(claims or {})}
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}.sig"


def totp(secret_b32: str, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """RFC 6238: the code an authenticator app shows for a base32 `secret_key` (pyotp is not a dependency)."""
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    digest = hmac.new(key, struct.pack(">Q", int((time.time() if at is None else at) // step)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return str((struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits).zfill(digits)


# ---------------------------------------------------------------------- the sandbox subprocess


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SandboxProcess:
    """`python -m sandbox.care` on 127.0.0.1, started and stopped by the tests."""

    def __init__(self, log_dir: Path, env: dict[str, str] | None = None, port: int | None = None) -> None:
        self.port = port or free_port()
        self.env = env or {}
        self.log_path = log_dir / f"care-sandbox-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> SandboxProcess:
        log = open(self.log_path, "ab")  # noqa: SIM115 (kept open for the child's lifetime)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sandbox.care", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sandbox exited: {self.log_path.read_text()[-2000:]}")
            try:
                requests.get(self.url + "/api/v1/users/getcurrentuser/", timeout=0.5)
                return self
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"sandbox did not start in {timeout}s: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


class CallLog:
    """Counts the requests a `requests.Session` sends: `(method, path)` pairs, in order."""

    def __init__(self, session: requests.Session) -> None:
        self.calls: list[tuple[str, str]] = []
        session.hooks["response"].append(self._record)

    def _record(self, resp: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.calls.append((resp.request.method or "", requests.utils.urlparse(resp.request.url).path))

    def count(self, method: str, path_part: str) -> int:
        return sum(1 for m, p in self.calls if m == method and path_part in p)

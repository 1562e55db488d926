"""Runs the whole assistant on the embedded default: CARE sandbox, WhatsApp simulator, action server, Rasa.

`make run` calls `python -m sandbox.stack`; the end-to-end tests and the benchmark use `Stack` directly
(with free ports, so they never collide with a running `make run`).

Nothing here is special-cased in the assistant: the Rasa server and the action server get the same
environment a production deployment would, only pointed at the local stand-ins (CARE_BASE_URL,
WHATSAPP_BASE_URL).
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BIN = Path(PY).parent

# Values for the local stand-ins only; a real deployment sets its own in the environment or .env.
SANDBOX_DEFAULTS = {
    "WHATSAPP_ACCESS_TOKEN": "sandbox-access-token",
    "WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
    "WHATSAPP_WEBHOOK_VERIFY_TOKEN": "sandbox-verify-token",
    "WHATSAPP_WEBHOOK_SECRET": "sandbox-app-secret",
    "CARE_USERNAME": "care-admin",
    "CARE_PASSWORD": "Ohcn@123",
    # the demo hospital's numbers (a real hospital sets its own; production refuses to start without them)
    "HOSPITAL_EMERGENCY_NUMBER": "+91 177 265 2000",
    "HOSPITAL_HELPDESK_NUMBER": "+91 177 265 2011",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Ports:
    care: int = 9000
    sim: int = 9001
    actions: int = 5055
    rasa: int = 5005

    @classmethod
    def free(cls) -> "Ports":
        return cls(free_port(), free_port(), free_port(), free_port())


@dataclass
class Stack:
    ports: Ports = field(default_factory=Ports)
    run_dir: Path = ROOT / ".run"
    model: Path = ROOT / "models" / "care.tar.gz"
    extra_env: dict[str, str] = field(default_factory=dict)
    endpoints: str = "endpoints.yml"
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def care_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.care}"

    @property
    def sim_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.sim}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.rasa}"

    @property
    def webhook_url(self) -> str:
        return f"{self.rasa_url}/webhooks/whatsapp/webhook"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.actions}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        for key, value in SANDBOX_DEFAULTS.items():
            env.setdefault(key, value)
        env.update(
            CARE_BASE_URL=self.care_url,
            WHATSAPP_BASE_URL=self.sim_url,
            ACTION_ENDPOINT_URL=f"{self.actions_url}/webhook",
            TRACKER_SQLITE_PATH=str(self.run_dir / "tracker.db"),
            SESSION_STORE_URL=env.get("SESSION_STORE_URL") or f"sqlite:///{self.run_dir / 'sessions.db'}",
            SANIC_HOST="127.0.0.1",  # the action server has no authentication: loopback only
            # Rasa's aiohttp pool keeps idle connections 15 s, Sanic closes them after 5 s: Rasa then writes into
            # a closing socket and the action (and the user's reply) is lost. The server must outlive the client.
            SANIC_KEEP_ALIVE_TIMEOUT=env.get("SANIC_KEEP_ALIVE_TIMEOUT") or "75",
            PYTHONPATH=str(ROOT),
            TF_CPP_MIN_LOG_LEVEL="2",
            OMP_NUM_THREADS="1",
            TF_INTRA_OP_PARALLELISM_THREADS="1",
            TF_INTER_OP_PARALLELISM_THREADS="1",
        )
        env.update(self.extra_env)
        return env

    def _spawn(self, name: str, args: list[str]) -> None:
        log = open(self.run_dir / "logs" / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(args, cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def start(self, timeout: float = 180) -> "Stack":
        if not self.model.exists():
            raise RuntimeError(f"no trained model at {self.model}: run `make train` first")
        (self.run_dir / "logs").mkdir(parents=True, exist_ok=True)
        self._spawn("care", [PY, "-m", "sandbox.care", "--host", "127.0.0.1", "--port", str(self.ports.care)])
        self._spawn("whatsapp-sim", [PY, "-m", "sandbox.whatsapp", "--host", "127.0.0.1", "--port", str(self.ports.sim),
                                     "--webhook-url", self.webhook_url])
        self._spawn("actions", [str(BIN / "rasa"), "run", "actions", "--actions", "actions",
                                "--port", str(self.ports.actions)])
        self._spawn("rasa", [str(BIN / "rasa"), "run", "--model", str(self.model), "--endpoints", self.endpoints,
                             "--credentials", "credentials.yml", "--interface", "127.0.0.1",
                             "--port", str(self.ports.rasa)])
        try:
            self.wait_ready(timeout)
        except BaseException:  # Ctrl-C while waiting too: the children run in their own sessions
            self.stop()
            raise
        return self

    def wait_ready(self, timeout: float) -> None:
        checks = {
            "care": f"{self.care_url}/api/v1/",
            "whatsapp-sim": f"{self.sim_url}/_sim/health",
            "actions": f"{self.actions_url}/health",
            "rasa": f"{self.rasa_url}/webhooks/whatsapp/health",
        }
        deadline = time.monotonic() + timeout
        pending = dict(checks)
        while pending:
            for name, url in list(pending.items()):
                proc = self.procs[name]
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}; see {self.run_dir}/logs/{name}.log")
                try:
                    r = requests.get(url, timeout=1)
                    # any answer means listening; Rasa is ready once its model is loaded
                    if name != "rasa" or (r.ok and r.json().get("model", {}).get("loaded")):
                        del pending[name]
                except (requests.RequestException, ValueError):
                    pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout:.0f}s: {', '.join(pending)}; see {self.run_dir}/logs/")
            time.sleep(0.3)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.procs.clear()

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


BANNER = """
CARE WhatsApp assistant is running on the embedded default (sandbox CARE, simulator, SQLite).

  Web chat:       {sim}/
  Terminal chat:  make chat        (or: .venv/bin/python -m sandbox.whatsapp.chat --sim {sim} --phone 919876543210)
  Webhook:        {webhook}
  Health:         {rasa}/webhooks/whatsapp/health
  CARE sandbox:   {care}/api/v1/   (staff: care-doctor / Ohcn@123, patient code: 45612)
  Logs:           {logs}/

Ctrl-C stops everything.
"""


def child_pids(pid: int) -> list[int]:
    """The direct children of `pid`, read from /proc (the benchmark and the shutdown test look for them)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _say(text: str, err: bool = False) -> None:
    """Print, unless the terminal or pipe is gone (closing it must not keep the children alive)."""
    try:
        print(text, file=sys.stderr if err else sys.stdout, flush=True)
    except OSError:
        pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--free-ports", action="store_true", help="pick free ports instead of 9000/9001/5055/5005")
    args = ap.parse_args()
    stack = Stack(ports=Ports.free() if args.free_ports else Ports())
    stop = {"now": False}

    def _stop(*_: object) -> None:
        stop["now"] = True

    _say("starting sandbox CARE, WhatsApp simulator, action server and Rasa (the model takes ~20 s to load)...")
    try:
        stack.start()
    except (RuntimeError, TimeoutError) as exc:
        _say(f"could not start: {exc}", err=True)
        return 1
    except KeyboardInterrupt:  # start() has stopped what it started
        return 130
    # the terminal closing (SIGHUP) stops the stack as Ctrl-C does
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop)
    try:
        _say(BANNER.format(sim=stack.sim_url, webhook=stack.webhook_url, rasa=stack.rasa_url, care=stack.care_url,
                           logs=stack.run_dir / "logs"))
        while not stop["now"]:
            for name, proc in stack.procs.items():
                if proc.poll() is not None:
                    _say(f"{name} stopped (exit {proc.returncode}); see {stack.run_dir}/logs/{name}.log", err=True)
                    stop["now"] = True
            time.sleep(0.5)
    finally:
        stack.stop()  # before any output: stdout may be a closed pipe
        _say("stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

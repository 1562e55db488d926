"""Runs the whole assistant on the embedded default: CARE sandbox, WhatsApp simulator, action server, Rasa, and
the reminder worker (Celery worker and beat in one process, on a SQLite broker: no Redis).

`make run` calls `python -m sandbox.stack`; the end-to-end tests and the benchmark use `Stack` directly
(with free ports, so they never collide with a running `make run`).

Ports: 9000 (CARE), 9001 (simulator), 5055 (actions), 5005 (Rasa) unless PORTS=free (any free ports) or
CARE_PORT / SIM_PORT / ACTIONS_PORT / RASA_PORT choose them (environment or `make run CARE_PORT=9100`). All four
are checked before any process starts; a taken one is named in one line with the way out. A running stack
writes its URLs to `.run/stack.json`, where `make chat` finds the simulator.

Nothing here is special-cased in the assistant: the Rasa server and the action server get the same
environment a production deployment would, only pointed at the local stand-ins (CARE_BASE_URL,
WHATSAPP_BASE_URL).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from settings import production_env

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BIN = Path(PY).parent

# Values for the local stand-ins only; a real deployment sets its own in the environment or .env.
SANDBOX_DEFAULTS = {
    "WHATSAPP_ACCESS_TOKEN": "sandbox-access-token",
    "WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
    "WHATSAPP_BUSINESS_ACCOUNT_ID": "102290129340398",  # the simulator's fake account (its message templates)
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


def free_ports(n: int) -> list[int]:
    """n different free ports (the sockets stay open until all are chosen, so none is handed out twice)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def port_in_use(port: int) -> bool:
    """True when something listens on (or holds) 127.0.0.1:port. SO_REUSEADDR as the servers use it: a closed
    connection still in TIME_WAIT does not count, a listening socket (also on 0.0.0.0 or ::) does."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


# Ports field -> (the variable that chooses it, what listens there)
PORT_VARIABLES = {
    "care": ("CARE_PORT", "sandbox CARE"),
    "sim": ("SIM_PORT", "WhatsApp simulator"),
    "actions": ("ACTIONS_PORT", "action server"),
    "rasa": ("RASA_PORT", "Rasa server"),
}


class PortsInUse(RuntimeError):
    """A port of the stack is taken (or given twice); the message is one line that says how to choose others."""


def stop_groups(procs: Iterable[subprocess.Popen], timeout: float) -> None:
    """Stops processes started with `start_new_session=True` and everything they started (a Celery worker's
    pool, uvicorn's reloader): SIGTERM to each group, then SIGKILL to the groups still there after `timeout`."""
    procs = list(procs)
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


@dataclass
class Ports:
    care: int = 9000
    sim: int = 9001
    actions: int = 5055
    rasa: int = 5005

    @classmethod
    def free(cls) -> Ports:
        return cls(*free_ports(4))

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, mode: str | None = None) -> Ports:
        """PORTS=free: any free ports; CARE_PORT, SIM_PORT, ACTIONS_PORT, RASA_PORT choose one each (they win
        over PORTS). `mode` (the --ports option) wins over PORTS. ValueError with a one-line reason."""
        env = dict(os.environ) if env is None else env
        mode = (env.get("PORTS", "") if mode is None else mode).strip().lower()
        if mode not in ("", "default", "free"):
            raise ValueError(f"PORTS must be 'free' (any free ports) or unset (9000, 9001, 5055, 5005), got {mode!r}")
        ports = cls.free() if mode == "free" else cls()
        for name, (variable, _) in PORT_VARIABLES.items():
            raw = env.get(variable, "").strip()
            if not raw:
                continue
            if not raw.isdigit() or not 1 <= int(raw) <= 65535:
                raise ValueError(f"{variable} must be a port number (1-65535), got {raw!r}")
            setattr(ports, name, int(raw))
        return ports

    def items(self) -> list[tuple[str, int]]:
        return [(name, getattr(self, name)) for name in PORT_VARIABLES]

    def check(self, run_dir: Path | None = None) -> None:
        """Raise PortsInUse (one line: which ports, and how to choose others) unless every port is free."""
        seen: dict[int, str] = {}
        for name, port in self.items():
            if port in seen:
                raise PortsInUse(
                    f"port {port} is given to both the {PORT_VARIABLES[seen[port]][1]} and the "
                    f"{PORT_VARIABLES[name][1]}; choose different ones "
                    f"({PORT_VARIABLES[seen[port]][0]}, {PORT_VARIABLES[name][0]})"
                )
            seen[port] = name
        taken = [(name, port) for name, port in self.items() if port_in_use(port)]
        if not taken:
            return
        what = ", ".join(f"{port} ({PORT_VARIABLES[name][1]})" for name, port in taken)
        running = running_stack(run_dir) if run_dir else None
        if running and running.get("pid") == os.getpid():  # our own file, written just before start()
            running = None
        by = f" by another `make run` (pid {running['pid']}, web chat {running['sim']}/)" if running else ""
        used = {port for _, port in self.items()}
        choose = " ".join(f"{PORT_VARIABLES[name][0]}={_spare_port(port, used)}" for name, port in taken)
        raise PortsInUse(
            f"{'port' if len(taken) == 1 else 'ports'} {what} {'is' if len(taken) == 1 else 'are'} "
            f"already in use{by}; stop it, or choose other ports: `make run PORTS=free` "
            f"(any free ports) or `make run {choose}`"
        )


def _spare_port(port: int, used: set[int]) -> int:
    """A free port near `port` to suggest (from port+100 up); any free port if none is near."""
    for candidate in range(port + 100, min(port + 200, 65536)):
        if candidate not in used and not port_in_use(candidate):
            used.add(candidate)
            return candidate
    return free_port()


STACK_FILE = "stack.json"


def _is_stack_process(pid: int) -> bool:
    try:
        return b"sandbox.stack" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: any live process
        try:
            os.kill(pid, 0)
            return True
        except OSError:
            return False


def running_stack(run_dir: Path) -> dict | None:
    """What `.run/stack.json` says about the running `make run` (pid, ports, URLs); None when there is none
    (no file, or its process is gone)."""
    try:
        info = json.loads((Path(run_dir) / STACK_FILE).read_text())
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info if _is_stack_process(pid) else None


@dataclass
class Stack:
    ports: Ports = field(default_factory=Ports)
    run_dir: Path = ROOT / ".run"
    model: Path = ROOT / "models" / "care.tar.gz"
    extra_env: dict[str, str] = field(default_factory=dict)
    endpoints: str = "endpoints.yml"
    reminders: bool = True  # the reminder worker (notifications/): off where a test or benchmark has no use for it
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
        # the documented defaults of endpoints.production.yml's ${VARS}, as `scripts/production.py` sets them
        env = production_env(dict(os.environ))
        for key, value in SANDBOX_DEFAULTS.items():
            env.setdefault(key, value)
        env.update(
            CARE_BASE_URL=self.care_url,
            WHATSAPP_BASE_URL=self.sim_url,
            ACTION_ENDPOINT_URL=f"{self.actions_url}/webhook",
            TRACKER_SQLITE_PATH=str(self.run_dir / "tracker.db"),
            SESSION_STORE_URL=env.get("SESSION_STORE_URL") or f"sqlite:///{self.run_dir / 'sessions.db'}",
            ASSISTANT_DATABASE_URL=env.get("ASSISTANT_DATABASE_URL") or f"sqlite:///{self.run_dir / 'assistant.db'}",
            # the embedded broker needs no server, even where REDIS_URL is set for the sessions
            CELERY_BROKER_URL=env.get("CELERY_BROKER_URL") or f"sqla+sqlite:///{self.run_dir / 'celery-broker.db'}",
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
        # the child keeps its own copy of the file descriptor; ours is closed once it has started
        with open(self.run_dir / "logs" / f"{name}.log", "ab") as log:
            self.procs[name] = subprocess.Popen(
                args, cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def start(self, timeout: float = 180) -> Stack:
        self.ports.check(self.run_dir)  # all four before any process starts
        if not self.model.exists():
            raise RuntimeError(f"no trained model at {self.model}: run `make train` first")
        (self.run_dir / "logs").mkdir(parents=True, exist_ok=True)
        self._spawn("care", [PY, "-m", "sandbox.care", "--host", "127.0.0.1", "--port", str(self.ports.care)])
        self._spawn(
            "whatsapp-sim",
            [
                PY,
                "-m",
                "sandbox.whatsapp",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.ports.sim),
                "--webhook-url",
                self.webhook_url,
                # the web chat's "send what is due now": the product's own command, in this stack's environment
                "--send-due-command",
                shlex.join([PY, "-m", "notifications.tasks", "send-due"]),
            ],
        )
        self._spawn(
            "actions", [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(self.ports.actions)]
        )
        self._spawn(
            "rasa",
            [
                str(BIN / "rasa"),
                "run",
                "--model",
                str(self.model),
                "--endpoints",
                self.endpoints,
                "--credentials",
                "credentials.yml",
                "--interface",
                "127.0.0.1",
                "--port",
                str(self.ports.rasa),
            ],
        )
        if self.reminders:
            self._spawn("reminders", self.reminder_worker_command())
        try:
            self.wait_ready(timeout)
        except BaseException:  # Ctrl-C while waiting too: the children run in their own sessions
            self.stop()
            raise
        return self

    def reminder_worker_command(self) -> list[str]:
        """Worker and beat in one process, one task at a time: the embedded default (production runs them apart,
        README); beat keeps its schedule beside the other run data."""
        return [
            str(BIN / "celery"),
            "-A",
            "notifications.celery_app",
            "worker",
            "-B",
            "--pool",
            "solo",
            "--schedule",
            str(self.run_dir / "celerybeat-schedule"),
            "--hostname",
            "reminders@%h",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]

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
            # the reminder worker serves nothing over HTTP: it must only keep running
            reminders = self.procs.get("reminders")
            if reminders is not None and reminders.poll() is not None:
                raise RuntimeError(
                    f"reminders exited with {reminders.returncode}{self.last_log_line('reminders')}; "
                    f"see {self.run_dir}/logs/reminders.log"
                )
            for name, url in list(pending.items()):
                proc = self.procs[name]
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with {proc.returncode}{self.last_log_line(name)}; "
                        f"see {self.run_dir}/logs/{name}.log"
                    )
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

    def last_log_line(self, name: str) -> str:
        """': <the last line of the process's log>' (usually why it stopped), or ''."""
        try:
            with open(self.run_dir / "logs" / f"{name}.log", "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(f.tell() - 4096, 0))
                lines = [line.strip() for line in f.read().decode(errors="replace").splitlines() if line.strip()]
        except OSError:
            return ""
        return f": {lines[-1][:300]}" if lines else ""

    def info(self) -> dict:
        return {
            "pid": os.getpid(),
            "ready": False,
            "ports": dict(self.ports.items()),
            "care": self.care_url,
            "sim": self.sim_url,
            "actions": self.actions_url,
            "rasa": self.rasa_url,
            "webhook": self.webhook_url,
            "logs": str(self.run_dir / "logs"),
        }

    def write_stack_file(self, ready: bool = True) -> Path:
        """`.run/stack.json`: where `make chat` (and anyone) finds this stack."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        path = self.run_dir / STACK_FILE
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({**self.info(), "ready": ready}, indent=1) + "\n")
        os.replace(tmp, path)
        return path

    def remove_stack_file(self) -> None:
        """Remove `.run/stack.json` if it is still this process's (another stack may have written its own)."""
        path = self.run_dir / STACK_FILE
        try:
            if json.loads(path.read_text()).get("pid") == os.getpid():
                path.unlink()
        except (OSError, ValueError, AttributeError):
            pass

    def stop(self) -> None:
        stop_groups(self.procs.values(), timeout=15)
        self.procs.clear()

    def __enter__(self) -> Stack:
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
  Reminders:      Celery worker + beat, SQLite broker ({logs}/reminders.log)
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
    with contextlib.suppress(OSError):
        print(text, file=sys.stderr if err else sys.stdout, flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--ports",
        choices=["free", "default"],
        default=None,
        help="free: any free ports; default: 9000/9001/5055/5005 (default: $PORTS; CARE_PORT, "
        "SIM_PORT, ACTIONS_PORT, RASA_PORT choose single ports)",
    )
    ap.add_argument("--free-ports", action="store_true", help="same as --ports free")
    ap.add_argument("--check-ports", action="store_true", help="only check that the ports are free (exit 2 if not)")
    ap.add_argument("--run-dir", type=Path, default=ROOT / ".run", help="logs, SQLite files and stack.json")
    args = ap.parse_args(argv)
    try:
        ports = Ports.from_env(mode="free" if args.free_ports else args.ports)
        ports.check(args.run_dir)
    except (ValueError, PortsInUse) as exc:
        _say(str(exc), err=True)
        return 2
    if args.check_ports:
        return 0
    stack = Stack(ports=ports, run_dir=args.run_dir)
    stop = {"now": False}

    def _stop(*_: object) -> None:
        stop["now"] = True

    _say(
        "starting sandbox CARE, WhatsApp simulator, action server, Rasa and the reminder worker "
        "(the model takes ~20 s to load)..."
    )
    try:
        stack.write_stack_file(ready=False)  # `make chat` finds the ports while Rasa loads
        stack.start()
    except PortsInUse as exc:  # taken since the check
        _say(str(exc), err=True)
        return 2
    except (RuntimeError, TimeoutError) as exc:
        _say(f"could not start: {exc}", err=True)
        return 1
    except KeyboardInterrupt:  # start() has stopped what it started
        return 130
    finally:
        if not stack.procs:  # not started
            stack.remove_stack_file()
    stack.write_stack_file(ready=True)
    # the terminal closing (SIGHUP) stops the stack as Ctrl-C does
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop)
    try:
        _say(
            BANNER.format(
                sim=stack.sim_url,
                webhook=stack.webhook_url,
                rasa=stack.rasa_url,
                care=stack.care_url,
                logs=stack.run_dir / "logs",
            )
        )
        while not stop["now"]:
            for name, proc in stack.procs.items():
                if proc.poll() is not None:
                    _say(
                        f"{name} stopped (exit {proc.returncode}){stack.last_log_line(name)}; "
                        f"see {stack.run_dir}/logs/{name}.log",
                        err=True,
                    )
                    stop["now"] = True
            time.sleep(0.5)
    finally:
        stack.remove_stack_file()
        stack.stop()  # before any output: stdout may be a closed pipe
        _say("stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

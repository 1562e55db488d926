"""`make run` (python -m sandbox.stack): Ctrl-C stops all four processes, even when the terminal or the pipe
the stack printed to is gone (`make run | tee run.log` and Ctrl-C ends tee first). The children run in their
own sessions, so nothing else would stop them. A taken port is named in one line before anything starts, and
`make chat` finds the stack on the ports it chose (.run/stack.json)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox.stack import STACK_FILE, child_pids, free_ports
from sandbox.whatsapp import chat

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _port_env(**ports: int) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("PORTS", "CARE_PORT", "SIM_PORT", "ACTIONS_PORT", "RASA_PORT")
    }
    return {**env, **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()}}


def _listening(port: int) -> socket.socket:
    s = socket.socket()
    s.bind(("127.0.0.1", port))
    s.listen()
    return s


def _run_stack(env: dict[str, str], run_dir: Path, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    t0 = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "sandbox.stack", "--run-dir", str(run_dir), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done, time.monotonic() - t0


def test_a_taken_port_is_named_in_one_line_before_anything_starts(tmp_path):
    care, sim, actions, rasa = free_ports(4)
    with _listening(care):
        done, seconds = _run_stack(_port_env(care=care, sim=sim, actions=actions, rasa=rasa), tmp_path)
    assert done.returncode == 2
    assert seconds < 15  # no model loading, no waiting for servers
    assert done.stdout == ""  # not even "starting ..."
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"port {care} (sandbox CARE) is already in use;")
    assert "`make run PORTS=free`" in lines[0] and "`make run CARE_PORT=" in lines[0]
    for other in (sim, actions, rasa):
        assert str(other) not in lines[0]
    # no process was started: each one gets its log file before it is spawned, and no stack file was written
    assert not (tmp_path / "logs").exists() and not (tmp_path / STACK_FILE).exists()
    # the suggested port is free and the advice works (checked, not started: --check-ports)
    suggested = lines[0].rsplit("CARE_PORT=", 1)[1].rstrip("`")
    with _listening(care):
        ok, _ = _run_stack(
            _port_env(care=int(suggested), sim=sim, actions=actions, rasa=rasa), tmp_path, "--check-ports"
        )
        free, _ = _run_stack({**_port_env(), "PORTS": "free"}, tmp_path, "--check-ports")
    assert (ok.returncode, ok.stderr, free.returncode, free.stderr) == (0, "", 0, "")


def test_several_taken_ports_are_named_together_with_the_stack_that_holds_them(tmp_path):
    care, sim, actions, rasa = free_ports(4)
    # a live `make run` in the same run directory (its command line names sandbox.stack)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "sandbox.stack"])
    try:
        (tmp_path / STACK_FILE).write_text(json.dumps({"pid": holder.pid, "sim": f"http://127.0.0.1:{sim}"}))
        with _listening(sim), _listening(rasa):
            done, _ = _run_stack(_port_env(care=care, sim=sim, actions=actions, rasa=rasa), tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(
        f"ports {sim} (WhatsApp simulator), {rasa} (Rasa server) are already in use by another "
        f"`make run` (pid {holder.pid}, web chat http://127.0.0.1:{sim}/);"
    )
    assert "SIM_PORT=" in line and "RASA_PORT=" in line and "CARE_PORT=" not in line


@pytest.mark.parametrize(
    "env, message",
    [
        ({"PORTS": "any"}, "PORTS must be 'free'"),
        ({"SIM_PORT": "90o1"}, "SIM_PORT must be a port number"),
        ({"RASA_PORT": "9000"}, "port 9000 is given to both the sandbox CARE and the Rasa server"),
    ],
)
def test_port_settings_that_cannot_work_are_refused_in_one_line(tmp_path, env, message):
    done, _ = _run_stack({**_port_env(), **env}, tmp_path, "--check-ports")
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(message)


def test_make_chat_says_when_no_stack_is_running(tmp_path, monkeypatch, capsys):
    [nobody] = free_ports(1)
    monkeypatch.setattr(chat, "DEFAULT_SIM", f"http://127.0.0.1:{nobody}")
    # a stack file left by a stack that is gone does not count
    (tmp_path / STACK_FILE).write_text(json.dumps({"pid": 2**22 + 7, "sim": "http://127.0.0.1:1"}))
    assert chat.main(["--run-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"error: no stack is running (none in {tmp_path / STACK_FILE}, nothing at "
        f"http://127.0.0.1:{nobody}): start one with `make run`"
    )


def test_make_chat_finds_the_stack_on_the_ports_it_chose(model_path, tmp_path):
    """`make run PORTS=free` then `make chat`: the chat talks to that stack; the stack file goes when it stops."""
    stack = subprocess.Popen(
        [sys.executable, "-m", "sandbox.stack", "--run-dir", str(tmp_path)],
        cwd=ROOT,
        env={**_port_env(), "PORTS": "free"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    children: list[int] = []
    try:
        deadline = time.monotonic() + 240
        banner = []
        for line in stack.stdout:
            banner.append(line)
            if "Ctrl-C stops everything" in line or time.monotonic() > deadline:
                break
        children = child_pids(stack.pid)
        info = json.loads((tmp_path / STACK_FILE).read_text())
        assert info["pid"] == stack.pid and info["ready"] is True
        assert f"Web chat:       {info['sim']}/" in [line.strip() for line in banner]
        assert info["ports"]["sim"] != 9001 and info["sim"] == f"http://127.0.0.1:{info['ports']['sim']}"
        talk = subprocess.run(
            [sys.executable, "-m", "sandbox.whatsapp.chat", "--run-dir", str(tmp_path), "--timeout", "60"],
            cwd=ROOT,
            input="hi\n",
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert talk.returncode == 0, talk.stderr
        assert f"at {info['sim']}." in talk.stdout
        assert "bot> " in talk.stdout, talk.stdout
        stack.send_signal(signal.SIGINT)
        stack.wait(timeout=60)
        assert not (tmp_path / STACK_FILE).exists()
    finally:
        for p in children:
            if _alive(p):
                os.killpg(p, signal.SIGKILL)
        if stack.poll() is None:
            stack.kill()


def test_ctrl_c_stops_every_process_even_when_the_output_pipe_is_closed(model_path, tmp_path):
    stack = subprocess.Popen(
        [sys.executable, "-m", "sandbox.stack", "--free-ports", "--run-dir", str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    children: list[int] = []
    try:
        deadline = time.monotonic() + 240
        for line in stack.stdout:  # the banner says the stack is ready
            if "Ctrl-C stops everything" in line or time.monotonic() > deadline:
                break
        children = child_pids(stack.pid)
        assert len(children) == 5, children  # CARE, simulator, actions, Rasa, the reminder worker
        stack.stdout.close()  # like `| tee` ended by the same Ctrl-C
        stack.send_signal(signal.SIGINT)
        stack.wait(timeout=60)
        deadline = time.monotonic() + 20
        while any(_alive(p) for p in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [p for p in children if _alive(p)] == []
    finally:
        for p in children:
            if _alive(p):
                os.killpg(p, signal.SIGKILL)
        if stack.poll() is None:
            stack.kill()

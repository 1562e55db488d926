"""`make run` (python -m sandbox.stack): Ctrl-C stops all four processes, even when the terminal or the pipe
the stack printed to is gone (`make run | tee run.log` and Ctrl-C ends tee first). The children run in their
own sessions, so nothing else would stop them."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox.stack import child_pids

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_ctrl_c_stops_every_process_even_when_the_output_pipe_is_closed(model_path):
    stack = subprocess.Popen([sys.executable, "-m", "sandbox.stack", "--free-ports"], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    children: list[int] = []
    try:
        deadline = time.monotonic() + 240
        for line in stack.stdout:  # the banner says the stack is ready
            if "Ctrl-C stops everything" in line or time.monotonic() > deadline:
                break
        children = child_pids(stack.pid)
        assert len(children) == 4, children
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

"""`POST /_sim/send-due`: the web chat's "send what is due now" runs the product's command
(`python -m notifications.tasks send-due --horizon-hours N`, given with --send-due-command) and reports it."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import requests

from sandbox.whatsapp.server import make_app
from sandbox.whatsapp.threaded import BackgroundServer

ROOT = Path(__file__).resolve().parents[2]
ECHO = (sys.executable, "-c", "import json, sys; print('a log line'); print(json.dumps({'argv': sys.argv[1:]}))")


def test_the_configured_command_runs_with_the_horizon_and_its_result_comes_back(sim_config):
    config = dataclasses.replace(sim_config, send_due_command=ECHO)
    with BackgroundServer(make_app(config)) as sim:
        answer = requests.post(f"{sim.url}/_sim/send-due", json={"hours": 5}, timeout=30)
        assert answer.status_code == 200
        assert answer.json() == {"hours": 5, "exit_code": 0, "result": {"argv": ["--horizon-hours", "5"]}}
        default = requests.post(f"{sim.url}/_sim/send-due", timeout=30).json()
        assert default["result"] == {"argv": ["--horizon-hours", "24"]}
        assert requests.post(f"{sim.url}/_sim/send-due", json={"hours": 48}, timeout=10).status_code == 400


def test_without_a_command_it_says_it_is_not_configured(sim):
    answer = requests.post(f"{sim.url}/_sim/send-due", json={}, timeout=10)
    assert answer.status_code == 501 and "--send-due-command" in answer.json()["error"]


def test_the_product_command_refuses_a_horizon_beyond_what_is_scheduled():
    done = subprocess.run(
        [sys.executable, "-m", "notifications.tasks", "send-due", "--horizon-hours", "30"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "between 0 and 26" in done.stderr

"""`python -m sandbox.whatsapp` starts the simulator with the flags given and serves the chat page."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sim_process() -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable,
        "-m",
        "sandbox.whatsapp",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--webhook-url",
        "http://127.0.0.1:5999/webhooks/whatsapp/webhook",
        "--secret",
        "cli-secret",
        "--phone-number-id",
        "4242",
        "--access-token",
        "cli-token",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"simulator exited: {proc.stdout.read() if proc.stdout else ''}")
            try:
                requests.get(url + "/_sim/health", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_flags_override_settings(sim_process: str) -> None:
    health = requests.get(sim_process + "/_sim/health", timeout=5).json()
    assert health["status"] == "ok"
    assert health["webhook_url"] == "http://127.0.0.1:5999/webhooks/whatsapp/webhook"
    assert health["phone_number_id"] == "4242" and health["signing"] and health["checks_token"]
    ok = requests.post(
        f"{sim_process}/{health['api_version']}/4242/messages",
        timeout=5,
        headers={"Authorization": "Bearer cli-token"},
        json={"messaging_product": "whatsapp", "to": "919876543210", "text": {"body": "hi"}},
    )
    assert ok.status_code == 200
    refused = requests.post(
        f"{sim_process}/{health['api_version']}/4242/messages",
        timeout=5,
        headers={"Authorization": "Bearer other"},
        json={"messaging_product": "whatsapp", "to": "919876543210", "text": {"body": "hi"}},
    )
    assert refused.status_code == 401 and refused.json()["error"]["code"] == 190


def test_serves_the_chat_page_and_its_assets(sim_process: str) -> None:
    page = requests.get(sim_process + "/", timeout=5)
    assert page.status_code == 200 and 'data-testid="composer-input"' in page.text
    for asset in ("/static/chat.js", "/static/format.js", "/static/chat.css"):
        assert requests.get(sim_process + asset, timeout=5).status_code == 200
    # no external resources: the machines have no internet
    assert "http://" not in page.text.replace("http://www.w3.org", "") and "https://" not in page.text

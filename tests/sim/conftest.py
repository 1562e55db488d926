"""Fixtures for the WhatsApp simulator tests: the simulator and a fake bot, each on a free local port."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `sandbox` and `settings` live at the repo root
    sys.path.insert(0, str(ROOT))

from sandbox.whatsapp.config import SimConfig  # noqa: E402
from sandbox.whatsapp.fakebot import make_fakebot  # noqa: E402
from sandbox.whatsapp.server import make_app, simulator_of  # noqa: E402
from sandbox.whatsapp.threaded import BackgroundServer  # noqa: E402

SECRET = "test-app-secret"
TOKEN = "test-access-token"
PHONE_NUMBER_ID = "123456789012345"
VERSION = "v21.0"
USER = "919876543210"


@pytest.fixture
def sim_config() -> SimConfig:
    # the webhook URL is filled in by the fixture that starts a webhook
    return SimConfig(
        webhook_url="http://127.0.0.1:9/unset",
        secret=SECRET,
        access_token=TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        api_version=VERSION,
        bot_name="Test Bot",
    )


@pytest.fixture
def sim(sim_config: SimConfig) -> Iterator[BackgroundServer]:
    with BackgroundServer(make_app(sim_config)) as server:
        yield server


@pytest.fixture
def bot(sim: BackgroundServer) -> Iterator[BackgroundServer]:
    """The fake bot, wired both ways: the simulator posts to it, it replies through the simulator."""
    with BackgroundServer(make_fakebot(sim.url, SECRET, TOKEN, PHONE_NUMBER_ID, VERSION)) as server:
        simulator_of(sim.app).config.webhook_url = server.url + "/webhooks/whatsapp/webhook"
        yield server


@pytest.fixture
def api(sim: BackgroundServer) -> SimApi:
    return SimApi(sim.url)


ERROR_KEYS = {"message", "type", "code", "fbtrace_id"}
OPTIONAL_ERROR_KEYS = {"error_subcode", "error_data", "is_transient"}


class SimApi:
    """Talks to a running simulator: as the assistant's connector (Graph calls) and as a test (/_sim/)."""

    user = USER
    token = TOKEN

    def __init__(self, base: str) -> None:
        self.base = base
        self.messages_url = f"{base}/{VERSION}/{PHONE_NUMBER_ID}/messages"

    # -- as the connector
    def post(self, body: object, token: str | None = TOKEN, url: str | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return requests.post(url or self.messages_url, json=body, headers=headers, timeout=10)

    def text(self, body: str, to: str = USER, **kw: Any) -> requests.Response:
        return self.post({"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}}, **kw)

    # -- as a test
    def sim(self, path: str, body: object | None = None, **params: Any) -> requests.Response:
        url = f"{self.base}/_sim/{path}"
        if body is None:
            return requests.get(url, params=params, timeout=40)
        return requests.post(url, json=body, timeout=40)

    def outbox(self, **params: Any) -> list[dict[str, Any]]:
        resp = self.sim("outbox", **params)
        assert resp.status_code == 200, resp.text
        return resp.json()["messages"]  # type: ignore[no-any-return]

    @staticmethod
    def assert_graph_error(resp: requests.Response, status: int, code: int) -> dict[str, Any]:
        """The response is Graph's error shape with this HTTP status and code; returns the error object."""
        assert resp.status_code == status, resp.text
        body = resp.json()
        assert set(body) == {"error"}
        err = body["error"]
        assert ERROR_KEYS <= set(err) <= ERROR_KEYS | OPTIONAL_ERROR_KEYS, err
        assert err["code"] == code and isinstance(err["message"], str) and err["message"]
        assert isinstance(err["type"], str) and err["fbtrace_id"]
        if "error_data" in err:
            assert err["error_data"]["messaging_product"] == "whatsapp" and err["error_data"]["details"]
        return err  # type: ignore[no-any-return]

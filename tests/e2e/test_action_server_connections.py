"""The link between Rasa and the action server. Rasa keeps idle connections to it for 15 s (aiohttp's pool); an
action server that closes them sooner races Rasa's next request, and that message's action and reply are lost."""

from __future__ import annotations

import http.client
import time
from urllib.parse import urlparse


def test_an_idle_connection_to_the_action_server_is_still_open_when_rasa_reuses_it(stack):
    url = urlparse(stack.actions_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.request("GET", "/health")
        first = conn.getresponse()
        first.read()
        assert first.status == 200
        time.sleep(6)  # past Sanic's default keep-alive of 5 s, within aiohttp's 15 s
        conn.request("GET", "/health")  # same socket: raises RemoteDisconnected if the server closed it
        second = conn.getresponse()
        second.read()
        assert second.status == 200
    finally:
        conn.close()

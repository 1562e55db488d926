"""rasa_tuning.endpoint_sessions: Rasa's calls to the action server reuse one connection, and answer as before."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from rasa_tuning import endpoint_sessions, speedups


async def _serve(handler):
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}"


def test_calls_to_one_endpoint_share_a_connection_and_get_the_same_answers():
    assert speedups.install()  # the patches, not Rasa compared with itself
    peers: list = []

    async def handler(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername"))
        if request.path == "/missing":
            return web.json_response({"error": "no such action"}, status=404)
        body = await request.json()
        return web.json_response({"events": [], "echo": body, "token": request.query.get("token")})

    async def scenario() -> list:
        runner, url = await _serve(handler)
        try:
            endpoint = EndpointConfig(url, token="t0k")
            answers = [
                await endpoint.request(json={"next_action": f"action_{i}"}, method="post", subpath="webhook")
                for i in range(3)
            ]
            with pytest.raises(ClientResponseError) as refused:
                await endpoint.request(json={}, method="post", subpath="missing")
            assert refused.value.status == 404
            await endpoint_sessions.close_kept_sessions()
            return answers
        finally:
            await runner.cleanup()

    answers = asyncio.run(scenario())
    assert [a["echo"]["next_action"] for a in answers] == ["action_0", "action_1", "action_2"]
    assert {a["token"] for a in answers} == {"t0k"}  # Rasa's parameters still go along
    assert len(peers) == 4 and len(set(peers)) == 1  # one TCP connection for all four calls


def test_the_action_server_reads_the_same_json_as_before():
    """Bodies are written by ujson now: what arrives parses to what Rasa handed over, text and numbers alike."""
    import json

    assert speedups.install()  # the patches, not Rasa compared with itself
    received: list = []

    async def handler(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.json_response({"events": []})

    body = {
        "next_action": "action_x",
        "tracker": {
            "events": [
                {
                    "event": "user",
                    "text": 'Namaste 🙏 "ok" </tag> \u2028',
                    "timestamp": 1796004042.2302005,
                    "parse_data": {"intent": {"name": "greet", "confidence": 0.9843217730522156}, "entities": []},
                },
                {"event": "slot", "name": "n", "value": [1, 2.5, None, True, -0.0, 1e-07, 12345678901234567890]},
            ]
        },
    }

    async def scenario() -> None:
        runner, url = await _serve(handler)
        try:
            await EndpointConfig(url).request(json=body, method="post", subpath="webhook")
            await endpoint_sessions.close_kept_sessions()
        finally:
            await runner.cleanup()

    asyncio.run(scenario())
    assert json.loads(received[0]) == body
    assert json.loads(received[0]) == json.loads(json.dumps(body))


def test_a_new_event_loop_gets_its_own_session():
    assert speedups.install()  # the patches, not Rasa compared with itself
    endpoint = EndpointConfig("http://127.0.0.1:9")

    async def session_of_this_loop():
        session = endpoint_sessions._kept_session(endpoint)
        assert endpoint_sessions._kept_session(endpoint) is session
        await endpoint_sessions.close_kept_sessions()
        assert session.closed
        return session

    first = asyncio.run(session_of_this_loop())
    second = asyncio.run(session_of_this_loop())
    assert first is not second  # a session is bound to its loop; the old loop is gone

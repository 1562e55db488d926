"""GraphClient against a fake Graph API on 127.0.0.1: retries, typed errors, the shared session."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
import pytest_asyncio
from aiohttp import web
from wa_support import ACCESS_TOKEN, FakeGraph, fast_graph_client, free_port, graph_error_body, make_settings

from connectors.whatsapp.graph import (
    GraphAuthError,
    GraphClient,
    GraphError,
    GraphOutcomeUnknown,
    GraphUnavailable,
    InvalidParameter,
    PairRateLimited,
    RateLimited,
    RecipientUnavailable,
    ReEngagementRequired,
    graph_error,
)
from sandbox.whatsapp.threaded import BackgroundServer

MESSAGE = {"messaging_product": "whatsapp", "to": "919876543210", "type": "text", "text": {"body": "hi"}}


@pytest_asyncio.fixture
async def client(fake_graph):
    graph = fast_graph_client(make_settings(fake_graph.base_url))  # 2 retries: 3 attempts at most
    yield graph
    await graph.close()


async def test_send_posts_to_the_configured_url_with_bearer_token(client, fake_graph):
    wamid = await client.send_message(MESSAGE)
    assert wamid == "wamid.OUT1"
    [call] = fake_graph.calls
    assert call.path == "/v21.0/106540352242922/messages"
    assert call.authorization == f"Bearer {ACCESS_TOKEN}"
    assert call.body == MESSAGE


@pytest.mark.parametrize(
    "first",
    [
        (429, {}),
        (429, graph_error_body(130429, "Rate limit hit")),
        (400, graph_error_body(131056, "(#131056) (Business Account, Consumer Account) pair rate limit hit")),
        (400, graph_error_body(80007, "Rate limit issues")),
        (403, graph_error_body(4, "Application request limit reached")),
        (500, {}),
        (503, graph_error_body(2, "Service temporarily unavailable")),
        (502, "<html>bad gateway</html>"),
        "drop",
    ],
    ids=["429", "130429", "131056", "80007", "4", "500", "503-code2", "502-html", "network"],
)
async def test_transient_failure_then_success_is_one_success(client, fake_graph, first):
    fake_graph.then(first)
    assert await client.send_message(MESSAGE) == "wamid.OUT2"
    assert len(fake_graph.calls) == 2


async def test_retries_stop_after_the_configured_number(client, fake_graph):
    fake_graph.then(*[(503, {})] * 5)
    with pytest.raises(GraphUnavailable) as info:
        await client.send_message(MESSAGE)
    assert info.value.http_status == 503
    assert len(fake_graph.calls) == 3  # 1 + WHATSAPP_MAX_RETRIES


async def test_pair_rate_limit_exhausted_is_typed(client, fake_graph):
    fake_graph.then(*[(400, graph_error_body(131056, "pair rate limit hit"))] * 3)
    with pytest.raises(PairRateLimited) as info:
        await client.send_message(MESSAGE)
    assert isinstance(info.value, RateLimited) and info.value.code == 131056
    assert len(fake_graph.calls) == 3


@pytest.mark.parametrize(
    "status, body, error_type",
    [
        (401, graph_error_body(190, "Error validating access token", subcode=463), GraphAuthError),
        (403, graph_error_body(10, "Permission denied"), GraphAuthError),
        (400, graph_error_body(100, "Invalid parameter"), InvalidParameter),
        (400, graph_error_body(131009, "Parameter value is not valid"), InvalidParameter),
        (400, graph_error_body(131047, "Re-engagement message", details="more than 24 hours"), ReEngagementRequired),
        (400, graph_error_body(131026, "Message Undeliverable"), RecipientUnavailable),
        (400, graph_error_body(131051, "Unsupported message type"), GraphError),
    ],
)
async def test_errors_that_retrying_cannot_fix_fail_at_once(client, fake_graph, status, body, error_type):
    fake_graph.then((status, body))
    with pytest.raises(error_type) as info:
        await client.send_message(MESSAGE)
    assert len(fake_graph.calls) == 1
    err = info.value
    assert not err.retryable
    assert (err.http_status, err.code, err.title, err.fbtrace_id) == (
        status,
        body["error"]["code"],
        body["error"]["message"],
        "AbCdEf",
    )


async def test_error_carries_subcode_and_details(client, fake_graph):
    fake_graph.then(
        (401, graph_error_body(190, "Error validating access token", subcode=463, details="Session expired"))
    )
    with pytest.raises(GraphAuthError) as info:
        await client.send_message(MESSAGE)
    assert (info.value.subcode, info.value.details) == (463, "Session expired")


async def test_token_is_never_in_error_texts_or_logs(client, fake_graph, caplog):
    caplog.set_level(logging.DEBUG)
    fake_graph.then((500, {}), (401, graph_error_body(190, "Error validating access token")))
    with pytest.raises(GraphAuthError) as info:
        await client.send_message(MESSAGE)
    assert ACCESS_TOKEN not in str(info.value) + repr(info.value) + repr(client) + caplog.text
    assert "hi" not in caplog.text.split()  # nor the message body


async def test_unreachable_server_is_graph_unavailable_after_retries():
    client = fast_graph_client(make_settings(f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(GraphUnavailable) as info:
        await client.send_message(MESSAGE)
    assert "network error" in info.value.title
    await client.close()


async def test_timeout_is_graph_unavailable(fake_graph):
    client = fast_graph_client(make_settings(fake_graph.base_url), timeout_seconds=0.2, max_retries=1)
    fake_graph.then("hang", "hang")
    with pytest.raises(GraphUnavailable) as info:
        await client.send_message(MESSAGE)
    assert info.value.title == "timeout" and len(fake_graph.calls) == 2
    await client.close()


async def test_mark_read_sends_typing_indicator_and_is_not_retried(client, fake_graph):
    await client.mark_read("wamid.IN1")
    assert fake_graph.calls[-1].body == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.IN1",
        "typing_indicator": {"type": "text"},
    }
    fake_graph.then((429, graph_error_body(130429, "Rate limit hit")))
    with pytest.raises(RateLimited):
        await client.mark_read("wamid.IN2")
    assert len(fake_graph.calls) == 2


async def test_one_session_is_shared_and_closed(client, fake_graph):
    await client.send_message(MESSAGE)
    session = client._session
    await client.send_message(MESSAGE)
    assert client._session is session and not session.closed
    await client.close()
    assert session.closed


async def test_from_settings_builds_the_url_from_base_version_and_number():
    client = GraphClient.from_settings(make_settings("http://sim.local:9001", whatsapp_api_version="v22.0"))
    assert client.messages_url == "http://sim.local:9001/v22.0/106540352242922/messages"
    assert (client.timeout_seconds, client.max_retries) == (5.0, 2)


def test_retry_after_hint_is_honoured_up_to_the_cap():
    client = GraphClient("http://x", "t", backoff_initial=0.01, backoff_max=5.0)

    def state(exc):
        return SimpleNamespace(attempt_number=1, outcome=SimpleNamespace(exception=lambda: exc))

    assert client._wait(state(RateLimited("slow down", retry_after=3.0))) >= 3.0
    assert client._wait(state(RateLimited("slow down", retry_after=600.0))) == 5.0
    assert client._wait(state(GraphUnavailable("x"))) < 1.0


def test_unknown_http_failures_map_to_types():
    assert isinstance(graph_error(429, None), RateLimited)
    assert isinstance(graph_error(504, "gateway"), GraphUnavailable)
    assert isinstance(graph_error(401, {}), GraphAuthError)
    assert type(graph_error(404, {})) is GraphError and not graph_error(404, {}).retryable


# ---- reminders: sends that must not be repeated blindly ----------------------------------------------------------


async def test_a_timeout_or_a_dropped_connection_is_an_unknown_outcome_but_no_connection_is_not(fake_graph):
    client = fast_graph_client(make_settings(fake_graph.base_url), timeout_seconds=0.2)
    fake_graph.then("hang")
    with pytest.raises(GraphOutcomeUnknown):  # Graph may have the message
        await client.send_message(MESSAGE, retries=0)
    fake_graph.then("drop")
    with pytest.raises(GraphOutcomeUnknown):
        await client.send_message(MESSAGE, retries=0)
    assert len(fake_graph.calls) == 2  # retries=0: each tried once
    await client.close()
    nobody = fast_graph_client(make_settings(f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(GraphUnavailable) as info:  # nothing reached Graph: safe to try again later
        await nobody.send_message(MESSAGE, retries=0)
    assert not isinstance(info.value, GraphOutcomeUnknown)
    await nobody.close()


@pytest.fixture
def fake_graph_sync():
    """The fake Graph on a loop of its own (a synchronous test has none running)."""
    graph = FakeGraph()
    app = web.Application()
    app.router.add_post("/{version}/{phone_number_id}/messages", graph.handle)
    with BackgroundServer(app) as server:
        graph.base_url = server.url
        yield graph


def test_synchronous_code_sends_on_the_clients_own_loop(fake_graph_sync):
    client = fast_graph_client(make_settings(fake_graph_sync.base_url))
    try:
        assert client.send_message_sync(MESSAGE) == "wamid.OUT1"
        assert client.send_message_sync(MESSAGE, retries=0) == "wamid.OUT2"  # one session for both
    finally:
        client.close_sync()
    assert len(fake_graph_sync.calls) == 2


async def test_synchronous_sends_are_refused_inside_a_running_loop(client):
    with pytest.raises(RuntimeError, match="inside a running event loop"):
        client.send_message_sync(MESSAGE)

"""`POST /_sim/fail` makes the next N Graph calls fail with Graph's exact error, then sends recover."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    "code, status, graph_code, transient",
    [
        (131056, 429, 131056, None),  # pair rate limit
        (130429, 429, 130429, None),  # throughput rate limit
        (131047, 400, 131047, None),  # outside the 24-hour window
        (131026, 400, 131026, None),  # undeliverable
        (190, 401, 190, None),  # expired token
        (500, 500, 1, True),  # server errors: Graph's generic transient codes
        (503, 503, 2, True),
    ],
)
def test_failure_fires_n_times_then_sends_recover(
    api: Any, code: int, status: int, graph_code: int, transient: bool | None
) -> None:
    armed = api.sim("fail", {"code": code, "times": 2})
    assert armed.status_code == 200
    for _ in range(2):
        err = api.assert_graph_error(api.text("hello"), status, graph_code)
        assert err.get("is_transient") == transient
    ok = api.text("hello")
    assert ok.status_code == 200 and ok.json()["messages"][0]["id"].startswith("wamid.")
    assert [r["status"] for r in api.outbox()] == [status, status, 200]


def test_error_bodies_carry_graph_details(api: Any) -> None:
    api.sim("fail", {"code": 131047})
    err = api.assert_graph_error(api.text("reminder"), 400, 131047)
    assert err["message"] == "(#131047) Re-engagement message"
    assert "24 hours" in err["error_data"]["details"]
    api.sim("fail", {"code": 190})
    assert api.assert_graph_error(api.text("x"), 401, 190)["error_subcode"] == 463


def test_http_status_can_be_overridden(api: Any) -> None:
    # real Graph answers some rate limits with 400: a connector must read the code
    api.sim("fail", {"code": 131056, "http_status": 400})
    api.assert_graph_error(api.text("x"), 400, 131056)


def test_read_receipts_are_spared_unless_asked(api: Any) -> None:
    read = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.ANY"}
    api.sim("fail", {"code": 130429})
    assert api.post(read).status_code == 200
    api.assert_graph_error(api.text("x"), 429, 130429)
    api.sim("fail", {"code": 130429, "applies_to": "all"})
    api.assert_graph_error(api.post(read), 429, 130429)


def test_invalid_bodies_do_not_use_up_an_armed_failure(api: Any) -> None:
    api.sim("fail", {"code": 131056})
    api.assert_graph_error(api.text("x" * 5000), 400, 100)
    api.assert_graph_error(api.text("x"), 429, 131056)


def test_health_shows_armed_failures_and_reset_clears_them(api: Any) -> None:
    api.sim("fail", {"code": 131056, "times": 3})
    assert api.sim("health").json()["failures"] == [
        {"code": 131056, "http_status": 429, "remaining": 3, "applies_to": "message"}
    ]
    api.sim("reset", {})
    assert api.sim("health").json()["failures"] == []
    assert api.text("x").status_code == 200


@pytest.mark.parametrize(
    "body", [{}, {"code": "abc"}, {"code": 131056, "times": 0}, {"code": 131056, "applies_to": "everything"}]
)
def test_bad_fail_requests_are_refused(api: Any, body: dict[str, Any]) -> None:
    assert api.sim("fail", body).status_code == 400

"""The fake Graph API records every call and answers (or refuses) the way the Cloud API does."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
import requests

from notifications.templates import render


def interactive_buttons(titles: list[str], ids: list[str] | None = None) -> dict[str, Any]:
    ids = ids or [f"b{i}" for i in range(len(titles))]
    return {
        "messaging_product": "whatsapp",
        "to": "919876543210",
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "Pick one"},
            "action": {
                "buttons": [{"type": "reply", "reply": {"id": i, "title": t}} for i, t in zip(ids, titles, strict=True)]
            },
        },
    }


def interactive_list(
    rows_per_section: list[int], title: str = "Row", description: str = "desc", button: str = "Choose"
) -> dict[str, Any]:
    sections = [
        {
            "title": f"Section {s}",
            "rows": [{"id": f"s{s}r{r}", "title": title, "description": description} for r in range(n)],
        }
        for s, n in enumerate(rows_per_section)
    ]
    return {
        "messaging_product": "whatsapp",
        "to": "919876543210",
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": "Your patients"},
            "action": {"button": button, "sections": sections},
        },
    }


def test_a_send_is_answered_like_graph_and_recorded(api: Any) -> None:
    resp = api.text("Your appointment is *tomorrow*.")
    assert resp.status_code == 200
    body = resp.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": api.user, "wa_id": api.user}]
    assert body["messages"][0]["id"].startswith("wamid.")

    [record] = api.outbox()
    assert record["kind"] == "message" and record["status"] == 200 and record["to"] == api.user
    assert record["path"].endswith("/messages") and record["method"] == "POST"
    assert record["body"]["text"]["body"] == "Your appointment is *tomorrow*."
    assert record["response"] == body
    assert record["seq"] >= 1 and record["time"]
    # the token never reaches the outbox (it is shown in the browser)
    assert record["headers"]["Authorization"] == "Bearer ***"
    assert api.token not in str(record)


def test_plus_prefixed_recipient_is_normalised(api: Any) -> None:
    resp = api.text("hi", to="+919876543210")
    assert resp.json()["contacts"] == [{"input": "+919876543210", "wa_id": "919876543210"}]
    assert [r["to"] for r in api.outbox(to="919876543210")] == ["919876543210"]


def test_missing_token_is_refused_with_190(api: Any) -> None:
    err = api.assert_graph_error(api.text("hi", token=None), 401, 190)
    assert err["type"] == "OAuthException"
    [record] = api.outbox()
    assert record["status"] == 401  # refused calls are recorded too


def test_wrong_token_is_refused_with_190(api: Any) -> None:
    api.assert_graph_error(api.text("hi", token="not-the-token"), 401, 190)


def test_other_phone_number_id_does_not_exist(api: Any) -> None:
    url = api.messages_url.replace("/123456789012345/", "/999/")
    err = api.assert_graph_error(
        api.post({"messaging_product": "whatsapp", "to": api.user, "type": "text", "text": {"body": "hi"}}, url=url),
        400,
        100,
    )
    assert err["error_subcode"] == 33


def test_unknown_graph_path_is_refused_and_recorded(api: Any) -> None:
    # what an unset WHATSAPP_PHONE_NUMBER_ID produces
    url = api.messages_url.replace("/123456789012345/", "//")
    api.assert_graph_error(api.post({"messaging_product": "whatsapp", "to": api.user}, url=url), 400, 2500)
    [record] = api.outbox()
    assert record["kind"] == "invalid" and record["status"] == 400


def test_text_limit_is_4096_characters(api: Any) -> None:
    assert api.text("x" * 4096).status_code == 200
    err = api.assert_graph_error(api.text("x" * 4097), 400, 100)
    assert "4096" in err["error_data"]["details"]


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"to": "919876543210", "type": "text", "text": {"body": "hi"}}, "messaging_product"),
        ({"messaging_product": "whatsapp", "type": "text", "text": {"body": "hi"}}, "to"),
        ({"messaging_product": "whatsapp", "to": "91", "type": "text", "text": {}}, "text['body']"),
        ({"messaging_product": "whatsapp", "to": "91", "type": "fax", "fax": {}}, "type"),
        (
            {"messaging_product": "whatsapp", "to": "91", "type": "template", "template": {"name": "reminder"}},
            "language",
        ),
        ({"messaging_product": "whatsapp", "to": "91", "type": "image", "image": {}}, "id or link"),
    ],
)
def test_malformed_bodies_are_refused_with_100(api: Any, body: dict[str, Any], fragment: str) -> None:
    err = api.assert_graph_error(api.post(body), 400, 100)
    assert fragment in err["error_data"]["details"]


def test_non_json_body_is_refused_and_recorded(api: Any) -> None:
    resp = requests.post(
        api.messages_url, data=b"{not json", headers={"Authorization": "Bearer " + api.token}, timeout=10
    )
    api.assert_graph_error(resp, 400, 100)
    [record] = api.outbox()
    assert record["kind"] == "invalid" and record["body"] == "{not json"


def test_reply_buttons_limits(api: Any) -> None:
    assert api.post(interactive_buttons(["Yes", "No", "x" * 20])).status_code == 200
    err = api.assert_graph_error(api.post(interactive_buttons(["a", "b", "c", "d"])), 400, 131009)
    assert "buttons count" in err["error_data"]["details"]
    err = api.assert_graph_error(api.post(interactive_buttons(["x" * 21])), 400, 131009)
    assert "Button title" in err["error_data"]["details"]
    api.assert_graph_error(api.post(interactive_buttons(["a", "b"], ids=["same", "same"])), 400, 131009)


def test_interactive_body_limit(api: Any) -> None:
    body = interactive_buttons(["Yes"])
    body["interactive"]["body"]["text"] = "x" * 1025
    api.assert_graph_error(api.post(body), 400, 100)


def test_list_limits(api: Any) -> None:
    at_limits = interactive_list([6, 4], title="t" * 24, description="d" * 72, button="b" * 20)
    assert api.post(at_limits).status_code == 200

    err = api.assert_graph_error(api.post(interactive_list([6, 5])), 400, 131009)  # 11 rows in total
    assert "row count" in err["error_data"]["details"]
    err = api.assert_graph_error(api.post(interactive_list([1], title="t" * 25)), 400, 131009)
    assert "Row title" in err["error_data"]["details"]
    err = api.assert_graph_error(api.post(interactive_list([1], description="d" * 73)), 400, 131009)
    assert "description" in err["error_data"]["details"]
    err = api.assert_graph_error(api.post(interactive_list([1], button="b" * 21)), 400, 131009)
    assert "Button label" in err["error_data"]["details"]


def reminder(api: Any, **params: str) -> dict[str, Any]:
    values = {"hospital_name": "Shimla District Hospital", "date": "Tue 8 Dec", "time": "9:15 am", **params}
    return render("appointment_reminder", to=api.user, params=values, notification_id=42)


def test_a_template_send_of_the_registry_is_accepted(api: Any) -> None:
    resp = api.post(reminder(api))
    assert resp.status_code == 200
    assert resp.json()["messages"][0]["message_status"] == "accepted"


def test_template_sends_the_registry_would_refuse_get_graphs_errors(api: Any) -> None:
    unknown = reminder(api)
    unknown["template"]["name"] = "appointment_reminder_v9"
    err = api.assert_graph_error(api.post(unknown), 404, 132001)
    assert "does not exist" in err["message"]
    missing = reminder(api)
    missing["template"]["components"][0]["parameters"].pop()
    api.assert_graph_error(api.post(missing), 400, 132000)
    new_line = reminder(api)
    new_line["template"]["components"][0]["parameters"][2]["text"] = "9:15\nam"  # render() would clean it
    api.assert_graph_error(api.post(new_line), 400, 132018)
    extra_button = reminder(api)
    extra_button["template"]["components"].append(
        {"type": "button", "sub_type": "quick_reply", "index": "7", "parameters": [{"type": "payload", "payload": "x"}]}
    )
    api.assert_graph_error(api.post(extra_button), 400, 131009)
    assert [r["status"] for r in api.outbox()] == [404, 400, 400, 400]  # refused sends are recorded too


def test_read_receipt_answers_success_and_lands_in_the_senders_chat(api: Any, bot: Any) -> None:
    # a message the simulator delivered: its read receipt belongs to that sender's chat
    sent = api.sim("send", {"from": "919811112222", "text": "hi"}).json()
    resp = api.post(
        {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": sent["message_id"],
            "typing_indicator": {"type": "text"},
        }
    )
    assert resp.status_code == 200 and resp.json() == {"success": True}
    reads = [r for r in api.outbox(to="919811112222", kind="read") if r["body"]["message_id"] == sent["message_id"]]
    assert reads and reads[-1]["status"] == 200


def test_outbox_filters_by_recipient_sequence_and_kind(api: Any) -> None:
    api.text("one", to="911111111111")
    api.text("two", to="912222222222")
    api.text("three", to="911111111111")
    everything = api.outbox()
    assert [r["body"]["text"]["body"] for r in everything] == ["one", "two", "three"]
    assert [r["body"]["text"]["body"] for r in api.outbox(to="911111111111")] == ["one", "three"]
    first_seq = everything[0]["seq"]
    assert [r["body"]["text"]["body"] for r in api.outbox(after=first_seq)] == ["two", "three"]
    assert api.outbox(kind="read") == []
    assert api.sim("outbox", after="x").status_code == 400


def test_outbox_long_poll_returns_a_message_sent_while_waiting(api: Any) -> None:
    last = api.sim("health").json()["last_seq"]
    sender = threading.Timer(0.2, lambda: api.text("late reply"))
    sender.start()
    try:
        got = api.outbox(to=api.user, after=last, wait=20)
    finally:
        sender.join()
    assert [r["body"]["text"]["body"] for r in got] == ["late reply"]


def test_reset_clears_the_outbox_but_sequence_keeps_growing(api: Any) -> None:
    api.text("before")
    seq_before = api.outbox()[-1]["seq"]
    assert api.sim("reset", {}).status_code == 200
    assert api.outbox() == []
    api.text("after")
    assert api.outbox()[0]["seq"] > seq_before


def test_outbox_reads_after_a_sequence_number_past_the_kept_records() -> None:
    from sandbox.whatsapp.state import MAX_RECORDS, Outbox

    async def main() -> None:
        outbox = Outbox()
        for i in range(MAX_RECORDS + 50):
            await outbox.add(
                method="POST", path="/", headers={}, body={}, kind="message", to=str(i % 3), status=200, response={}
            )
        last = outbox.last_seq
        assert [r.seq for r in outbox.query(after=last - 4)] == [last - 3, last - 2, last - 1, last]
        assert [r.seq for r in outbox.query(to="0", after=last - 6)] == [
            s for s in range(last - 5, last + 1) if (s - 1) % 3 == 0
        ]
        assert len(outbox.query(after=0)) == MAX_RECORDS  # the oldest 50 were dropped
        assert outbox.query(after=last) == []
        await outbox.clear()
        await outbox.add(method="POST", path="/", headers={}, body={}, kind="read", to="9", status=200, response={})
        assert [r.seq for r in outbox.query(after=last - 10)] == [last + 1]

    asyncio.run(main())


def test_outbox_with_inbound_is_the_conversation_in_order(api: Any, bot: Any) -> None:
    """`inbound=1` adds the user's messages (sent through /_sim/send) between the bot's calls: a chat's history."""

    def conversation(**params: Any) -> list[dict[str, Any]]:
        return api.outbox(to=api.user, inbound=1, **params)

    sent = api.sim("send", {"from": api.user, "name": "Asha", "text": "hi"}).json()
    api.outbox(to=api.user, kind="message", wait=10)  # the bot's answer came
    api.sim("send", {"from": "919811112222", "text": "another chat"})
    pressed = api.sim(
        "send", {"from": api.user, "button": {"id": "/affirm", "title": "Yes"}, "context_id": "wamid.X"}
    ).json()
    deadline = time.monotonic() + 10
    while len(api.outbox(to=api.user, kind="message")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)

    history = conversation()
    assert [r["kind"] for r in history] == ["inbound", "read", "message", "inbound", "read", "message"]
    first, second = history[0], history[3]
    assert first["from"] == api.user and first["body"]["id"] == sent["message_id"]
    assert first["body"]["text"] == {"body": "hi"} and first["status"] == 200 and first["pending"] is False
    assert first["time"] and "seq" not in first and first["after_seq"] <= history[1]["seq"]
    assert second["body"]["interactive"]["button_reply"]["title"] == "Yes"
    assert second["body"]["id"] == pressed["message_id"]
    assert history[4]["body"]["message_id"] == pressed["message_id"]  # each receipt follows its message
    # plain outbox reads are unchanged; `after` and `kind` apply to the user's messages too
    assert all(r["kind"] != "inbound" for r in api.outbox(to=api.user))
    assert conversation(after=history[2]["seq"]) == history[3:]
    assert [r["kind"] for r in conversation(kind="inbound")] == ["inbound", "inbound"]
    assert [r["kind"] for r in conversation(kind="read")] == ["read", "read"]
    other = api.outbox(to="919811112222", inbound=1, kind="inbound")
    assert [r["body"]["text"]["body"] for r in other] == ["another chat"]
    # reset forgets them with the outbox
    api.sim("reset", {})
    assert conversation() == []


def test_outbox_with_inbound_keeps_undelivered_messages(api: Any, sim: Any) -> None:
    resp = api.sim("send", {"from": api.user, "text": "anyone there?"})
    assert resp.status_code == 502  # the webhook URL is not set up in this test
    [record] = api.outbox(to=api.user, inbound=1)
    assert record["kind"] == "inbound" and record["status"] is None and record["pending"] is False
    assert "unreachable" in record["response"]

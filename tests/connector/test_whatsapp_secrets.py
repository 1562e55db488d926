"""A code or password the assistant asked for never reaches Rasa (and so never the tracker store)."""

from __future__ import annotations

from wa_support import text_batch

ASHA = "919876543210"


async def test_expected_code_reaches_rasa_only_as_an_intent(harness):
    harness.channel._sessions.expect_secret(ASHA, "otp")
    assert (await harness.post(text_batch((ASHA, "wamid.S1", "45 612")))).status == 200
    await harness.settle()
    [message] = harness.agent.received
    assert message.text == '/secret_provided{"secret_kind":"otp"}'
    assert "45" not in str(message.metadata)
    assert harness.channel._sessions.take_secret(ASHA, "otp") == "45 612"


async def test_password_is_kept_server_side(harness):
    harness.channel._sessions.expect_secret(ASHA, "password")
    await harness.post(text_batch((ASHA, "wamid.S2", "Ohcn@123")))
    await harness.settle()
    assert [m.text for m in harness.agent.received] == ['/secret_provided{"secret_kind":"password"}']
    assert all("Ohcn@123" not in str(call) for call in harness.graph.sent)


async def test_without_an_expectation_digits_are_ordinary_text(harness):
    await harness.post(text_batch((ASHA, "wamid.S3", "45612")))
    await harness.settle()
    assert [m.text for m in harness.agent.received] == ["45612"]


async def test_session_store_down_fails_closed(harness):
    class Broken:
        def expected_secret(self, sender):
            raise ConnectionError("database is down")

    harness.channel._sessions = Broken()
    await harness.post(text_batch((ASHA, "wamid.S4", "Ohcn@123")))
    await harness.settle()
    assert [m.text for m in harness.agent.received] == ["/session_unavailable"]

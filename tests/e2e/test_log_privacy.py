"""The assistant's own logs (Rasa server, action server) never show a sender's phone number unmasked."""

from __future__ import annotations

import pytest

from common.phone import mask_phone
from sandbox.whatsapp import payloads

pytestmark = pytest.mark.e2e


def test_phone_numbers_are_masked_in_the_assistants_logs(stack, user):
    hello = payloads.text(user.phone, "hello")
    user.post(hello)
    user.replies(2)
    user.post(hello)  # a redelivery: the connector logs that it ignored a duplicate from this sender
    user.post(payloads.image(user.phone))  # the unsupported-message path logs too
    user.replies(1)
    user.post(payloads.text(user.phone, "hi"), secret="wrong-secret")  # a refused POST is logged
    logs = {name: (stack.run_dir / "logs" / f"{name}.log").read_text(errors="replace") for name in ("rasa", "actions")}
    for name, text in logs.items():
        assert user.phone not in text, f"{name}.log shows {mask_phone(user.phone)} unmasked"
        assert user.phone[2:] not in text, f"{name}.log shows the national number of {mask_phone(user.phone)}"
    # the sender does appear in the logs, masked: the assertions above looked at lines that name them
    assert mask_phone(user.phone) in logs["rasa"]

"""End to end: the same words mean the right thing for the logged-in role, whatever NLU made of them, and a
name is found in any wording (signed webhooks into the real Rasa server, actions and the sandbox CARE)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import texts
from tests.e2e.test_staff_journeys import log_in

pytestmark = pytest.mark.e2e


def test_staff_words_mean_a_search_a_summary_and_a_logout(stack, user):
    log_in(user, "care-doctor")
    # ("do we have Meera registered" needs the NLU's training data: tests/stories/test_staff.yml holds it)
    user.say("SEARCH FOR A PATIENT WITH NAME RAVI")
    reply = texts(user.replies(1))
    assert "Ravi Kumar" in reply and "*A*" not in reply, reply
    user.say("brief me on Meera Nair")
    reply = texts(user.replies(1))
    assert "Hypothyroidism" in reply and "Levothyroxine" in reply, reply  # the summary, not a search card
    user.say("exit my account")
    reply = texts(user.replies(1))
    assert "already logged in" not in reply and "logged out" in reply.lower(), reply


def test_out_of_scope_never_starts_a_login(stack, user):
    for text in ("sing a song for me", "who is the prime minister of india"):
        user.say(text)
        reply = texts(user.replies(1))
        assert "one-time code" not in reply and "CARE *username*" not in reply, (text, reply)

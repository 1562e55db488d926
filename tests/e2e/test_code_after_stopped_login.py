"""After the patient login stops on its code-request limit, the code the user types next (it may still arrive
by SMS) is kept out of Rasa: the tracker store never holds it, and it is answered, not searched."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.e2e.conftest import text_of, texts
from tests.e2e.test_patient_journeys import OTP, interactive, say, tap

pytestmark = pytest.mark.e2e


def test_a_code_typed_after_the_code_request_limit_never_reaches_the_tracker(stack, user):
    from actions.patient.login import RESENDS_MAX

    ask = interactive(say(user, "show my records"))
    question = interactive(tap(user, ask, "Use this number", at_least=2))
    assert "5-digit code" in text_of(question)
    for _ in range(RESENDS_MAX - 1):
        question = interactive(tap(user, question, "Send a new code", at_least=2))
    limited = texts(tap(user, question, "Send a new code"))
    assert "login has stopped for now" in limited and "type *login*" in limited, limited

    reply = texts(say(user, OTP))
    assert "wasn't waiting for a code" in reply, reply
    assert "patient" not in reply.lower() and "matches" not in reply  # no search, no login question

    env = stack.env()
    with sqlite3.connect(env["TRACKER_SQLITE_PATH"]) as db:
        rows = [r[0] for r in db.execute("SELECT data FROM events WHERE sender_id = ?", (user.phone,))]
    stored = "\n".join(json.dumps(json.loads(r), ensure_ascii=False) for r in rows)
    assert rows and "secret_provided" in stored  # what Rasa saw instead
    assert OTP not in stored

"""When the patient login stops on a limit, a code typed next stays out of Rasa and is not searched."""

from __future__ import annotations

import pytest

from tests.actions.harness import action, fresh_sender, make_tracker, responses, run, slots_set
from tests.actions.test_patient_login import FORM, answer_phone, ask_code, validate

pytestmark = pytest.mark.usefixtures("care_env")


def test_a_code_typed_after_the_code_request_limit_is_kept_out_of_rasa(domain):
    from actions.patient.login import RESENDS_MAX
    from sessions.redaction import redact_inbound
    from sessions.store import get_session_store

    sender = fresh_sender()
    answer_phone(sender, domain, text="9900112233", intent="nlu_fallback")
    ask_code(sender, domain)
    t = make_tracker(
        sender, text="resend", intent="resend_code", active_loop=FORM, requested_slot="login_code",
        slots={"login_phone": "x"},
    )  # fmt: skip
    for _ in range(RESENDS_MAX):
        d, events = run(validate(), t, domain)
    assert "utter_otp_send_limited" in responses(d) and slots_set(events)["form_stopped"] is True
    # the form ends: its done action forgets the code question
    done = make_tracker(sender, slots={"form_stopped": True})
    run(action("action_patient_login_done"), done, domain)
    store = get_session_store()
    assert store.expected_secret(sender) is None
    # the code that arrived anyway is typed next: Rasa sees no digits, and the rules answer it
    assert redact_inbound(store, sender, "45612") == '/secret_provided{"secret_kind":"otp"}'
    assert store.take_secret(sender, "otp") is None

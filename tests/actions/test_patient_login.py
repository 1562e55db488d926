"""The OTP login form's actions against the sandbox CARE: what the patient reads, what is stored where."""

from __future__ import annotations

import json

import pytest

from tests.actions.harness import (
    ANITA_PHONE,
    OTP,
    RAMESH,
    RAMESH_PHONE,
    SUNITA,
    active_loop_of,
    fresh_sender,
    log_in_patient,
    make_tracker,
    message,
    responses,
    run,
    slots_set,
)

pytestmark = pytest.mark.usefixtures("care_env")

FORM = "patient_login_form"


def validate():
    from actions.patient.login import ValidatePatientLoginForm

    return ValidatePatientLoginForm()


def answer_phone(sender: str, domain, *, text: str = "/affirm", intent: str = "affirm", slots=None):
    t = make_tracker(
        sender, text=text, intent=intent, active_loop=FORM, requested_slot="login_phone", slots=slots or {}
    )
    return run(validate(), t, domain)


def give_code(sender: str, domain, code: str | None, *, slots=None):
    """What the connector does with a typed code (sessions.redaction), then the form's validation."""
    from sessions.redaction import redact_inbound
    from sessions.store import get_session_store

    text = "/secret_provided"
    if code is not None:
        text = redact_inbound(get_session_store(), sender, code)
    intent = "secret_provided" if text.startswith("/secret_provided") else "nlu_fallback"
    t = make_tracker(
        sender,
        text=text,
        intent=intent,
        entities=[("secret_kind", "otp")] if intent != "nlu_fallback" else None,
        active_loop=FORM,
        requested_slot="login_code",
        slots={"login_phone": "+91 98•••••210", **(slots or {})},
    )
    return run(validate(), t, domain)


def ask_code(sender: str, domain):
    from actions.patient.login import ActionAskLoginCode

    return run(ActionAskLoginCode(), make_tracker(sender, active_loop=FORM, requested_slot="login_code"), domain)


def start(sender: str, domain):
    """Phone confirmed (the sender's own number) and the code question asked."""
    d, events = answer_phone(sender, domain)
    assert "utter_otp_sent" in responses(d), responses(d)
    ask_code(sender, domain)
    return d, events


def test_the_question_offers_the_senders_own_number_masked(domain):
    from actions.patient.login import ActionAskLoginPhone

    d, _ = run(
        ActionAskLoginPhone(), make_tracker(RAMESH_PHONE, active_loop=FORM, requested_slot="login_phone"), domain
    )
    msg = message(d, "utter_ask_login_phone_own")
    assert msg["masked_phone"] == "+91 98•••••210"
    assert "9876543210" not in json.dumps(d.messages)


def test_own_number_sends_the_code_and_keeps_only_the_masked_number_in_slots(domain):
    d, events = answer_phone(RAMESH_PHONE, domain)
    assert message(d, "utter_otp_sent")["masked_phone"] == "+91 98•••••210"
    assert slots_set(events)["login_phone"] == "+91 98•••••210"
    assert slots_set(events)["requested_slot"] == "login_code"
    assert "9876543210" not in json.dumps(events)


def test_asking_for_the_code_makes_the_connector_keep_the_reply_out_of_rasa(domain):
    from sessions.store import get_session_store

    ask_code(RAMESH_PHONE, domain)
    assert get_session_store().expected_secret(RAMESH_PHONE) == "otp"


def test_family_login_proves_both_and_asks_whose_record(domain):
    from sessions.store import get_session_store

    start(RAMESH_PHONE, domain)
    d, events = give_code(RAMESH_PHONE, domain, "45 612")  # spaces are fine
    slots = slots_set(events)
    assert slots["login_code"] == "verified" and slots["role"] == "patient"
    assert slots["requested_slot"] == "patient_choice"
    assert "utter_logged_in_family" in responses(d)
    login = get_session_store().login(RAMESH_PHONE)
    assert login.kind == "patient" and set(login.patient_ids) == {RAMESH, SUNITA}
    assert login.selected_patient_id == ""
    dumped = json.dumps(events) + json.dumps(d.messages)
    assert OTP not in dumped and login.access_token not in dumped and "9876543210" not in dumped


def test_choosing_a_family_member_from_the_list(domain):
    from actions.patient.family import ActionAskPatientChoice
    from sessions.store import get_session_store

    log_in_patient(RAMESH_PHONE, "+919876543210")
    d, _ = run(
        ActionAskPatientChoice(), make_tracker(RAMESH_PHONE, active_loop=FORM, requested_slot="patient_choice"), domain
    )
    buttons = message(d, "utter_ask_patient_choice")["buttons"]
    assert [b["title"] for b in buttons] == ["Ramesh Kumar", "Sunita Kumar"]
    sunita = buttons[1]["payload"]
    assert sunita == '/choose{"choice":"2"}'
    t = make_tracker(
        RAMESH_PHONE,
        text=sunita,
        intent="choose",
        entities=[("choice", "2")],
        active_loop=FORM,
        requested_slot="patient_choice",
        slots={"login_phone": "x", "login_code": "verified"},
    )
    d, events = run(validate(), t, domain)
    assert slots_set(events)["patient_name"] == "Sunita Kumar"
    assert slots_set(events)["requested_slot"] is None  # the form is done
    assert get_session_store().login(RAMESH_PHONE).selected_patient_id == SUNITA


def test_typing_a_name_also_chooses(domain):
    log_in_patient(RAMESH_PHONE, "+919876543210")
    t = make_tracker(
        RAMESH_PHONE,
        text="sunitha",
        intent="nlu_fallback",
        active_loop=FORM,
        requested_slot="patient_choice",
        slots={"login_phone": "x", "login_code": "verified"},
    )
    _, events = run(validate(), t, domain)
    assert slots_set(events)["patient_name"] == "Sunita Kumar"


def test_single_patient_login_selects_them(domain):
    from sessions.store import get_session_store

    start(ANITA_PHONE, domain)
    _d, events = give_code(ANITA_PHONE, domain, OTP)
    assert slots_set(events)["patient_name"] == "Anita Sharma"
    assert slots_set(events)["requested_slot"] is None
    assert get_session_store().login(ANITA_PHONE).selected_patient_id


def test_wrong_codes_are_counted_then_login_pauses(domain):
    from actions.patient.login import WRONG_MAX
    from sessions.store import get_session_store

    sender = fresh_sender()
    slots = {}
    answer_phone(sender, domain, text="9812345678", intent="nlu_fallback", slots={"login_other_number": True})
    for left in range(WRONG_MAX - 1, 0, -1):
        ask_code(sender, domain)
        d, events = give_code(sender, domain, "11111", slots=slots)
        assert message(d, "utter_otp_wrong")["attempts_left"] == left
        assert slots_set(events)["login_code"] is None
        assert slots_set(events)["requested_slot"] == "login_code"  # asked again
    ask_code(sender, domain)
    d, events = give_code(sender, domain, "22222")
    assert "utter_otp_locked" in responses(d)
    assert slots_set(events)["form_stopped"] is True and slots_set(events)["requested_slot"] is None
    assert get_session_store().login(sender) is None
    # even the right code does not work now, and no new code is sent
    d, _ = answer_phone(sender, domain, text="9812345678", intent="nlu_fallback")
    assert "utter_otp_locked" in responses(d) and "utter_otp_sent" not in responses(d)


def test_a_code_of_the_wrong_shape_gets_a_clear_reply_and_is_not_counted(domain):
    from sessions.store import get_session_store

    sender = fresh_sender()
    answer_phone(sender, domain, text="98450 12345", intent="nlu_fallback")
    for typed in ("4561", "456123", "45-61"):
        ask_code(sender, domain)
        d, events = give_code(sender, domain, typed)
        assert "utter_otp_format" in responses(d), typed
        assert slots_set(events)["requested_slot"] == "login_code"
    assert get_session_store().count(sender, "otp_wrong") == 0


def test_letters_instead_of_a_code_are_refused_plainly(domain):
    sender = fresh_sender()
    answer_phone(sender, domain, text="98450 12345", intent="nlu_fallback")
    ask_code(sender, domain)
    t = make_tracker(
        sender,
        text="abcde",
        intent="nlu_fallback",
        active_loop=FORM,
        requested_slot="login_code",
        slots={"login_phone": "x"},
    )
    d, events = run(validate(), t, domain)
    assert "utter_otp_format" in responses(d)
    assert slots_set(events)["requested_slot"] == "login_code"


def test_another_number_is_asked_for_and_validated(domain):
    from actions.patient.login import ActionAskLoginPhone

    sender = fresh_sender()
    _, events = answer_phone(sender, domain, text="/use_other_number", intent="use_other_number")
    assert slots_set(events)["login_other_number"] is True
    d, _ = run(ActionAskLoginPhone(), make_tracker(sender, slots={"login_other_number": True}), domain)
    assert responses(d) == ["utter_ask_login_phone_other"]
    d, events = answer_phone(sender, domain, text="12345", intent="nlu_fallback", slots={"login_other_number": True})
    assert "utter_login_phone_invalid" in responses(d) and slots_set(events)["requested_slot"] == "login_phone"
    d, events = answer_phone(
        sender, domain, text="+91 91234 56789", intent="nlu_fallback", slots={"login_other_number": True}
    )
    assert slots_set(events)["login_phone"] == "+91 91•••••789"


def test_resends_are_rate_limited(domain):
    from actions.patient.login import RESENDS_MAX

    sender = fresh_sender()
    answer_phone(sender, domain, text="9900112233", intent="nlu_fallback")
    for _ in range(RESENDS_MAX - 1):
        t = make_tracker(
            sender,
            text="resend",
            intent="resend_code",
            active_loop=FORM,
            requested_slot="login_code",
            slots={"login_phone": "x"},
        )
        d, events = run(validate(), t, domain)
        assert "utter_otp_resent" in responses(d)
    d, events = run(validate(), t, domain)
    assert "utter_otp_send_limited" in responses(d)
    assert slots_set(events)["form_stopped"] is True


def test_a_number_without_patients_logs_nobody_in(domain):
    from sessions.store import get_session_store

    sender = fresh_sender()
    answer_phone(sender, domain, text="98111 00000", intent="nlu_fallback")
    ask_code(sender, domain)
    d, events = give_code(sender, domain, OTP)
    assert "utter_login_no_patients" in responses(d)
    assert slots_set(events)["form_stopped"] is True
    assert get_session_store().login(sender) is None


def test_a_plain_text_code_that_escaped_redaction_is_not_used(domain):
    from sessions.store import get_session_store

    sender = fresh_sender()
    answer_phone(sender, domain, text="9900112233", intent="nlu_fallback")
    t = make_tracker(
        sender,
        text=OTP,
        intent="nlu_fallback",
        active_loop=FORM,
        requested_slot="login_code",
        slots={"login_phone": "x"},
    )
    d, _ = run(validate(), t, domain)
    assert "utter_otp_format" in responses(d)
    assert get_session_store().login(sender) is None


def test_login_done_answers_the_request_that_needed_it(domain):
    from actions.pending import ActionPatientLoginDone

    sender = fresh_sender()
    log_in_patient(sender, "+919123456789")
    t = make_tracker(
        sender,
        text="/secret_provided",
        intent="secret_provided",
        latest_action="patient_login_form",
        slots={"pending_request": "medications", "patient_name": "Anita Sharma", "login_code": "verified"},
    )
    d, events = run(ActionPatientLoginDone(), t, domain)
    assert responses(d)[:2] == ["utter_logged_in_short", "utter_medications"]
    assert "Amoxicillin" in message(d, "utter_medications")["items"]
    assert slots_set(events)["pending_request"] is None and slots_set(events)["login_code"] is None


def test_stopping_the_login_forgets_the_expected_code(domain):
    from actions.patient.session import ActionStopPatientForm
    from sessions.store import get_session_store

    sender = fresh_sender()
    ask_code(sender, domain)
    d, events = run(
        ActionStopPatientForm(),
        make_tracker(sender, text="cancel", intent="deny", active_loop=FORM, requested_slot="login_code"),
        domain,
    )
    assert responses(d) == ["utter_login_cancelled"]
    assert active_loop_of(events) is None
    assert get_session_store().expected_secret(sender) is None


def test_logout_ends_the_login_at_once_and_empties_the_slots(domain):
    from actions.requests import ActionLogout
    from sessions.store import get_session_store

    sender = fresh_sender()
    log_in_patient(sender, "+919123456789")
    t = make_tracker(sender, text="logout", intent="logout", slots={"role": "patient", "patient_name": "Anita Sharma"})
    d, events = run(ActionLogout(), t, domain)
    assert responses(d) == ["utter_logged_out"]
    assert get_session_store().login(sender) is None
    assert slots_set(events) == {"role": None, "patient_name": None}
    d, _ = run(ActionLogout(), t, domain)
    assert responses(d) == ["utter_not_logged_in"]


def test_login_when_already_logged_in_says_so(domain):
    from actions.patient.login import ActionLogin

    sender = fresh_sender()
    log_in_patient(sender, "+919123456789")
    d, events = run(
        ActionLogin(),
        make_tracker(sender, text="login", intent="login", slots={"patient_name": "Anita Sharma"}),
        domain,
    )
    assert responses(d) == ["utter_already_logged_in"]
    assert active_loop_of(events) is False


def test_login_starts_the_form_when_nobody_is_logged_in(domain):
    from actions.patient.login import ActionLogin

    d, events = run(ActionLogin(), make_tracker(fresh_sender(), text="login", intent="login"), domain)
    assert active_loop_of(events) == FORM and d.messages == []

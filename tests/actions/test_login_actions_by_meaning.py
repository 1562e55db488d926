"""The same words mean the right thing for the logged-in role when NLU reads them as `login` or `staff_login`."""

from __future__ import annotations

import pytest

from tests.actions.harness import (
    action,
    active_loop_of,
    ents,
    fresh_sender,
    log_in_patient,
    log_in_staff,
    make_tracker,
    responses,
    run,
)
from tests.actions.test_patient_login import RAMESH_PHONE

pytestmark = pytest.mark.usefixtures("care_env")


def login_said(domain, sender, text, slots=None, entities=None):
    t = make_tracker(sender, slots or {}, text, "login", entities)
    return run(action("action_login"), t, domain)


def followups(events):
    return [e.get("name") for e in events if e.get("event") == "followup"]


def test_staff_naming_a_patient_get_the_search_not_the_patient_login_refusal(domain):
    sender = fresh_sender()
    log_in_staff(sender, "care-doctor")
    d, events = login_said(domain, sender, "do we have Anita registered", {"role": "staff"}, ents(person="Anita"))
    assert followups(events) == ["action_search_patient"] and "utter_logged_in_as_staff" not in responses(d)
    d, events = login_said(domain, sender, "login", {"role": "staff"})
    assert "utter_logged_in_as_staff" in responses(d)  # a login's own words still get the old answer
    d, events = login_said(domain, sender, "staff login", {"role": "staff"})
    assert followups(events) == ["action_staff_login"]  # whose form says who is logged in already


def test_exit_my_account_logs_staff_and_patients_out(domain):
    staff = fresh_sender()
    log_in_staff(staff, "care-doctor")
    d, events = login_said(domain, staff, "exit my account", {"role": "staff"})
    assert followups(events) == ["action_logout"] and not responses(d)
    patient = fresh_sender()
    log_in_patient(patient, "+" + RAMESH_PHONE)
    d, events = login_said(domain, patient, "exit my account", {"role": "patient"})
    assert followups(events) == ["action_logout"] and "utter_already_logged_in" not in responses(d)


@pytest.mark.parametrize("text", ["sing a song for me", "who is the prime minister of india"])
def test_out_of_scope_never_starts_a_login(domain, text):
    d, events = login_said(domain, fresh_sender(), text)
    assert responses(d) == ["utter_out_of_scope"] and not active_loop_of(events)


def test_a_real_login_still_starts_the_form(domain):
    _said, events = login_said(domain, fresh_sender(), "i want to login")
    assert active_loop_of(events) == "patient_login_form"


def staff_login_said(domain, sender, text, slots=None):
    return run(action("action_staff_login"), make_tracker(sender, slots or {}, text, "staff_login"), domain)


@pytest.mark.parametrize("text", ["who is the prime minister of india", "sing a song for me"])
def test_out_of_scope_read_as_a_staff_login_never_asks_for_a_username(domain, text):
    d, events = staff_login_said(domain, fresh_sender(), text)
    assert responses(d) == ["utter_out_of_scope"] and not active_loop_of(events)


def test_exit_my_account_read_as_a_staff_login_is_a_logout(domain):
    staff = fresh_sender()
    log_in_staff(staff, "care-doctor")
    d, events = staff_login_said(domain, staff, "exit my account", {"role": "staff"})
    assert followups(events) == ["action_logout"] and not responses(d)


@pytest.mark.parametrize(
    "text", ["staff login", "doctor sign in", "care-nurse", "login as care-doctor", "/staff_login"]
)
def test_a_staff_login_in_its_own_words_opens_the_form(domain, text):
    d, events = staff_login_said(domain, fresh_sender(), text)
    assert active_loop_of(events) == "staff_login_form" and not responses(d)


def test_a_login_read_for_a_patient_but_said_as_staff_opens_the_staff_login(domain):
    d, events = login_said(domain, fresh_sender(), "physician login")
    assert followups(events) == ["action_staff_login"] and not active_loop_of(events) and not responses(d)

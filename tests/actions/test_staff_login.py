"""Staff login: username, password (kept out of Rasa), TOTP when CARE asks; limits; tokens server-side only."""

from __future__ import annotations

import json

import pytest

from tests.actions.harness import (
    PASSWORD,
    FormDriver,
    action,
    fresh_sender,
    log_in_staff,
    make_tracker,
    run,
    slots_set,
    store,
    texts,
    totp,
)

FORM = "staff_login_form"


def login_form(domain, sender=None) -> FormDriver:
    return FormDriver(FORM, sender or fresh_sender(), domain)


def submit(form: FormDriver, domain):
    msgs, events = run(action("action_staff_login_submit"), make_tracker(form.sender, form.slots), domain)
    return msgs, slots_set(events)


def test_doctor_logs_in_and_the_password_stays_out_of_slots_and_events(care_env, domain):
    form = login_form(domain)
    assert "username" in texts(form.start("staff login", "staff_login"), domain)
    asked = texts(form.say("care-doctor"), domain)
    assert "password" in asked and "never repeat it" in asked
    assert store().expected_secret(form.sender) == "password"  # the connector will keep the next text

    welcome = texts(form.secret("password", PASSWORD), domain)
    assert "Welcome, *Asha Menon* (Doctor, Shimla District Hospital)" in welcome
    assert form.active is False  # done
    msgs, slots = submit(form, domain)
    assert slots["role"] == "staff" and slots["staff_username"] is None

    login = store().login(form.sender)
    assert login.kind == "staff" and login.roles == ["Doctor"] and login.facility_ids
    assert login.access_token and login.refresh_token and login.expires_at > login.access_expires_at
    everything = json.dumps(form.slots) + json.dumps(form.messages) + json.dumps(msgs)
    for secret in (PASSWORD, login.access_token, login.refresh_token):
        assert secret not in everything
    assert store().take_secret(form.sender, "password") is None  # taken once, gone


def test_wrong_password_says_so_and_starts_again_from_the_username(care_env, domain):
    form = login_form(domain)
    form.start("staff login", "staff_login")
    form.say("care-doctor")
    reply = texts(form.secret("password", "not-the-password"), domain)
    assert "didn't work (tries left before login is paused: 4)" in reply
    assert form.slots["requested_slot"] == "staff_username"
    assert store().login(form.sender) is None
    form.say("care-doctor")
    assert "Welcome" in texts(form.secret("password", PASSWORD), domain)


def test_five_failed_logins_pause_login_for_the_number_and_the_username(care_env, domain):
    sender = fresh_sender()
    form = login_form(domain, sender)
    form.start("staff login", "staff_login")
    for _ in range(4):
        form.say("care-nurse")
        form.secret("password", "wrong")
    form.say("care-nurse")
    reply = texts(form.secret("password", "wrong"), domain)
    assert "Too many failed logins" in reply and form.active is False
    # even the right password is refused now, from this number ...
    again = login_form(domain, sender)
    assert "Too many failed logins" in texts(again.start("staff login", "staff_login"), domain)
    # ... and for this username from another number
    other = login_form(domain)
    other.start("staff login", "staff_login")
    other.say("care-nurse")
    assert "Too many failed logins" in texts(other.secret("password", PASSWORD), domain)
    assert store().login(other.sender) is None


def test_totp_challenge_asks_for_the_authenticator_code(care_env, domain):
    form = login_form(domain)
    form.start("staff login", "staff_login")
    form.say("care-doctor-mfa")
    asked = texts(form.secret("password", PASSWORD), domain)
    assert "authenticator app" in asked
    assert store().expected_secret(form.sender) == "totp"
    assert store().login(form.sender) is None  # not logged in before the second factor

    assert "didn't work" in texts(form.secret("totp", "000000"), domain)
    assert form.slots["requested_slot"] == "staff_totp_checked"
    assert "Welcome, *Kiran Joshi*" in texts(form.secret("totp", totp()), domain)
    assert store().login(form.sender).kind == "staff"


def test_a_backup_code_also_works(care_env, domain):
    form = login_form(domain)
    form.start("staff login", "staff_login")
    form.say("care-doctor-mfa")
    form.secret("password", PASSWORD)
    assert "Welcome" in texts(form.secret("totp", "1234 5678"), domain)


def test_a_username_with_spaces_is_asked_again(care_env, domain):
    form = login_form(domain)
    form.start("staff login", "staff_login")
    reply = texts(form.say("dr asha menon"), domain)
    assert "Please send your CARE username, e.g. *care-doctor*" in reply
    assert form.slots["requested_slot"] == "staff_username"


@pytest.mark.parametrize("said", ["staff login care-doctor", "login as care-doctor", "Staff login: care-doctor"])
def test_the_username_in_the_login_request_is_taken(care_env, domain, said):
    form = login_form(domain)
    asked = texts(form.start(said, "staff_login"), domain)
    assert "CARE *password*" in asked and "username" not in asked
    assert form.slots["staff_username"] == "care-doctor"
    assert "Welcome, *Asha Menon*" in texts(form.secret("password", PASSWORD), domain)


def test_a_username_that_nlu_read_as_a_login_request_is_not_asked_again(care_env, domain):
    """ "login" (the patient's login asks for a phone), then "care-doctor", which NLU reads as staff_login:
    the staff login starts with that username and asks for the password, not for the username again."""
    form = login_form(domain)
    asked = texts(form.start("care-doctor", "staff_login"), domain)
    assert "CARE *password*" in asked and "username" not in asked
    assert store().expected_secret(form.sender) == "password"
    # and while the username question is open, "staff login care-nurse" answers it too
    other = login_form(domain)
    other.start("staff login", "staff_login")
    assert "CARE *password*" in texts(other.say("staff login care-nurse", "staff_login"), domain)
    assert other.slots["staff_username"] == "care-nurse"


def test_a_login_started_by_another_request_asks_for_the_username(care_env, domain):
    msgs, _events = run(
        action("action_search_patient"),
        make_tracker(fresh_sender(), {}, "find patient meera", "search_patient"),
        domain,
    )
    assert "log in with your CARE account first" in texts(msgs, domain)
    form = login_form(domain)
    asked = texts(form.start("find patient meera", "search_patient"), domain)
    assert "CARE *username*" in asked and form.slots.get("staff_username") is None


def _care_logins(sandbox) -> int:
    """CARE's logins so far, from the sandbox's access log ("POST /api/v1/auth/login/ -> 401 in 3 ms")."""
    return sandbox.log_path.read_text(errors="replace").count("POST /api/v1/auth/login/ ")


NOT_USERNAMES = [
    "45612",
    "Ramesh Kumar",
    "ramesh kumar 45612",
    "+91 98765 43210",
    "9876543210",
    "hi",
    "Hello",
    "namaste",
    "good morning",
    "yes",
    "my code is 45612",
    "staff login 45612",
    "book Ravi tomorrow",
]


def test_nothing_that_is_not_a_username_reaches_cares_login(care_env, domain):
    """A patient in the staff login by mistake: codes, names, phones and greetings are refused, with what is
    expected and how patients get out, the password is never asked for, and CARE's login is never called."""
    before = _care_logins(care_env)
    form = login_form(domain)
    form.start("staff login 45612", "staff_login")
    assert form.slots.get("staff_username") is None and form.slots["requested_slot"] == "staff_username"
    for said in NOT_USERNAMES:
        reply = texts(form.say(said, "inform"), domain)
        assert reply.startswith("Please send your CARE username, e.g. *care-doctor*"), said
        assert "Patients: type *cancel*, then *menu*." in reply
        assert form.slots["requested_slot"] == "staff_username" and form.slots.get("staff_username") is None
        assert store().expected_secret(form.sender) is None  # the next message is never taken as a password
    for said in ("45612", "Ramesh Kumar", "hi"):  # whatever NLU makes of it
        for intent in ("greet", "nlu_fallback", "search_patient", "login", "staff_login"):
            # a greeting leaves the login question (the greeting's rule answers): never a username either
            form.say(said, intent, may_reject=intent == "greet")
            assert form.slots.get("staff_username") is None, (said, intent)
    assert _care_logins(care_env) == before

    # the control: a real username does reach CARE's login (so the log above would have shown one)
    form.say("care-doctor")
    assert "Welcome" in texts(form.secret("password", PASSWORD), domain)
    assert _care_logins(care_env) == before + 1


def test_the_password_step_never_sends_a_username_that_is_not_one(care_env, domain):
    """Even a slot set some other way: what is not a username is not sent to CARE with the password."""
    before = _care_logins(care_env)
    form = login_form(domain)
    form.start("staff login", "staff_login")
    form.say("care-doctor")
    form.slots["staff_username"] = "Ramesh Kumar"
    reply = texts(form.secret("password", "45612"), domain)
    assert "Please send your CARE username" in reply and form.slots["requested_slot"] == "staff_username"
    assert _care_logins(care_env) == before
    assert store().take_secret(form.sender, "password") is None  # taken and dropped


def test_cancel_during_login_forgets_the_expected_password(care_env, domain):
    form = login_form(domain)
    form.start("staff login", "staff_login")
    form.say("care-doctor")
    # "cancel" reaches Rasa as text (an escape word); the form refuses it and the stop rule runs
    t = make_tracker(form.sender, {**form.slots}, "cancel", "deny", active_loop=FORM)
    msgs, events = run(action("validate_staff_login_form"), t, domain)
    assert not [e for e in events if e.get("event") == "slot" and e["name"] != "requested_slot"]  # rejected
    msgs, events = run(action("action_staff_stop"), t, domain)
    assert "stopped" in texts(msgs, domain)
    assert {"event": "active_loop", "name": None, "timestamp": None} in events
    assert store().expected_secret(form.sender) is None  # the next message is an ordinary one again


def test_already_logged_in_staff_is_told_so(care_env, domain):
    sender = fresh_sender()
    log_in_staff(sender, "care-doctor")
    form = login_form(domain, sender)
    assert "already logged in as *care-doctor*" in texts(form.start("staff login", "staff_login"), domain)
    assert form.active is False
    _, slots = submit(form, domain)
    assert slots["role"] == "staff"


def test_a_logged_in_patient_must_log_out_first(care_env, domain):
    import time

    from sessions.store import Login

    sender = fresh_sender()
    store().save_login(sender, Login(kind="patient", access_token="x", expires_at=time.time() + 600, patient_ids=["p"]))
    form = login_form(domain, sender)
    assert "logged in as a patient" in texts(form.start("staff login", "staff_login"), domain)
    _, slots = submit(form, domain)
    assert "role" not in slots


def test_rotated_tokens_are_saved_and_an_expired_session_ends(
    start_sandbox_with_short_tokens, domain, monkeypatch, tmp_path
):
    """CARE rotates the refresh token: the session store keeps the newest pair; when the refresh token has
    expired too, the next staff action says the session ended and resets `role`."""
    import time

    from actions.staff.session import staff_context

    sender = fresh_sender()
    log_in_staff(sender, "care-doctor")
    first = store().login(sender)
    ctx = staff_context(sender)
    ctx.care.current_user()  # access token is "expired" (shorter than the refresh margin): refreshed now
    second = store().login(sender)
    assert second.access_token != first.access_token and second.refresh_token != first.refresh_token

    time.sleep(7)  # 36 s refresh tokens count as expired 30 s early; the 1.2 s access token is gone
    t = make_tracker(
        sender, {"role": "staff"}, "find patient Meera", "search_patient", [{"entity": "person", "value": "Meera"}]
    )
    msgs, events = run(action("action_search_patient"), t, domain)
    assert "session has ended" in texts(msgs, domain)
    assert {"event": "slot", "name": "role", "value": None, "timestamp": None} in events


@pytest.fixture
def start_sandbox_with_short_tokens(tmp_path, monkeypatch):
    from tests.actions.harness import SandboxProcess, forget_caches, use_care

    proc = SandboxProcess(
        tmp_path, env={"SANDBOX_ACCESS_TOKEN_MINUTES": "0.02", "SANDBOX_REFRESH_TOKEN_MINUTES": "0.6"}
    ).start()
    use_care(monkeypatch, proc.url, tmp_path)
    yield proc
    proc.stop()
    forget_caches()


def test_logout_during_a_staff_form_stops_it_quietly(care_env, domain):
    sender = fresh_sender()
    store().expect_secret(sender, "password")
    t = make_tracker(sender, {"requested_slot": "staff_password_checked"}, "logout", "logout", active_loop=FORM)
    msgs, _events = run(action("action_staff_stop"), t, domain)
    assert msgs == []  # action_logout says goodbye next
    assert store().expected_secret(sender) is None


def test_a_staff_logout_says_care_is_closed_not_your_records(care_env, domain):
    sender = fresh_sender()
    log_in_staff(sender, "care-doctor")
    msgs, _ = run(action("action_logout"), make_tracker(sender, {"role": "staff"}, "logout", "logout"), domain)
    said = texts(msgs, domain)
    assert said.startswith("You're logged out of CARE.") and "your records" not in said
    assert store().login(sender) is None

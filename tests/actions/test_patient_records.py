"""Records, medications, appointments and procedures, whose record, and failures, against the sandbox CARE."""

from __future__ import annotations

import time

import pytest

from actions.shared import clock
from tests.actions.harness import (
    ANITA,
    RAMESH,
    SUNITA,
    active_loop_of,
    fresh_sender,
    log_in_patient,
    make_tracker,
    message,
    responses,
    run,
    slots_set,
    texts,
)

pytestmark = pytest.mark.usefixtures("care_env")


def action(name: str):
    from actions import requests
    from actions.patient.family import ActionSwitchPatient

    return {
        "records": requests.ActionGetRecords(),
        "medications": requests.ActionGetMedications(),
        "appointments": requests.ActionGetAppointments(),
        "procedures": requests.ActionGetProcedures(),
        "switch": ActionSwitchPatient(),
    }[name]


def ask(sender: str, what: str, text: str, domain, entities=None, slots=None):
    intent = "switch_patient" if what == "switch" else f"get_{what}"
    t = make_tracker(sender, text=text, intent=intent, entities=entities, slots={"role": "patient", **(slots or {})})
    return run(action(what), t, domain)


@pytest.fixture
def ramesh(domain):
    sender = fresh_sender()
    log_in_patient(sender, "+919876543210", selected=RAMESH)
    return sender


def test_anonymous_request_starts_the_login_and_remembers_it(domain):
    d, events = ask(fresh_sender(), "medications", "what tablets am i supposed to take?", domain, slots={"role": None})
    assert active_loop_of(events) == "patient_login_form"
    assert slots_set(events)["pending_request"] == "medications"
    assert d.messages == []  # the form's first question explains the login


def test_asking_for_past_medicines_before_login_remembers_that(domain):
    _, events = ask(fresh_sender(), "medications", "show my old medicines", domain, slots={"role": None})
    assert slots_set(events)["pending_request"] == "past_medications"


def test_an_ended_login_says_so_and_logs_in_again(domain):
    d, events = ask(fresh_sender(), "appointments", "my appointments", domain, slots={"role": "patient"})
    assert responses(d) == ["utter_session_expired"]
    assert active_loop_of(events) == "patient_login_form"
    assert slots_set(events)["role"] is None and slots_set(events)["pending_request"] == "appointments"


def test_current_medications_with_dose_frequency_route_and_instructions(ramesh, domain):
    d, _ = ask(ramesh, "medications", "get medications", domain)
    items = message(d, "utter_medications")["items"]
    assert "*Metformin* 500 mg" in items and "Two times a day" in items and "Oral route" in items
    assert "with meals for 30 days" in items
    assert "Amlodipine" not in items  # completed: a past one
    offer = message(d, "utter_medications_past_offer")
    assert offer["count"] == 1 and offer["buttons"][0]["payload"] == '/get_medications{"medication_period":"past"}'


def test_past_medications_on_request(ramesh, domain):
    d, _ = ask(ramesh, "medications", "show my previous medicines", domain)
    items = message(d, "utter_medications_past")["items"]
    assert "Amlodipine" in items and "completed" in items and "Metformin" not in items


def test_records_are_visits_with_diagnoses(ramesh, domain):
    d, _ = ask(ramesh, "records", "show my reports", domain)
    items = message(d, "utter_records")["items"]
    assert "Shimla District Hospital" in items and "Diabetes mellitus type 2" in items
    assert "Essential hypertension" in items and "Fever" not in items  # a symptom, not a diagnosis
    assert items.index("since") < items.index("completed")  # newest visit first


def test_appointments_upcoming_with_doctor_place_and_local_time(ramesh, domain):
    d, _ = ask(ramesh, "appointments", "when do i see the doctor next", domain)
    items = message(d, "utter_appointments")["items"]
    assert "Dr. Asha Menon" in items and "Shimla District Hospital" in items and "9 am" in items
    assert "Rahul Verma" not in items  # that one was two weeks ago


def test_procedures_are_service_requests(ramesh, domain):
    d, _ = ask(ramesh, "procedures", "what tests have been ordered", domain)
    items = message(d, "utter_procedures")["items"]
    assert "Complete blood count" in items and "HbA1c" in items and "Fasting for 8 hours" in items


def test_empty_results_say_so_kindly(domain):
    sender = fresh_sender()
    log_in_patient(sender, "+919876543210", selected=SUNITA)
    d, _ = ask(sender, "procedures", "my procedures", domain)
    assert responses(d) == ["utter_procedures_empty"]
    assert message(d, "utter_procedures_empty")["patient_name"] == "Sunita Kumar"


def test_a_relation_switches_to_that_family_member(ramesh, domain):
    from sessions.store import get_session_store

    d, events = ask(ramesh, "medications", "what tablets does my wife take", domain, entities=[("relation", "wife")])
    assert responses(d)[:2] == ["utter_patient_switched", "utter_medications"]
    assert "Atorvastatin" in message(d, "utter_medications")["items"]
    assert slots_set(events)["patient_name"] == "Sunita Kumar"
    assert get_session_store().login(ramesh).selected_patient_id == SUNITA


def test_a_family_name_in_the_text_is_enough(ramesh, domain):
    d, _ = ask(ramesh, "appointments", "show sunita's appointments", domain)
    assert message(d, "utter_appointments")["patient_name"] == "Sunita Kumar"


@pytest.mark.parametrize(
    "text,person",
    [
        ("show Anita Sharma's medications", "Anita Sharma"),
        ("what tablets is meera taking", "meera"),
        ("medicines of ravi kumar", "ravi kumar"),
    ],
)
def test_another_patients_data_is_never_reachable(ramesh, domain, text, person):
    d, _ = ask(ramesh, "medications", text, domain, entities=[("person", person)])
    assert responses(d) == ["utter_not_family"]
    assert message(d, "utter_not_family")["names"] == "Ramesh Kumar and Sunita Kumar"
    blob = str(d.messages)
    assert "Amoxicillin" not in blob and "Levothyroxine" not in blob and "Salbutamol" not in blob


def test_a_forged_selection_is_refused_before_any_clinical_read(domain):
    from actions.patient import access
    from sessions.store import get_session_store

    sender = fresh_sender()
    login = log_in_patient(sender, "+919876543210", selected=RAMESH)
    login.selected_patient_id = ANITA  # not proven by this login
    get_session_store().save_login(sender, login)
    calls = []
    real = access.call_service

    async def spy(fn, *args, **kwargs):
        calls.append((getattr(fn, "__name__", ""), args))
        return await real(fn, *args, **kwargs)

    access.call_service = spy
    try:
        d, _ = ask(sender, "medications", "my medicines", domain)
    finally:
        access.call_service = real
    assert "utter_medications" not in responses(d)
    assert not any(ANITA in args for _, args in calls)


def test_switch_patient_by_name(ramesh, domain):
    d, events = ask(ramesh, "switch", "switch to sunita", domain, entities=[("person", "sunita")])
    assert responses(d) == ["utter_patient_switched"] and slots_set(events)["patient_name"] == "Sunita Kumar"


def test_switch_patient_without_a_name_asks_with_the_list(ramesh, domain):
    _, events = ask(ramesh, "switch", "switch patient", domain)
    assert active_loop_of(events) == "switch_patient_form"


def test_switch_with_one_patient_on_the_phone(domain):
    sender = fresh_sender()
    log_in_patient(sender, "+919123456789")
    d, events = ask(sender, "switch", "switch patient", domain)
    assert responses(d) == ["utter_switch_only_one"] and active_loop_of(events) is False


def test_care_down_answers_try_again_later_within_seconds(ramesh, domain, monkeypatch):
    from sessions.store import get_session_store
    from tests.actions.harness import forget_caches

    login = get_session_store().login(ramesh)
    monkeypatch.setenv("CARE_BASE_URL", "http://127.0.0.1:9")  # nothing listens there
    forget_caches()
    get_session_store().save_login(ramesh, login)
    started = time.monotonic()
    d, _ = ask(ramesh, "medications", "my medicines", domain)
    assert responses(d) == ["utter_care_unavailable"]
    assert time.monotonic() - started < 10


def test_an_expired_patient_token_ends_the_session(ramesh, domain):
    from sessions.store import get_session_store

    login = get_session_store().login(ramesh)
    login.access_token = "not-a-valid-token"
    get_session_store().save_login(ramesh, login)
    d, events = ask(ramesh, "appointments", "my appointments", domain)
    assert responses(d) == ["utter_session_expired"]
    assert get_session_store().login(ramesh) is None
    assert slots_set(events)["role"] is None
    # asked to log in again at once, and this request is answered after it
    assert active_loop_of(events) == "patient_login_form"
    assert slots_set(events)["pending_request"] == "appointments"


def test_staff_login_hands_the_section_to_the_staff_part(domain, monkeypatch):
    from sessions.store import Login, get_session_store

    sender = fresh_sender()
    get_session_store().save_login(sender, Login(kind="staff", access_token="x", expires_at=time.time() + 600))
    from actions import requests

    seen = []

    async def show_section(section, dispatcher, tracker, domain):
        seen.append(section)
        return [{"event": "slot", "name": "staff_pending", "value": section}]

    monkeypatch.setattr(requests, "show_section", show_section)
    _, events = ask(sender, "procedures", "procedures of meera", domain)
    assert seen == ["procedures"] and events == [{"event": "slot", "name": "staff_pending", "value": "procedures"}]


def test_long_lists_are_split_under_the_limit(ramesh, domain, monkeypatch):
    from actions.shared import replies

    monkeypatch.setattr(replies, "max_length", lambda: 350)
    d, _ = ask(ramesh, "records", "records", domain)
    texts = [m.get("items", "") for m in d.messages]
    assert len(texts) >= 2 and responses(d)[1] == "utter_list_continued"
    assert all(len(t) <= 350 for t in texts)


def test_the_login_done_action_uses_the_chosen_member(domain):
    from actions.pending import ActionPatientSwitched

    sender = fresh_sender()
    log_in_patient(sender, "+919876543210", selected=SUNITA)
    t = make_tracker(
        sender,
        latest_action="switch_patient_form",
        slots={"pending_request": "appointments", "patient_name": "Sunita Kumar"},
    )
    d, events = run(ActionPatientSwitched(), t, domain)
    assert message(d, "utter_appointments")["patient_name"] == "Sunita Kumar"
    assert slots_set(events)["pending_request"] is None


def test_the_spouse_already_shown_is_the_one_meant(ramesh, domain):
    """Ramesh is shown and his wife asks for "my husband's medicines": Ramesh, not a refusal."""
    d, _ = ask(ramesh, "medications", "show my husband's medicines", domain, entities=[("relation", "husband")])
    assert responses(d)[0] == "utter_medications" and "utter_not_family" not in responses(d)
    assert message(d, "utter_medications")["patient_name"] == "Ramesh Kumar"
    assert "Metformin" in message(d, "utter_medications")["items"]


def test_a_relation_nobody_on_the_phone_fits_is_refused(domain):
    sender = fresh_sender()
    log_in_patient(sender, "+919876543210", selected=RAMESH)
    d, events = ask(sender, "records", "my son's records", domain, entities=[("relation", "son")])
    assert responses(d) == ["utter_not_family"] and active_loop_of(events) is False


def test_a_relation_with_a_single_patient_is_refused_not_asked(domain):
    sender = fresh_sender()
    log_in_patient(sender, "+919123456789")
    d, _ = ask(sender, "medications", "show papa's medicines", domain)
    assert responses(d) == ["utter_not_family"]


def test_a_relation_must_fit_age_too(domain):
    """Sunita is Ramesh's wife (younger): "mummy" from Ramesh is nobody on the phone."""
    sender = fresh_sender()
    log_in_patient(sender, "+919876543210", selected=RAMESH)
    d, _ = ask(sender, "medications", "mummy ki dawai", domain)
    assert responses(d) == ["utter_not_family"]


def test_a_new_conversation_session_starts_logged_out(ramesh, domain):
    """After WHATSAPP_SESSION_TIMEOUT_HOURS Rasa starts a new session: the CARE login must not live on in it."""
    from rasa.shared.core.domain import Domain

    from actions.common import ActionSessionStart
    from sessions.store import get_session_store
    from tests.actions.harness import ROOT

    assert Domain.load(str(ROOT / "domain")).session_config.carry_over_slots is False
    assert get_session_store().login(ramesh) is not None
    _, events = run(ActionSessionStart(), make_tracker(ramesh, slots={"role": "patient"}), domain)
    assert [(e["event"], e.get("name")) for e in events] == [("session_started", None), ("action", "action_listen")]
    assert get_session_store().login(ramesh) is None
    d, events = ask(ramesh, "medications", "my medicines", domain, slots={"role": None})
    assert "Metformin" not in str(d.messages)
    assert active_loop_of(events) == "patient_login_form"


# ------------------------------------------------------------------------------------------- a day asked about


def dated(day) -> str:
    """'Thu 3 Dec' (with the year when it is not this year's), computed here from the hospital's clock."""
    from actions.shared.clock import today

    return f"{day:%a} {day.day} {day:%b}" + (f" {day.year}" if day.year != today().year else "")


def upcoming_of(login, patient_id):
    from actions.patient import access
    from actions.shared import formatting

    tz = clock.timezone_name()
    return sorted(
        (
            (formatting.to_local(a.start, tz), a)
            for a in access.patient_api(login).list_appointments()
            if a.patient_id == patient_id and not a.is_cancelled and a.start and a.start >= clock.now()
        ),
        key=lambda pair: pair[0],
    )


def test_tomorrow_without_an_appointment_says_so_and_names_the_next_one(domain):
    import datetime as dt

    from actions.shared.clock import today

    sender = fresh_sender()
    login = log_in_patient(sender, "+919876543210", selected=SUNITA)
    tomorrow = today() + dt.timedelta(days=1)
    coming = upcoming_of(login, SUNITA)
    assert coming and all(local.date() != tomorrow for local, _ in coming)  # the seed books her at +3 days
    d, _ = ask(sender, "appointments", "do i have any appointment tomorrow", domain)
    assert responses(d) == ["utter_no_appointment_on_day_next"]
    first, _ = coming[0]
    text = texts([message(d, "utter_no_appointment_on_day_next")], domain)
    assert f"has no appointment tomorrow ({dated(tomorrow)})" in text, text
    assert f"The next one is *{dated(first.date())}, 9:30 am* with *Dr. Asha Menon*" in text, text


def test_a_day_with_an_appointment_shows_that_day_first(ramesh, domain):
    import datetime as dt

    from actions.shared.clock import today
    from actions.shared.who import store

    coming = upcoming_of(store().login(ramesh), RAMESH)
    local, _ = coming[0]  # the seed's "tomorrow at 9", on Dr. Asha Menon's next OPD day
    day = local.date()
    words = {today(): "today", today() + dt.timedelta(days=1): "tomorrow"}.get(day, f"on {day:%A}")
    d, _ = ask(ramesh, "appointments", f"do i have an appointment {words}", domain)
    assert responses(d)[0] == "utter_appointments_on_day"
    text = texts([message(d, "utter_appointments_on_day")], domain)
    heading = f"{words} ({dated(day)})" if words in ("today", "tomorrow") else f"{words} {day.day} {day:%b}"
    assert heading in text.splitlines()[0] and "9 am" in text and "Dr. Asha Menon" in text, text
    assert "Rahul Verma" not in text
    others = len(coming) - 1
    assert ("utter_appointments_others_offer" in responses(d)) == (others > 0)


def test_a_day_asked_before_the_login_is_answered_after_it(domain):
    import datetime as dt

    from actions.pending import ActionPatientLoginDone
    from actions.shared.clock import today

    sender = fresh_sender()
    _, events = ask(sender, "appointments", "any appointment tomorrow?", domain, slots={"role": None})
    tomorrow = today() + dt.timedelta(days=1)
    assert slots_set(events)["pending_request"] == f"appointments@{tomorrow.isoformat()}"
    log_in_patient(sender, "+919876543210", selected=SUNITA)
    t = make_tracker(
        sender,
        latest_action="patient_login_form",
        slots={"pending_request": f"appointments@{tomorrow.isoformat()}", "patient_name": "Sunita Kumar"},
    )
    d, _ = run(ActionPatientLoginDone(), t, domain)
    assert responses(d)[-1] == "utter_no_appointment_on_day_next"
    assert message(d, "utter_no_appointment_on_day_next")["day"] == f"tomorrow ({dated(tomorrow)})"


def test_pending_days_round_trip():
    import datetime as dt

    from actions.patient.appointments import request_for, split_request

    a, b = dt.date(2026, 12, 7), dt.date(2026, 12, 13)
    assert request_for("appointments", None) == "appointments"
    assert split_request(request_for("appointments", (a, a))) == ("appointments", (a, a))
    assert split_request(request_for("appointments", (a, b))) == ("appointments", (a, b))
    assert split_request("appointments@not-a-day") == ("appointments", None)
    assert split_request("medications") == ("medications", None)

"""Reminders from the chat against the sandbox CARE: opting in and out in words, per patient and purpose, the
reminders' buttons (only from the phone that opted in), and "did I take my tablets today?"."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from actions.shared import clock
from tests.actions.harness import (
    RAMESH,
    SUNITA,
    action,
    active_loop_of,
    buttons,
    fresh_sender,
    log_in_patient,
    make_tracker,
    message,
    responses,
    run,
    slots_set,
    texts,
)

# Cancel from a reminder cancels an appointment in CARE: a sandbox of this module's own
pytestmark = [pytest.mark.usefixtures("care_env"), pytest.mark.own_care_sandbox]

RAMESH_APPOINTMENT = "4ac87299-e395-48ea-9ec0-23c76997a992"  # sandbox/care/fixtures.yml: tomorrow 9:00


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import settings
    from notifications.store import get_notification_store

    monkeypatch.setenv("ASSISTANT_DATABASE_URL", f"sqlite:///{tmp_path / 'assistant.db'}")
    settings.get_settings.cache_clear()
    get_notification_store.cache_clear()
    yield get_notification_store()
    get_notification_store.cache_clear()


@pytest.fixture
def ramesh() -> str:
    sender = fresh_sender()
    log_in_patient(sender, "+919876543210", selected=RAMESH)
    return sender


def ask(sender: str, text: str, domain, intent: str = "ask_reminder", entities=None, slots=None):
    name = {"ask_reminder": "action_ask_reminder", "ask_adherence": "action_ask_adherence"}.get(
        intent, "action_stop_messages" if intent == "stop_messages" else "action_reminder_button"
    )
    tracker = make_tracker(
        sender, text=text, intent=intent, entities=entities, slots={"role": "patient", **(slots or {})}
    )
    return run(action(name), tracker, domain)


def press(sender: str, intent: str, notification_id: int, domain):
    payload = f'/{intent}{{"notification_id":"{notification_id}"}}'
    return ask(sender, payload, domain, intent=intent, entities=[("notification_id", str(notification_id))])


def dose_row(store, patient: str = RAMESH, at: str = "08:00") -> int:
    day = clock.today()
    key = f"med:req-1:{day.isoformat()}:{at}"
    store.schedule(
        key,
        patient_id=patient,
        purpose="medications",
        kind="medication_reminder",
        due_at=clock.now(),
        params={"request_id": "req-1", "local_date": day.isoformat(), "local_time": at},
    )
    return store.by_key(key).id


def appointment_row(store, appointment_id: str = RAMESH_APPOINTMENT) -> int:
    key = f"appt:{appointment_id}:x:24h"
    store.schedule(
        key,
        patient_id=RAMESH,
        purpose="appointments",
        kind="appointment_reminder",
        due_at=clock.now(),
        params={"appointment_id": appointment_id},
    )
    return store.by_key(key).id


# ---- opting in ----------------------------------------------------------------------------------------------


def test_anonymous_opt_in_logs_in_first_and_keeps_the_purpose_and_times(store, domain):
    _, events = ask(fresh_sender(), "send me medicine reminders at 8 am and 9 pm", domain, slots={"role": None})
    assert active_loop_of(events) == "patient_login_form"
    assert slots_set(events)["pending_request"] == "remind|medications|08:00+21:00"


def test_opt_in_in_words_stores_times_method_and_the_words_shown(store, ramesh, domain):
    said, _ = ask(ramesh, "send me medicine reminders at 8 am and 9 pm", domain)
    shown = texts(said, domain)
    assert responses(said) == ["utter_reminders_set_medications_at"]
    assert "8 am, 9 pm" in shown and "STOP" in shown and "Ramesh" in shown
    consent = store.consent(RAMESH, "medications")
    assert consent.opted_in and consent.medication_times == ("08:00", "21:00")
    assert store.consent(RAMESH, "appointments") is None
    (change,) = store.consent_history(RAMESH, "medications")
    assert change.method == "words" and change.wording_shown == shown


def test_appointment_words_opt_in_appointments_only(store, ramesh, domain):
    said, _ = ask(ramesh, "pls remind me before my review visit", domain)
    assert responses(said) == ["utter_reminders_set_appointments"]
    assert store.consent(RAMESH, "appointments").opted_in and store.consent(RAMESH, "medications") is None


def test_unclear_words_ask_which_reminders_and_the_buttons_keep_the_times(store, ramesh, domain):
    said, _ = ask(ramesh, "remind me at 8 baje", domain)
    assert responses(said) == ["utter_reminders_ask_purpose"]
    found = buttons(said, domain)
    assert [b["title"] for b in found] == ["Medicines", "Appointments", "Both"]
    assert found[2]["payload"] == '/ask_reminder{"reminder_purpose":"both","reminder_times":"08:00"}'
    assert store.consents_for_sender(ramesh) == []
    said, _ = ask(
        ramesh, found[2]["payload"], domain, entities=[("reminder_purpose", "both"), ("reminder_times", "08:00")]
    )
    assert responses(said) == ["utter_reminders_set_medications_at", "utter_reminders_set_appointments"]
    assert store.consent(RAMESH, "medications").medication_times == ("08:00",)
    assert store.consent(RAMESH, "appointments").opted_in


def test_family_members_on_one_phone_opt_in_separately(store, domain):
    sender = fresh_sender()
    log_in_patient(sender, "+919876543210", selected=SUNITA)
    ask(sender, "remind me about my tablets in the morning", domain, slots={"patient_name": "Sunita Kumar"})
    assert store.consent(SUNITA, "medications").medication_times == ("08:00",)
    assert store.consent(RAMESH, "medications") is None


def test_the_opt_in_waits_for_the_login_then_is_done(store, domain):
    from actions.pending import ActionPatientLoginDone

    sender = fresh_sender()
    log_in_patient(sender, "+919876543210", selected=RAMESH)
    tracker = make_tracker(
        sender,
        slots={"pending_request": "remind|medications|21:00", "patient_name": "Ramesh Kumar"},
        latest_action="patient_login_form",
    )
    said, _ = run(ActionPatientLoginDone(), tracker, domain)
    assert "utter_reminders_set_medications_at" in responses(said)
    assert store.consent(RAMESH, "medications").medication_times == ("21:00",)


# ---- opting out in words ----------------------------------------------------------------------------------------


def test_stop_in_words_stops_only_the_purpose_named_then_all(store, ramesh, domain):
    ask(ramesh, "remind me about my medicines and appointments", domain)
    said, _ = ask(ramesh, "no more medicine messages", domain, intent="stop_messages")
    assert responses(said) == ["utter_reminders_stopped_medications"]
    assert not store.consent(RAMESH, "medications").opted_in and store.consent(RAMESH, "appointments").opted_in
    said, _ = ask(ramesh, "STOP", domain, intent="stop_messages")
    assert responses(said) == ["utter_reminders_stopped_appointments"]
    assert not store.consent(RAMESH, "appointments").opted_in
    history = store.consent_history(RAMESH)
    assert [c.method for c in history if c.status == "out"] == ["words", "words"]


def test_stop_without_reminders_keeps_the_honest_answer(store, domain):
    said, _ = ask(fresh_sender(), "stop reminders", domain, intent="stop_messages", slots={"role": None})
    assert responses(said) == ["utter_stop_messages"]


def test_stop_cancels_reminders_already_due(store, ramesh, domain):
    ask(ramesh, "remind me about my tablets", domain)
    row = dose_row(store)
    ask(ramesh, "stop reminders", domain, intent="stop_messages")
    assert store.notification(row).status == "cancelled"


# ---- the buttons --------------------------------------------------------------------------------------------------


def test_taken_and_skip_are_kept_as_adherence_and_answered_today(store, ramesh, domain):
    ask(ramesh, "remind me about my tablets at 8 am and 9 pm", domain)
    morning, night = dose_row(store, at="08:00"), dose_row(store, at="21:00")
    said, _ = press(ramesh, "reminder_taken", morning, domain)
    assert message(said, "utter_reminder_taken")["time"] == "8 am"
    said, _ = press(ramesh, "reminder_skip", night, domain)
    assert message(said, "utter_reminder_skipped")["time"] == "9 pm"
    answers = store.adherence_on(RAMESH, clock.today())
    assert [(a.scheduled_time, a.response) for a in answers] == [("08:00", "taken"), ("21:00", "skipped")]
    said, _ = ask(ramesh, "did i take my tablets today", domain, intent="ask_adherence")
    answer = message(said, "utter_adherence_today")
    assert (answer["taken_count"], answer["taken_times"]) == (1, "8 am")
    assert (answer["skipped_count"], answer["skipped_times"]) == (1, "9 pm")


def test_adherence_with_nothing_reported_says_so(store, ramesh, domain):
    said, _ = ask(ramesh, "did i take my meds today", domain, intent="ask_adherence")
    assert responses(said) == ["utter_adherence_none"]


def test_adherence_needs_a_login(store, domain):
    _, events = ask(fresh_sender(), "did i take my tablets today", domain, intent="ask_adherence", slots={"role": None})
    assert active_loop_of(events) == "patient_login_form"
    assert slots_set(events)["pending_request"] == "adherence"


def test_snooze_schedules_one_follow_up_half_an_hour_later(store, ramesh, domain):
    ask(ramesh, "remind me about my tablets", domain)
    row = dose_row(store, at="08:00")
    before = dt.datetime.now(dt.timezone.utc)
    said, _ = press(ramesh, "reminder_snooze", row, domain)
    press(ramesh, "reminder_snooze", row, domain)  # tapped twice: one follow-up
    assert responses(said) == ["utter_reminder_snoozed"]
    follow_up = store.by_key(f"snooze:{row}")
    assert follow_up is not None and follow_up.status == "scheduled" and follow_up.kind == "medication_reminder"
    assert dt.timedelta(minutes=29) < follow_up.due_at - before < dt.timedelta(minutes=31)
    assert follow_up.params == {
        "request_id": "req-1",
        "local_date": clock.today().isoformat(),
        "local_time": "08:00",
        "snooze_of": str(row),
    }
    assert store.adherence_on(RAMESH, clock.today())[0].response == "snoozed"


def test_a_button_from_another_phone_is_refused(store, ramesh, domain):
    ask(ramesh, "remind me about my tablets", domain)
    row = dose_row(store)
    stranger = fresh_sender()
    for intent in ("reminder_taken", "reminder_stop", "reminder_cancel"):
        said, _ = press(stranger, intent, row, domain)
        assert responses(said) == ["utter_reminder_not_yours"]
    said, _ = press(ramesh, "reminder_taken", 999999, domain)
    assert responses(said) == ["utter_reminder_not_yours"]
    assert store.adherence_on(RAMESH, clock.today()) == []
    assert store.consent(RAMESH, "medications").opted_in


def test_the_stop_button_stops_that_purpose(store, ramesh, domain):
    ask(ramesh, "remind me about my tablets and my appointments", domain)
    said, _ = press(ramesh, "reminder_stop", dose_row(store), domain)
    assert responses(said) == ["utter_reminders_stopped_medications"]
    assert not store.consent(RAMESH, "medications").opted_in and store.consent(RAMESH, "appointments").opted_in
    assert store.consent_history(RAMESH, "medications")[-1].method == "button"


def test_confirm_and_cancel_act_on_the_appointment_in_care(store, ramesh, domain):
    from actions.shared.clients import service

    ask(ramesh, "remind me about my appointments", domain)
    row = appointment_row(store)
    said, _ = press(ramesh, "reminder_confirm", row, domain)
    assert responses(said) == ["utter_reminder_confirmed"]
    said, _ = press(ramesh, "reminder_cancel", row, domain)
    assert responses(said) == ["utter_reminder_appointment_cancelled"]
    assert "Follow-up" not in texts(said, domain) and "diabetes" not in texts(said, domain)
    (found,) = [a for a in service().list_patient_appointments(RAMESH) if a.id == RAMESH_APPOINTMENT]
    assert found.status == "cancelled"
    said, _ = press(ramesh, "reminder_cancel", row, domain)
    assert responses(said) == ["utter_reminder_appointment_gone"]


def test_reschedule_needs_a_login(store, domain):
    sender = fresh_sender()
    log_in_patient(sender, "+919876543210", selected=RAMESH)
    ask(sender, "remind me about my appointments", domain)
    row = appointment_row(store)
    from actions.shared import who

    who.store().end(sender)  # the login ended; the consent stays
    said, events = press(sender, "reminder_reschedule", row, domain)
    assert responses(said)[0] == "utter_reminder_reschedule_login"
    assert active_loop_of(events) == "patient_login_form"
    assert slots_set(events)["pending_request"] == "book"


def test_a_database_failure_is_said_not_hidden(store, ramesh, domain, monkeypatch):
    from sqlalchemy.exc import OperationalError

    def broken(*args, **kwargs):
        raise OperationalError("statement", {}, Exception("database down"))

    ask(ramesh, "remind me about my tablets", domain)
    row = dose_row(store)
    for name in ("set_consent", "notification", "adherence_on"):
        monkeypatch.setattr(store, name, broken)
    said, _ = ask(ramesh, "remind me about my appointments", domain)
    assert responses(said) == ["utter_try_again_later"]
    said, _ = press(ramesh, "reminder_taken", row, domain)
    assert responses(said) == ["utter_try_again_later"]
    said, _ = ask(ramesh, "did i take my tablets today", domain, intent="ask_adherence")
    assert responses(said) == ["utter_try_again_later"]

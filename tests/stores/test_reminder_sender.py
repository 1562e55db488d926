"""The reminder sender, on SQLite and PostgreSQL, against an in-process CARE and Graph: what a patient gets (or
does not get) for a due reminder. Outside WhatsApp's 24 h window the registry's template, inside it an
interactive message; nothing after an opt-out, for a cancelled or moved appointment, a stopped medication, in
the quiet hours or too late; Graph's refusals handled by code, and a send that timed out never sent again."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import sqlalchemy as sa
from reminder_support import (
    IST,
    PHONE,
    SENDER,
    UTC,
    open_store,
    opt_in,
    opt_out,
    pg_schema,
    schedule_appointment,
    schedule_dose,
)

from connectors.whatsapp.graph import (
    GraphAuthError,
    GraphError,
    GraphOutcomeUnknown,
    GraphUnavailable,
    PairRateLimited,
    RateLimited,
    RecipientUnavailable,
    ReEngagementRequired,
)
from notifications.sender import SendConfig, Sender
from notifications.store import (
    CANCELLED,
    DELIVERED,
    FAILED,
    READ,
    SCHEDULED,
    SENDING,
    SENT,
    SKIPPED,
    UNKNOWN,
    NotificationStore,
    notifications,
)
from notifications.templates import button_payload, validate
from notifications.timing import APPOINTMENTS, MEDICATIONS, QuietHours
from notifications.webhooks import ReminderHooks
from sandbox.reminders import MemoryCare, RecordingGraph, medication_request

NOW = dt.datetime(2026, 12, 8, 9, 0, tzinfo=IST)  # a Tuesday morning in the hospital
SLOT = NOW + dt.timedelta(hours=2)
TODAY = NOW.date()
QUIET = QuietHours.parse("22:00-07:00")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path / 'assistant.db'}")
        yield opened
        opened.engine.dispose()
        return
    with pg_schema() as url:
        opened = open_store(url)
        yield opened
        opened.engine.dispose()


class Clock:
    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment.astimezone(UTC)

    def __call__(self) -> dt.datetime:
        return self.moment


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def care() -> MemoryCare:
    care = MemoryCare()
    care.add_appointment("ramesh", "appt-1", SLOT, booked_on=NOW - dt.timedelta(days=3))
    care.add_request("ramesh", medication_request("med-1", code="BID", authored_on=NOW - dt.timedelta(days=3)))
    return care


@pytest.fixture
def graph() -> RecordingGraph:
    return RecordingGraph()


@pytest.fixture
def sender(store, care, graph, clock) -> Sender:
    return Sender(store, care, graph, SendConfig(tz=IST, quiet=QUIET), now=clock)


def appointment_due(store: NotificationStore) -> int:
    opt_in(store, "ramesh", APPOINTMENTS)
    return schedule_appointment(store, "ramesh", "appt-1", SLOT, NOW - dt.timedelta(seconds=5))


def status(store: NotificationStore, notification_id: int) -> str:
    return store.notification(notification_id).status


# ---- template or interactive ----------------------------------------------------------------------------------


def test_outside_the_window_the_reminder_is_the_registry_template_with_its_id(store, sender, graph):
    nid = appointment_due(store)
    assert sender.run("w1").as_dict() == {"claimed": 1, "abandoned": 0, "sent": 1, "template": 1}
    (sent,) = graph.sent
    assert validate(sent, ours=True) == [] and sent["to"] == SENDER
    assert [p["text"] for p in sent["template"]["components"][0]["parameters"]] == [
        "Shimla District Hospital",
        "Tue 8 Dec",
        "11 am",
    ]
    row = store.notification(nid)
    assert (row.status, row.graph_message_id, row.claimed_by) == (SENT, "wamid.stand-in.1", None)


def test_inside_the_window_it_is_an_interactive_message_with_the_same_buttons(store, sender, graph):
    nid = appointment_due(store)
    store.record_inbound(SENDER, NOW - dt.timedelta(hours=3))
    sender.run("w1")
    (sent,) = graph.sent
    assert sent["type"] == "interactive" and sent["biz_opaque_callback_data"] == str(nid)
    content = sent["interactive"]
    assert "appointment on Tue 8 Dec at 11 am" in content["body"]["text"]
    assert [(b["reply"]["title"], b["reply"]["id"]) for b in content["action"]["buttons"]] == [
        ("Confirm", button_payload("reminder_confirm", nid)),
        ("Cancel", button_payload("reminder_cancel", nid)),
        ("Reschedule", button_payload("reminder_reschedule", nid)),
    ]
    assert "STOP" in content["footer"]["text"]  # WhatsApp allows 3 reply buttons: the 4th is a word


def test_a_window_about_to_close_gets_the_template(store, sender, graph):
    appointment_due(store)
    store.record_inbound(SENDER, NOW - dt.timedelta(hours=23, minutes=55))
    sender.run("w1")
    assert [p["type"] for p in graph.sent] == ["template"]


def test_131047_after_all_sends_the_template_at_once(store, sender, graph):
    nid = appointment_due(store)
    store.record_inbound(SENDER, NOW - dt.timedelta(hours=1))
    graph.fail_next(ReEngagementRequired("Re-engagement message", http_status=400, code=131047))
    assert sender.run("w1").outcomes["sent"] == 1
    assert [p["type"] for p in graph.sent] == ["template"] and status(store, nid) == SENT


# ---- nothing the patient should not get -----------------------------------------------------------------------


def test_an_opt_out_before_the_send_stops_it(store, sender, graph):
    nid = appointment_due(store)
    opt_out(store, "ramesh", APPOINTMENTS)
    sender.run("w1")
    assert graph.sent == [] and status(store, nid) == CANCELLED


def test_an_opt_out_while_the_worker_holds_the_claim_stops_it_too(store, care, graph, clock):
    class OptOutDuringTheCheck(MemoryCare):
        def appointments(self, patient_id):
            opt_out(store, "ramesh", APPOINTMENTS)  # lands between the claim and the send
            return care.appointments(patient_id)

    nid = appointment_due(store)
    outcome = Sender(store, OptOutDuringTheCheck(), graph, SendConfig(tz=IST), now=clock).run("w1")
    assert graph.sent == [] and status(store, nid) == CANCELLED and outcome.outcomes["lost"] == 1


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"status": "cancelled"}, "appointment cancelled in CARE"),
        ({"status": "rescheduled"}, "appointment cancelled in CARE"),
        ({"start": SLOT + dt.timedelta(days=1)}, "appointment moved in CARE"),
    ],
)
def test_an_appointment_cancelled_or_moved_in_care_is_not_reminded(store, sender, care, graph, change, reason):
    nid = appointment_due(store)
    care.set_appointment("ramesh", "appt-1", **change)
    sender.run("w1")
    row = store.notification(nid)
    assert graph.sent == [] and (row.status, row.reason) == (SKIPPED, reason)


def test_a_reminder_whose_appointment_has_begun_is_not_sent(store, sender, graph, clock):
    nid = appointment_due(store)
    clock.moment = SLOT.astimezone(UTC) + dt.timedelta(minutes=1)
    sender.run("w1")
    assert graph.sent == [] and store.notification(nid).reason == "the appointment time has passed"


def test_care_unavailable_puts_the_reminder_off_and_sends_nothing(store, sender, care, graph):
    nid = appointment_due(store)
    care.down = True
    assert sender.run("w1").outcomes["rescheduled"] == 1
    row = store.notification(nid)
    assert graph.sent == [] and row.status == SCHEDULED and row.due_at > NOW


# ---- medication reminders -------------------------------------------------------------------------------------


def medication_due(store, clock, at="08:00", chosen=False, times=None) -> int:
    opt_in(store, "ramesh", MEDICATIONS, medication_times=times)
    nid = schedule_dose(store, "ramesh", "med-1", TODAY, at, chosen=chosen)
    clock.moment = store.notification(nid).due_at + dt.timedelta(seconds=20)
    return nid


def test_a_dose_reminder_says_the_time_and_nothing_else(store, sender, graph, clock):
    medication_due(store, clock)
    sender.run("w1")
    (sent,) = graph.sent
    assert sent["template"]["name"] == "medication_reminder"
    assert sent["template"]["components"][0]["parameters"] == [{"type": "text", "text": "8 am"}]
    assert "a medicine" not in str(sent)  # CARE's drug name never leaves in a reminder


def test_a_horizon_sends_the_reminders_due_within_it_now_each_checked_as_at_its_own_time(store, sender, graph, clock):
    opt_in(store, "ramesh", MEDICATIONS)
    evening = schedule_dose(store, "ramesh", "med-1", TODAY, "20:00")  # 11 h after the clock's 9 am
    assert sender.run("w1").claimed == 0 and sender.run("w1", horizon=dt.timedelta(hours=10)).claimed == 0
    sender.run("w1", horizon=dt.timedelta(hours=12))
    (sent,) = graph.sent
    assert sent["template"]["components"][0]["parameters"] == [{"type": "text", "text": "8 pm"}]
    assert status(store, evening) == SENT
    # checked at its own time: a dose in the quiet hours is not sent ahead of them either
    late = schedule_dose(store, "ramesh", "med-1", TODAY, "23:00")
    sender.run("w1", horizon=dt.timedelta(hours=24))
    assert len(graph.sent) == 1 and store.notification(late).reason == "quiet hours"


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"status": "completed"}, "medication no longer active in CARE"),
        ({"status": "stopped"}, "medication no longer active in CARE"),
        (
            {"dosage_instruction": medication_request("med-1", code="QD")["dosage_instruction"]},
            "medication times changed in CARE",
        ),
    ],
)
def test_a_medication_stopped_or_changed_in_care_is_not_reminded(store, sender, care, graph, clock, change, reason):
    nid = medication_due(store, clock, at="20:00")
    care.set_request("ramesh", "med-1", **change)
    sender.run("w1")
    assert graph.sent == [] and store.notification(nid).reason == reason


def test_a_dose_reminder_delayed_into_the_quiet_hours_is_not_sent_but_a_chosen_time_is(store, sender, graph, clock):
    late = medication_due(store, clock, at="20:00")
    clock.moment = dt.datetime(2026, 12, 8, 22, 5, tzinfo=IST).astimezone(UTC)
    sender.run("w1")
    assert graph.sent == [] and store.notification(late).reason in ("quiet hours", "too late for this dose")
    chosen = medication_due(store, clock, at="22:30", chosen=True, times=["08:00", "22:30"])
    sender.run("w1")
    assert graph.ids() == [str(chosen)]


def test_a_dose_reminder_more_than_an_hour_late_is_not_sent(store, sender, graph, clock):
    nid = medication_due(store, clock, at="08:00")
    clock.moment += dt.timedelta(minutes=61)
    sender.run("w1")
    assert graph.sent == [] and store.notification(nid).reason == "too late for this dose"


# ---- Graph's answers ------------------------------------------------------------------------------------------


def test_a_send_that_timed_out_is_unknown_never_sent_again_and_settled_by_its_webhook(store, sender, graph, clock):
    nid = appointment_due(store)
    graph.fail_next(GraphOutcomeUnknown("timeout"))
    assert sender.run("w1").outcomes["unknown"] == 1
    clock.moment += dt.timedelta(hours=1)
    assert sender.run("w2").claimed == 0 and graph.sent == []
    hooks = ReminderHooks(lambda: store)
    assert hooks.record_status(status="delivered", message_id="wamid.X", callback_data=str(nid), error_code=None)
    assert (store.notification(nid).status, store.notification(nid).graph_message_id) == (DELIVERED, "wamid.X")


@pytest.mark.parametrize(
    "error, final, code",
    [
        (RecipientUnavailable("undeliverable", code=131026), FAILED, 131026),
        (GraphError("limit", code=131049), FAILED, 131049),
        (GraphError("stopped", code=131050), FAILED, 131050),
        (GraphError("paused", code=132015), FAILED, 132015),
        (GraphError("disabled", code=132016), FAILED, 132016),
        (RateLimited("rate limit", code=130429, retry_after=90), SCHEDULED, None),
        (PairRateLimited("pair rate limit", code=131056), SCHEDULED, None),
        (GraphUnavailable("5xx", code=131000), SCHEDULED, None),
        (GraphAuthError("token expired", code=190), SCHEDULED, None),
    ],
)
def test_graph_refusals_by_code(store, sender, graph, clock, error, final, code):
    nid = appointment_due(store)
    graph.fail_next(error)
    sender.run("w1")
    row = store.notification(nid)
    assert (row.status, row.error_code) == (final, code) and graph.sent == []
    if final == SCHEDULED:  # due again later, not at once
        assert row.due_at > clock.moment
        if error.retry_after:
            assert row.due_at >= clock.moment + dt.timedelta(seconds=90)
    sender.run("w1")
    assert graph.sent == []  # nothing is resent at once, whatever the code


def test_a_paused_template_is_logged_as_an_error(store, sender, graph, caplog):
    appointment_due(store)
    graph.fail_next(GraphError("paused", code=132015))
    with caplog.at_level(logging.ERROR, logger="notifications.sender"):
        sender.run("w1")
    assert "appointment_reminder" in caplog.text and "paused" in caplog.text
    assert PHONE[-8:] not in caplog.text


def test_a_template_synced_as_not_approved_is_not_sent_and_an_approved_one_is(store, sender, graph, caplog):
    store.set_template_status("appointment_reminder", "en", "PAUSED")
    nid = appointment_due(store)
    with caplog.at_level(logging.ERROR, logger="notifications.sender"):
        sender.run("w1")
    assert graph.sent == [] and status(store, nid) == FAILED
    assert "appointment_reminder" in caplog.text and "PAUSED" in caplog.text
    store.set_template_status("appointment_reminder", "en", "APPROVED")
    schedule_appointment(store, "ramesh", "appt-1", SLOT, NOW - dt.timedelta(seconds=5), tag="again")
    sender.run("w1")
    assert len(graph.sent) == 1 and graph.sent[0]["type"] == "template"


def test_a_worker_that_stopped_mid_send_leaves_the_row_unknown_not_claimable(store, sender, graph, clock):
    nid = appointment_due(store)
    (claimed,) = store.claim_due(clock.moment, "dead-worker", claim_seconds=30)
    assert store.begin_send(claimed.id, "dead-worker") is True
    assert store.begin_send(claimed.id, "dead-worker") is False  # once
    clock.moment += dt.timedelta(seconds=31)
    assert sender.run("w2").as_dict() == {"claimed": 0, "abandoned": 1}
    assert status(store, nid) == UNKNOWN and graph.sent == []


def test_a_claim_that_ran_out_and_was_taken_over_cannot_be_begun_by_its_first_worker(store, clock):
    appointment_due(store)
    (first,) = store.claim_due(clock.moment, "slow-worker", claim_seconds=30)
    (again,) = store.claim_due(clock.moment + dt.timedelta(seconds=31), "w2")
    assert store.begin_send(first.id, "slow-worker") is False and store.begin_send(again.id, "w2") is True
    assert status(store, first.id) == SENDING


# ---- status webhooks ------------------------------------------------------------------------------------------


def test_status_webhooks_move_a_sent_reminder_on_and_131047_makes_it_a_template(store, sender, graph, clock):
    hooks = ReminderHooks(lambda: store)
    nid = appointment_due(store)
    store.record_inbound(SENDER, NOW - dt.timedelta(hours=1))
    sender.run("w1")
    wamid = store.notification(nid).graph_message_id
    assert hooks.record_status(status="read", message_id=wamid, callback_data=str(nid), error_code=None)
    assert status(store, nid) == READ
    assert not hooks.record_status(status="read", message_id="wamid.other", callback_data="", error_code=None)
    assert not hooks.record_status(status="deleted", message_id=wamid, callback_data=str(nid), error_code=None)

    later = schedule_appointment(store, "ramesh", "appt-1", SLOT, NOW, tag="1h")
    sender.run("w1")  # interactive: the window looked open
    hooks.record_status(status="failed", message_id="wamid.Y", callback_data=str(later), error_code=131047)
    assert (status(store, later), store.notification(later).error_code) == (SCHEDULED, 131047)
    sender.run("w1")
    assert [p["type"] for p in graph.sent] == ["interactive", "interactive", "template"]
    assert graph.ids()[-1] == str(later)


def test_no_number_is_kept_for_the_window(store):
    store.record_inbound(SENDER, NOW)
    store.record_inbound(SENDER, NOW - dt.timedelta(hours=5))  # a late redelivery keeps the newer time
    assert store.last_inbound(store.keys.pseudonym(SENDER)) == NOW
    with store.engine.connect() as conn:
        raw = str(conn.execute(sa.text("SELECT * FROM whatsapp_windows")).all())
    assert SENDER not in raw and SENDER[-8:] not in raw


def test_the_rows_params_hold_no_phone_or_name(store, sender, graph):
    appointment_due(store)
    sender.run("w1")
    with store.engine.connect() as conn:
        raw = str(conn.execute(sa.select(notifications)).all())
    assert SENDER[-8:] not in raw and "Shimla" not in raw


def test_a_snoozed_dose_is_sent_at_its_own_time_even_in_the_quiet_hours(store, sender, graph, clock):
    opt_in(store, "ramesh", MEDICATIONS)
    due = dt.datetime(2026, 12, 8, 22, 20, tzinfo=IST)  # "snooze 30 min" on the 21:50 reminder the patient chose
    store.schedule(
        "snooze:41",
        patient_id="ramesh",
        purpose=MEDICATIONS,
        kind="medication_reminder",
        due_at=due,
        params={"request_id": "med-1", "local_date": TODAY.isoformat(), "local_time": "21:50", "snooze_of": "41"},
    )
    clock.moment = due.astimezone(UTC) + dt.timedelta(seconds=10)
    sender.run("w1")
    (sent,) = graph.sent
    assert sent["template"]["components"][0]["parameters"] == [{"type": "text", "text": "9:50 pm"}]

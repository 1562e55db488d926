"""Reminders from the chat: opting in (per patient and purpose, from this phone), "did I take my tablets
today?", and the answers to a reminder's buttons.

Consent is the notification store's (notifications/store.py), keyed by patient and purpose and tied to the
sender who gave it (by pseudonym): family members on one phone opt in separately, for the patient in focus.
Every change is stored with its method and the words the user was shown (the confirmation's own text).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.patient import access
from actions.patient.family import Member
from actions.shared import clock, turn
from common.dates import format_time
from common.reminder_words import APPOINTMENTS, MEDICATIONS
from notifications.store import Notification, NotificationStore, get_notification_store
from sessions.store import Login

log = logging.getLogger(__name__)

REMIND = "remind"  # pending_request: "remind|medications+appointments|08:00+21:00"
ADHERENCE = "adherence"  # pending_request: "did I take my tablets today?"
_SEP, _LIST = "|", "+"
SNOOZE_MINUTES = 30

# written out so that every response sent is findable by name (tests/rasa/test_project.py)
STOPPED_RESPONSE = {
    MEDICATIONS: dict(response="utter_reminders_stopped_medications"),
    APPOINTMENTS: dict(response="utter_reminders_stopped_appointments"),
}


def notification_store() -> NotificationStore:
    return get_notification_store()


def reminder_request(purposes: tuple[str, ...] | list[str], times: list[str]) -> str:
    return _SEP.join((REMIND, _LIST.join(purposes), _LIST.join(times)))


def is_reminder_request(pending: str | None) -> bool:
    return bool(pending) and str(pending).startswith(REMIND + _SEP)


def parse_request(pending: str) -> tuple[tuple[str, ...], list[str]]:
    _, _, rest = pending.partition(_SEP)
    purposes, _, times = rest.partition(_SEP)
    known = tuple(p for p in purposes.split(_LIST) if p in (MEDICATIONS, APPOINTMENTS))
    return known, [t for t in times.split(_LIST) if t]


def _times_text(times: list[str]) -> str:
    return ", ".join(format_time(dt.time.fromisoformat(t)) for t in times)


async def opt_in(
    pending: str,
    domain: DomainDict,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    login: Login,
    member: Member,
    fresh: bool = False,
) -> list[EventType]:
    """Opt the patient in focus in for the purposes in `pending`, from this phone; confirm what was set."""
    purposes, times = parse_request(pending)
    phone = access.sender_phone(tracker)
    if phone is None or not purposes:
        dispatcher.utter_message(response="utter_reminders_no_phone")
        return []
    try:
        return _opt_in(purposes, times, phone, domain, dispatcher, tracker, member)
    except SQLAlchemyError as exc:  # the assistant database: nothing was promised that is not stored
        log.error("reminder opt-in not recorded: %s", type(exc).__name__)
        dispatcher.utter_message(response="utter_try_again_later")
        return []


def _opt_in(
    purposes: tuple[str, ...],
    times: list[str],
    phone: str,
    domain: DomainDict,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    member: Member,
) -> list[EventType]:
    store = notification_store()
    for purpose in purposes:
        if purpose == MEDICATIONS and times:
            response = "utter_reminders_set_medications_at"
        elif purpose == MEDICATIONS:
            response = "utter_reminders_set_medications"
        else:
            response = "utter_reminders_set_appointments"
        values = {"patient_name": member.name, "times": _times_text(times)}
        shown = turn.render(domain, response, **values)
        store.set_consent(
            member.id,
            purpose,
            opted_in=True,
            sender=tracker.sender_id,
            phone_e164=phone,
            method="words",
            wording_shown=shown,
            medication_times=list(times) if purpose == MEDICATIONS else None,
        )
        dispatcher.utter_message(response=response, **values)
    log.info("reminder opt-in recorded (%s)", ",".join(purposes))  # no name, no number
    return []


async def show_adherence(
    dispatcher: CollectingDispatcher, tracker: Tracker, login: Login, member: Member, fresh: bool = False
) -> list[EventType]:
    """What the patient reported today (hospital day) from the reminders' buttons: taken and skipped doses."""
    try:
        answers = notification_store().adherence_on(member.id, clock.today())
    except SQLAlchemyError as exc:
        log.error("adherence not read: %s", type(exc).__name__)
        dispatcher.utter_message(response="utter_try_again_later")
        return []
    taken = [a.scheduled_time for a in answers if a.response == "taken"]
    skipped = [a.scheduled_time for a in answers if a.response == "skipped"]
    if not taken and not skipped:
        dispatcher.utter_message(response="utter_adherence_none", patient_name=member.name)
        return []
    dispatcher.utter_message(
        response="utter_adherence_today",
        patient_name=member.name,
        taken_count=len(taken),
        taken_times=_times_text(taken) or "-",
        skipped_count=len(skipped),
        skipped_times=_times_text(skipped) or "-",
    )
    return []


# ---- a reminder's buttons -------------------------------------------------------------------------------------


def own_notification(tracker: Tracker) -> Notification | None:
    """The reminder a button was pressed on, only if its consent was given from this very phone."""
    value = turn.entity(tracker, "notification_id")
    if not value:
        return None
    store = notification_store()
    row = store.notification(value)
    if row is None:
        return None
    consent = store.consent(row.patient_id, row.purpose)
    if consent is None or consent.sender_pseudonym != store.keys.pseudonym(tracker.sender_id or ""):
        log.warning("a reminder button for a notification of another sender was refused")
        return None
    return row


def dose_of(row: Notification) -> tuple[str, dt.date, str] | None:
    params = row.params
    try:
        return str(params["request_id"]), dt.date.fromisoformat(str(params["local_date"])), str(params["local_time"])
    except (KeyError, ValueError):
        return None


def record_dose(row: Notification, response: str) -> str | None:
    """Taken / skipped / snoozed for the dose of a medication reminder; its time as said to the user."""
    dose = dose_of(row)
    if row.purpose != MEDICATIONS or dose is None:
        return None
    request_id, day, time_text = dose
    notification_store().record_adherence(row.patient_id, request_id, day, time_text, response, notification_id=row.id)
    return format_time(dt.time.fromisoformat(time_text))


def snooze(row: Notification, now: dt.datetime) -> dt.datetime | None:
    """A follow-up reminder of the same dose SNOOZE_MINUTES from now (once per reminder, however often it is
    tapped); returns when it is due."""
    dose = dose_of(row)
    if row.purpose != MEDICATIONS or dose is None:
        return None
    request_id, day, time_text = dose
    due = now + dt.timedelta(minutes=SNOOZE_MINUTES)
    store = notification_store()
    store.record_adherence(row.patient_id, request_id, day, time_text, "snoozed", notification_id=row.id)
    params: dict[str, Any] = {
        "request_id": request_id,
        "local_date": day.isoformat(),
        "local_time": time_text,
        "snooze_of": str(row.id),
    }
    store.schedule(
        f"snooze:{row.id}", patient_id=row.patient_id, purpose=MEDICATIONS, kind=row.kind, due_at=due, params=params
    )
    return due


def stop_purpose(row: Notification, tracker: Tracker, domain: DomainDict, method: str) -> str:
    """Opt the reminder's patient out of its purpose; the response that says so."""
    response = STOPPED_RESPONSE.get(row.purpose, dict(response="utter_reminders_stopped"))["response"]
    notification_store().set_consent(
        row.patient_id,
        row.purpose,
        opted_in=False,
        sender=tracker.sender_id,
        phone_e164=access.sender_phone(tracker) or "",
        method=method,
        wording_shown=turn.render(domain, response),
    )
    return response

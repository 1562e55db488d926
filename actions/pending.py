"""The pending-request router: a request that had to wait (for a login, or for the choice of whose record)
is answered here once it can be, and every patient request is answered here for the right family member.

`pending_request` holds what waits: a section (records, medications, past_medications, appointments,
procedures, maybe with a day as `appointments@<ISO day>`), book / cancel, adherence ("did I take my tablets
today?") or a reminder opt-in with its purposes and times (`remind|medications|08:00+21:00`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.care.errors import CareUnauthenticated
from actions.patient import access
from actions.patient.appointments import split_request
from actions.patient.booking import BOOK, start_booking_form
from actions.patient.cancelling import CANCEL, cancel_for
from actions.patient.family import Member, ask_whose, family, mention, names_text, select, selected
from actions.patient.reminders import ADHERENCE, is_reminder_request, opt_in, show_adherence
from actions.patient.sections import (
    APPOINTMENTS,
    MEDICATIONS,
    PAST_MEDICATIONS,
    PROCEDURES,
    RECORDS,
    show_appointments,
    show_medications,
    show_past_medications,
    show_procedures,
    show_records,
)
from actions.shared import turn, who
from actions.shared.errors import CARE_ERRORS, explain
from actions.shared.forms import clear
from actions.shared.who import PATIENT
from sessions.store import Login

log = logging.getLogger(__name__)

# (dispatcher, tracker, login, member, fresh): `fresh` when the request is the latest message (not resumed)
Show = Callable[[CollectingDispatcher, Tracker, Login, Member, bool], Awaitable[list[EventType]]]


async def book(
    dispatcher: CollectingDispatcher, tracker: Tracker, login: Login, member: Member, fresh: bool = False
) -> list[EventType]:
    return await start_booking_form(dispatcher, tracker, login, from_message=fresh)


async def cancel(
    dispatcher: CollectingDispatcher, tracker: Tracker, login: Login, member: Member, fresh: bool = False
) -> list[EventType]:
    return await cancel_for(dispatcher, tracker, login, member, fresh)


SHOW: dict[str, Show] = {
    BOOK: book,
    CANCEL: cancel,
    RECORDS: show_records,
    MEDICATIONS: show_medications,
    PAST_MEDICATIONS: show_past_medications,
    APPOINTMENTS: show_appointments,
    PROCEDURES: show_procedures,
    ADHERENCE: show_adherence,
}


def show_for(section: str, domain: DomainDict) -> Show | None:
    """What answers `section`: a reminder opt-in carries its purposes and times in the request itself."""
    if is_reminder_request(section):
        return functools.partial(opt_in, section, domain)
    return SHOW.get(section)


async def answer(
    pending: str,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
    login: Login,
    from_message: bool = False,
) -> list[EventType]:
    """Answer `pending` for the patient the message is about (or the selected one)."""
    events: list[EventType] = [SlotSet("role", PATIENT)]
    section, days = split_request(pending)
    try:
        members = await family(login)
        current = selected(login, members)
        target = current
        if from_message:
            # in a booking the names are doctors' more often than relatives': only family names count there
            person = None if section in (BOOK, CANCEL) else turn.entity(tracker, "person")
            found = mention(turn.latest_text(tracker), person, turn.entity(tracker, "relation"), members, current)
            if found.kind == "outsider":
                dispatcher.utter_message(response="utter_not_family", names=names_text(members))
                return events
            if found.kind == "ambiguous":
                return events + ask_whose(pending)
            if found.member is not None:
                target = found.member
        if target is None:  # several people and none chosen yet
            return events + ask_whose(pending)
        if current is None or target.id != current.id:
            events += select(tracker, login, target)
            if current is not None:
                dispatcher.utter_message(response="utter_patient_switched", patient_name=target.name)
        elif not tracker.get_slot("patient_name"):
            events.append(SlotSet("patient_name", target.name))
        if section == APPOINTMENTS and days is not None:
            return events + await show_appointments(dispatcher, tracker, login, target, from_message, days=days)
        show = show_for(section, domain)
        if show is None:
            log.warning("unknown request %r dropped", pending)
            return events
        return events + await show(dispatcher, tracker, login, target, from_message)
    except CareUnauthenticated as exc:
        if not from_message:  # refused right after a login: say so, don't loop into another login
            return events + explain(dispatcher, tracker, exc)
        # CARE's hour is over (or CARE restarted): log in again, then answer this very request
        who.store().end(tracker.sender_id)
        dispatcher.utter_message(response="utter_session_expired")
        return access.start_login(tracker, pending=pending)
    except CARE_ERRORS as exc:
        return events + explain(dispatcher, tracker, exc)


async def resume(
    pending: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, login: Login
) -> list[EventType]:
    """Answer the request that waited for a login or a choice of patient."""
    if show_for(split_request(pending)[0], domain) is not None:
        return await answer(pending, dispatcher, tracker, domain, login)
    log.warning("unknown pending request %r dropped", pending)
    return []


class ActionPatientSwitched(Action):
    """After the switch form: say whose record is open now, and answer what was asked, if anything."""

    def name(self) -> str:
        return "action_patient_switched"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events = clear("patient_choice", "form_stopped")
        pending = tracker.get_slot("pending_request")
        login = access.patient_login(tracker)
        if tracker.get_slot("form_stopped") or login is None:
            return events + [SlotSet("pending_request", None)]
        events.append(SlotSet("pending_request", None))
        if pending in (None, "switch", "login"):
            dispatcher.utter_message(response="utter_patient_switched", patient_name=tracker.get_slot("patient_name"))
            return events
        return events + await resume(pending, dispatcher, tracker, domain, login)


class ActionPatientLoginDone(Action):
    """After the login form: welcome, and answer the request that needed the login."""

    def name(self) -> str:
        return "action_patient_login_done"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events = clear(
            "login_phone", "login_other_number", "login_code", "patient_choice", "form_stopped", "pending_request"
        )
        who.store().clear_expectation(tracker.sender_id)
        login = access.patient_login(tracker)
        if tracker.get_slot("form_stopped") or login is None:
            return events
        name = tracker.get_slot("patient_name")
        if not name:
            try:
                member = selected(login, await family(login))
            except CARE_ERRORS as exc:
                return events + explain(dispatcher, tracker, exc)
            name = member.name if member else ""
            events.append(SlotSet("patient_name", name or None))
        pending = tracker.get_slot("pending_request")
        if pending in (None, "login", "switch"):
            if len(login.patient_ids) > 1:
                dispatcher.utter_message(response="utter_patient_chosen", patient_name=name)
            else:
                dispatcher.utter_message(response="utter_logged_in", patient_name=name)
            return events
        if len(login.patient_ids) > 1:  # "logged in" was said before the family list
            dispatcher.utter_message(response="utter_patient_switched", patient_name=name)
        else:
            dispatcher.utter_message(response="utter_logged_in_short", patient_name=name)
        return events + await resume(pending, dispatcher, tracker, domain, login)

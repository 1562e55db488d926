"""The shared personal intents: get_records, get_medications, get_appointments, get_procedures.

One action per intent decides by who is logged in (docs/dialogue-contract.md):
- staff -> `actions.staff.summary.show_section(section, ...)`;
- nobody -> the patient login, and the request is answered once it succeeds (`pending_request`);
- a patient -> the selected family member's data, or another member's when the message names one
  ("show my father's appointments"); a name outside the family is refused, never searched.
Appointments asked about by day ("any appointment tomorrow?") answer for that day first
(actions/patient/appointments.py); the day waits in `pending_request` as `appointments@<ISO day>`.
"""
from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from typing import Any, Awaitable, Callable

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from rasa_sdk.utils import call_potential_coroutine

from actions import formatting
from actions.care.errors import CareUnauthenticated
from actions.patient import access
from actions.patient.access import patient_api, read_for
from actions.patient.appointments import Days, asked_days, request_for, show_days, split_request, upcoming
from actions.patient.family import Member, ask_whose, family, mention, names_text, select, selected
from actions.shared import clients, clock, turn, who
from actions.shared.clients import care_call
from actions.shared.errors import CARE_ERRORS, explain
from actions.shared.who import PATIENT, STAFF
from sessions.store import Login

log = logging.getLogger(__name__)

RECORDS, MEDICATIONS, PAST_MEDICATIONS, APPOINTMENTS, PROCEDURES = (
    "records", "medications", "past_medications", "appointments", "procedures")
BOOK, CANCEL = "book", "cancel"
HEADER_ROOM = 200  # the response's own heading, in front of the first chunk

_PAST_RE = re.compile(r"\b(past|old|older|previous|earlier|stopped|finished|completed|history)\b", re.I)

# (dispatcher, tracker, login, member, fresh): `fresh` when the request is the latest message (not resumed)
Show = Callable[[CollectingDispatcher, Tracker, Login, Member, bool], Awaitable[list[EventType]]]


# ------------------------------------------------------------------------------------------- actions

class PersonalRequest(Action, ABC):
    section: str = ""

    @abstractmethod
    def name(self) -> str:
        """action_get_<section>"""

    def pending(self, tracker: Tracker) -> str:
        return self.section

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        login = who.current_login(tracker)
        if login is not None and login.kind == STAFF:
            return await staff_section(self.section, dispatcher, tracker, domain)
        if login is None:
            return needs_login(dispatcher, tracker, self.pending(tracker))
        return await answer(self.pending(tracker), dispatcher, tracker, domain, login, from_message=True)


class ActionGetRecords(PersonalRequest):
    section = RECORDS

    def name(self) -> str:
        return "action_get_" + self.section


class ActionGetMedications(PersonalRequest):
    section = MEDICATIONS

    def name(self) -> str:
        return "action_get_" + self.section

    def pending(self, tracker: Tracker) -> str:
        period = turn.entity(tracker, "medication_period")
        wants_past = period.lower() != "current" if period else bool(_PAST_RE.search(turn.latest_text(tracker)))
        return PAST_MEDICATIONS if wants_past else MEDICATIONS


class ActionGetAppointments(PersonalRequest):
    section = APPOINTMENTS

    def name(self) -> str:
        return "action_get_" + self.section

    def pending(self, tracker: Tracker) -> str:
        """`appointments`, or `appointments@<ISO day>` when the message names a day ("... tomorrow")."""
        return request_for(self.section, asked_days(turn.latest_text(tracker)))


class ActionGetProcedures(PersonalRequest):
    section = PROCEDURES

    def name(self) -> str:
        return "action_get_" + self.section


def needs_login(dispatcher: CollectingDispatcher, tracker: Tracker, pending: str) -> list[EventType]:
    """Nobody logged in: start the login (or, during one, just remember what to answer after it)."""
    if tracker.active_loop_name == "patient_login_form":
        dispatcher.utter_message(response="utter_after_login")
        return [SlotSet("pending_request", pending)]
    if tracker.get_slot("role") == PATIENT:
        dispatcher.utter_message(response="utter_session_expired")
    return access.start_login(tracker, pending=pending)


async def staff_section(section: str, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: DomainDict) -> list[EventType]:
    """A staff login: the staff part answers (its module may not exist yet: then say so plainly)."""
    try:
        from actions.staff.summary import show_section
    except ImportError:
        dispatcher.utter_message(response="utter_staff_feature_unavailable")
        return []
    return list(await call_potential_coroutine(show_section(section, dispatcher, tracker, domain)) or [])


# ------------------------------------------------------------------------------------------- answering

async def answer(pending: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict,
                 login: Login, from_message: bool = False) -> list[EventType]:
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
            found = mention(turn.latest_text(tracker), person,
                            turn.entity(tracker, "relation"), members, current)
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
        return events + await SHOW[section](dispatcher, tracker, login, target, from_message)
    except CareUnauthenticated as exc:
        if not from_message:  # refused right after a login: say so, don't loop into another login
            return events + explain(dispatcher, tracker, exc)
        # CARE's hour is over (or CARE restarted): log in again, then answer this very request
        who.store().end(tracker.sender_id)
        dispatcher.utter_message(response="utter_session_expired")
        return access.start_login(tracker, pending=pending)
    except CARE_ERRORS as exc:
        return events + explain(dispatcher, tracker, exc)


async def resume(pending: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict,
                 login: Login) -> list[EventType]:
    """Answer the request that waited for a login or a choice of patient."""
    if split_request(pending)[0] in SHOW:
        return await answer(pending, dispatcher, tracker, domain, login)
    log.warning("unknown pending request %r dropped", pending)
    return []


def send(dispatcher: CollectingDispatcher, blocks: list[str], *, response: str, **values: Any) -> None:
    """A list of records: the first message carries the heading, the rest continue it (each < the limit)."""
    chunks = formatting.pack(blocks, access.max_length(), first_overhead=HEADER_ROOM)
    for i, chunk in enumerate(chunks):
        if i == 0:
            dispatcher.utter_message(response=response, items=chunk, **values)
        else:
            dispatcher.utter_message(response="utter_list_continued", items=chunk)


# ------------------------------------------------------------------------------------------- the sections

async def show_records(dispatcher: CollectingDispatcher, tracker: Tracker, login: Login,
                       member: Member, fresh: bool = False) -> list[EventType]:
    encounters = await read_for(login, member.id, clients.service().list_encounters)
    if not encounters:
        dispatcher.utter_message(response="utter_records_empty", patient_name=member.name)
        return []
    diagnoses = await read_for(login, member.id, clients.service().list_diagnoses)
    blocks = formatting.encounter_blocks(encounters, diagnoses, clock.timezone_name(), clock.today())
    send(dispatcher, response="utter_records", blocks=blocks, patient_name=member.name, count=len(encounters))
    return []


async def show_medications(dispatcher: CollectingDispatcher, tracker: Tracker, login: Login,
                           member: Member, fresh: bool = False, past: bool = False) -> list[EventType]:
    meds = await read_for(login, member.id, clients.service().list_medication_requests)
    current = [m for m in meds if m.is_active]
    earlier = [m for m in meds if not m.is_active and m.status != "entered_in_error"]
    tz, today = clock.timezone_name(), clock.today()
    if past:
        if earlier:
            send(dispatcher, response="utter_medications_past", blocks=formatting.medication_blocks(earlier, tz, today, past=True),
                 patient_name=member.name)
        else:
            dispatcher.utter_message(response="utter_medications_past_empty", patient_name=member.name)
        return []
    if not current:
        dispatcher.utter_message(response="utter_medications_empty", patient_name=member.name)
    else:
        send(dispatcher, response="utter_medications", blocks=formatting.medication_blocks(current, tz, today),
             patient_name=member.name)
    if earlier:
        # the payload's braces would be read as a template variable in the domain, so the button is added here
        dispatcher.utter_message(response="utter_medications_past_offer", count=len(earlier),
                                 buttons=[{"title": "Show earlier ones",
                                           "payload": '/get_medications{"medication_period":"past"}'}])
    return []


async def show_past_medications(dispatcher: CollectingDispatcher, tracker: Tracker, login: Login,
                                member: Member, fresh: bool = False) -> list[EventType]:
    return await show_medications(dispatcher, tracker, login, member, fresh, past=True)


async def upcoming_appointments(login: Login, member: Member) -> list[Any]:
    """The member's booked appointments from now on (CARE's patient list has every phone member's)."""
    return upcoming(await care_call(patient_api(login).list_appointments), member.id)


async def show_appointments(dispatcher: CollectingDispatcher, tracker: Tracker, login: Login,
                            member: Member, fresh: bool = False, days: Days | None = None) -> list[EventType]:
    if days is not None:  # "any appointment tomorrow?": that day first
        return await show_days(dispatcher, login, member, days)
    coming = await upcoming_appointments(login, member)
    if not coming:
        dispatcher.utter_message(response="utter_appointments_empty", patient_name=member.name)
        return []
    send(dispatcher, response="utter_appointments", blocks=formatting.appointment_blocks(coming, clock.timezone_name(), clock.today()),
         patient_name=member.name)
    return []


async def show_procedures(dispatcher: CollectingDispatcher, tracker: Tracker, login: Login,
                          member: Member, fresh: bool = False) -> list[EventType]:
    encounters = await read_for(login, member.id, clients.service().list_encounters)
    found = []
    for enc in encounters:
        if enc.patient_id and enc.patient_id != member.id:
            continue  # defence in depth: CARE filtered by patient already
        found += await clients.call_service(clients.service().list_service_requests, enc.facility_id, enc.id)
    found = [sr for sr in found if sr.status != "entered_in_error"]
    if not found:
        dispatcher.utter_message(response="utter_procedures_empty", patient_name=member.name)
        return []
    send(dispatcher, response="utter_procedures", blocks=formatting.service_request_blocks(found, clock.timezone_name(), clock.today()),
         patient_name=member.name)
    return []


async def book(dispatcher: CollectingDispatcher, tracker: Tracker, login: Login, member: Member,
               fresh: bool = False) -> list[EventType]:
    from actions.patient.booking import start_booking_form  # late: booking imports this module

    return await start_booking_form(dispatcher, tracker, login, from_message=fresh)


async def cancel(dispatcher: CollectingDispatcher, tracker: Tracker, login: Login, member: Member,
                 fresh: bool = False) -> list[EventType]:
    from actions.patient.cancelling import cancel_for

    return await cancel_for(dispatcher, tracker, login, member, fresh)


SHOW: dict[str, Show] = {
    BOOK: book,
    CANCEL: cancel,
    RECORDS: show_records,
    MEDICATIONS: show_medications,
    PAST_MEDICATIONS: show_past_medications,
    APPOINTMENTS: show_appointments,
    PROCEDURES: show_procedures,
}

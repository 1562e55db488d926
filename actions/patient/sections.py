"""A patient's records, medications, appointments and procedures, for one family member, as WhatsApp text.

Who is asking and for whom is decided before (actions/requests.py routes the request by role,
actions/pending.py picks the family member); here the sections are read from CARE and sent.
Appointments asked about by day ("any appointment tomorrow?") answer for that day first
(actions/patient/appointments.py).
"""

from __future__ import annotations

import re

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.patient.access import read_for
from actions.patient.appointments import Days, show_days, upcoming_appointments
from actions.patient.family import Member
from actions.shared import clients, clock, formatting
from actions.shared.replies import send
from actions.shared.turn import tap_payload
from sessions.store import Login

RECORDS, MEDICATIONS, PAST_MEDICATIONS, APPOINTMENTS, PROCEDURES = (
    "records",
    "medications",
    "past_medications",
    "appointments",
    "procedures",
)

PAST_WORDS = re.compile(r"\b(past|old|older|previous|earlier|stopped|finished|completed|history)\b", re.I)

# ------------------------------------------------------------------------------------------- the sections


async def show_records(
    dispatcher: CollectingDispatcher, tracker: Tracker, login: Login, member: Member, fresh: bool = False
) -> list[EventType]:
    encounters = await read_for(login, member.id, clients.service().list_encounters)
    if not encounters:
        dispatcher.utter_message(response="utter_records_empty", patient_name=member.name)
        return []
    diagnoses = await read_for(login, member.id, clients.service().list_diagnoses)
    blocks = formatting.encounter_blocks(encounters, diagnoses, clock.timezone_name(), clock.today())
    send(dispatcher, response="utter_records", blocks=blocks, patient_name=member.name, count=len(encounters))
    return []


async def show_medications(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    login: Login,
    member: Member,
    fresh: bool = False,
    past: bool = False,
) -> list[EventType]:
    meds = await read_for(login, member.id, clients.service().list_medication_requests)
    current = [m for m in meds if m.is_active]
    earlier = [m for m in meds if not m.is_active and m.status != "entered_in_error"]
    tz, today = clock.timezone_name(), clock.today()
    if past:
        if earlier:
            send(
                dispatcher,
                response="utter_medications_past",
                blocks=formatting.medication_blocks(earlier, tz, today, past=True),
                patient_name=member.name,
            )
        else:
            dispatcher.utter_message(response="utter_medications_past_empty", patient_name=member.name)
        return []
    if not current:
        dispatcher.utter_message(response="utter_medications_empty", patient_name=member.name)
    else:
        send(
            dispatcher,
            response="utter_medications",
            blocks=formatting.medication_blocks(current, tz, today),
            patient_name=member.name,
        )
    if earlier:
        # the payload's braces would be read as a template variable in the domain, so the button is added here
        dispatcher.utter_message(
            response="utter_medications_past_offer",
            count=len(earlier),
            buttons=[
                {"title": "Show earlier ones", "payload": tap_payload("get_medications", medication_period="past")}
            ],
        )
    return []


async def show_past_medications(
    dispatcher: CollectingDispatcher, tracker: Tracker, login: Login, member: Member, fresh: bool = False
) -> list[EventType]:
    return await show_medications(dispatcher, tracker, login, member, fresh, past=True)


async def show_appointments(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    login: Login,
    member: Member,
    fresh: bool = False,
    days: Days | None = None,
) -> list[EventType]:
    if days is not None:  # "any appointment tomorrow?": that day first
        return await show_days(dispatcher, login, member, days)
    coming = await upcoming_appointments(login, member)
    if not coming:
        dispatcher.utter_message(response="utter_appointments_empty", patient_name=member.name)
        return []
    send(
        dispatcher,
        response="utter_appointments",
        blocks=formatting.appointment_blocks(coming, clock.timezone_name(), clock.today()),
        patient_name=member.name,
    )
    return []


async def show_procedures(
    dispatcher: CollectingDispatcher, tracker: Tracker, login: Login, member: Member, fresh: bool = False
) -> list[EventType]:
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
    send(
        dispatcher,
        response="utter_procedures",
        blocks=formatting.service_request_blocks(found, clock.timezone_name(), clock.today()),
        patient_name=member.name,
    )
    return []

"""How the patient part reaches CARE, on top of the shared layer (actions/shared).

- The login is the session store's (`sessions.store`), never a slot: tokens and codes stay server-side.
- Clinical data is read with the assistant's service account, only for patients the OTP login proved
  (`Login.may_read`); appointments and slots use the patient's own token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.care.client import PatientSession
from actions.care.models import PatientToken
from actions.shared.clients import call_service, service
from actions.shared.errors import AccessDenied
from actions.shared.forms import STOPPED_SLOT
from actions.shared.who import PATIENT, login_of
from common.phone import InvalidPhoneNumber, to_e164
from sessions.store import Login
from settings import get_settings

log = logging.getLogger(__name__)
T = TypeVar("T")

# Slots of the patient part that describe one login; cleared when it ends.
LOGIN_SLOTS = ("login_phone", "login_other_number", "login_code")


def sender_phone(tracker: Tracker) -> str | None:
    """The sender's WhatsApp number as E.164, or None (a business-scoped id, a test sender)."""
    try:
        return to_e164(tracker.sender_id or "")
    except InvalidPhoneNumber:
        return None


def patient_login(tracker: Tracker) -> Login | None:
    return login_of(tracker, PATIENT)


def max_length() -> int:
    return get_settings().whatsapp_max_message_length


def patient_api(login: Login) -> PatientSession:
    return service().as_patient(PatientToken(access=login.access_token, phone_number=login.phone))


async def read_for(login: Login, patient_id: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A clinical read with the service account, only for a patient this login proved."""
    if not patient_id or not login.may_read(patient_id):
        log.warning("refused a clinical read for a patient the login did not prove")
        raise AccessDenied(patient_id)
    return await call_service(fn, patient_id, *args, **kwargs)


def start_login(tracker: Tracker, pending: str | None) -> list[EventType]:
    """Open the login form; `pending` (records, medications, book, ...) is answered once it succeeds."""
    events: list[EventType] = [SlotSet(name, None) for name in (*LOGIN_SLOTS, "patient_choice", "form_stopped")]
    events += [SlotSet("role", None), SlotSet("patient_name", None), SlotSet("pending_request", pending)]
    events.append(ActiveLoop("patient_login_form"))  # last: the form validates no slot set here
    return events


def needs_login(dispatcher: CollectingDispatcher, tracker: Tracker, pending: str) -> list[EventType]:
    """Nobody logged in: start the login (or, during one, just remember what to answer after it)."""
    if tracker.active_loop_name == "patient_login_form":
        dispatcher.utter_message(response="utter_after_login")
        return [SlotSet("pending_request", pending)]
    if tracker.get_slot("role") == PATIENT:
        dispatcher.utter_message(response="utter_session_expired")
    return start_login(tracker, pending=pending)


def session_expired_in_form(dispatcher: CollectingDispatcher) -> list[EventType]:
    """A form's question finds the login gone: say so, and end the form (its done action tidies up)."""
    dispatcher.utter_message(response="utter_session_expired")
    return [SlotSet(STOPPED_SLOT, True)]

"""Who is asking and how the patient part reaches CARE.

- The login is the session store's (`sessions.store`), never a slot: tokens and codes stay server-side.
- Clinical data is read with the assistant's service account, only for patients the OTP login proved
  (`Login.may_read`); appointments and slots use the patient's own token.
- CARE calls run in a worker thread with a deadline, so a slow CARE never blocks the action server's
  event loop and the patient hears "try again later" within seconds.
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
from typing import Any, Callable, TypeVar
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.care.client import CareClient, PatientSession
from actions.care.errors import (
    CareError,
    CareForbidden,
    CareInvalid,
    CareNotFound,
    CareUnauthenticated,
    CareUnavailable,
)
from actions.care.calls import care_call
from actions.care.models import PatientToken
from common.phone import InvalidPhoneNumber, to_e164
from sessions.store import Login, SessionStore, get_session_store
from settings import get_settings

log = logging.getLogger(__name__)
T = TypeVar("T")

# A patient waits for the answer: one quick retry at most, within care_call's deadline for the whole call
# (CARE_TIMEOUT_SECONDS still applies when it is shorter).
ATTEMPT_TIMEOUT_SECONDS = 4.0

PATIENT = "patient"
STAFF = "staff"

# Slots of the patient part that describe one login; cleared when it ends.
LOGIN_SLOTS = ("login_phone", "login_other_number", "login_code")
SESSION_SLOTS = ("role", "patient_name", "pending_request")


class AccessDenied(Exception):
    """A patient id that this login did not prove: never read, whatever the request said."""


# ------------------------------------------------------------------------------------------- context

def store() -> SessionStore:
    return get_session_store()


def timezone() -> str:
    return get_settings().care_timezone


def now() -> dt.datetime:
    return dt.datetime.now(ZoneInfo(timezone()))


def today() -> dt.date:
    return now().date()


def sender_phone(tracker: Tracker) -> str | None:
    """The sender's WhatsApp number as E.164, or None (a business-scoped id, a test sender)."""
    try:
        return to_e164(tracker.sender_id or "")
    except InvalidPhoneNumber:
        return None


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def latest_intent(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


def entity(tracker: Tracker, name: str) -> str | None:
    values = list(tracker.get_latest_entity_values(name))
    return str(values[0]) if values else None


def current_login(tracker: Tracker) -> Login | None:
    return store().login(tracker.sender_id)


def patient_login(tracker: Tracker) -> Login | None:
    login = current_login(tracker)
    return login if login is not None and login.kind == PATIENT else None


def max_length() -> int:
    return get_settings().whatsapp_max_message_length


# ------------------------------------------------------------------------------------------- CARE

@functools.lru_cache(maxsize=1)
def service() -> CareClient:
    """The assistant's service account (logs in once, refreshes itself); shared by every action."""
    s = get_settings()
    return CareClient.create(s.care_base_url, username=s.care_username, password=s.care_password,
                             timeout=min(s.care_timeout_seconds, ATTEMPT_TIMEOUT_SECONDS),
                             max_retries=min(s.care_max_retries, 1))


def patient_api(login: Login) -> PatientSession:
    return service().as_patient(PatientToken(access=login.access_token, phone_number=login.phone))


async def call_service(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A call as the service account. Its refusal is a configuration problem, not the patient's: to the
    patient that is "unavailable" (and an error in the log for the operator)."""
    try:
        return await care_call(fn, *args, **kwargs)
    except CareUnauthenticated as exc:
        log.error("the CARE service account was refused (%s): check CARE_USERNAME / CARE_PASSWORD", exc.status)
        raise CareUnavailable("service account refused") from exc


async def call_patient(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A call with the patient's token: CareUnauthenticated means CARE's hour is over."""
    return await care_call(fn, *args, **kwargs)


async def read_for(login: Login, patient_id: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A clinical read with the service account, only for a patient this login proved."""
    if not patient_id or not login.may_read(patient_id):
        log.warning("refused a clinical read for a patient the login did not prove")
        raise AccessDenied(patient_id)
    return await call_service(fn, patient_id, *args, **kwargs)


def explain(dispatcher: CollectingDispatcher, tracker: Tracker, exc: Exception) -> list[EventType]:
    """Tell the patient, in a plain sentence, what went wrong; never a stack trace or CARE's internals."""
    if isinstance(exc, CareUnauthenticated):
        store().end(tracker.sender_id)
        dispatcher.utter_message(response="utter_session_expired")
        return session_ended_events()
    if isinstance(exc, AccessDenied):
        dispatcher.utter_message(response="utter_care_forbidden")
    elif isinstance(exc, CareForbidden):
        dispatcher.utter_message(response="utter_care_forbidden")
    elif isinstance(exc, CareNotFound):
        dispatcher.utter_message(response="utter_care_not_found")
    elif isinstance(exc, CareInvalid):
        reason = exc.messages[0] if exc.messages else ""
        dispatcher.utter_message(response="utter_care_refused", reason=_plain(reason))
    else:
        if not isinstance(exc, CareUnavailable):
            log.error("CARE error %s (%s)", type(exc).__name__, getattr(exc, "status", None))
        dispatcher.utter_message(response="utter_care_unavailable")
    return []


def _plain(reason: str) -> str:
    """CARE's validation text without the field path (`otp: Invalid OTP` -> `Invalid OTP`)."""
    head, sep, tail = reason.partition(": ")
    text = tail if sep and " " not in head else reason
    return text.strip().rstrip(".") or "the request was not accepted"


CARE_ERRORS = (CareError, AccessDenied)


# ------------------------------------------------------------------------------------------- session state

def session_ended_events() -> list[EventType]:
    return [SlotSet(name, None) for name in SESSION_SLOTS]


def start_login(tracker: Tracker, pending: str | None) -> list[EventType]:
    """Open the login form; `pending` (records, medications, book, ...) is answered once it succeeds."""
    events: list[EventType] = [SlotSet(name, None) for name in (*LOGIN_SLOTS, "patient_choice", "form_stopped")]
    events += [SlotSet("role", None), SlotSet("patient_name", None), SlotSet("pending_request", pending)]
    events.append(ActiveLoop("patient_login_form"))  # last: the form validates no slot set here
    return events

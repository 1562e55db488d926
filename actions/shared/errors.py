"""One explainer: a CARE failure in plain words, for a patient or for staff.

Never a stack trace or CARE's internals; CARE's own validation text (which describes the request, not the
patient) is shown without its field path. A refused token ends the login here too.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.care.errors import (
    CareError,
    CareForbidden,
    CareInvalid,
    CareNotFound,
    CareUnauthenticated,
    CareUnavailable,
)
from actions.shared.who import FOCUS, PATIENT, ROLE, STAFF, session_ended_events, store

log = logging.getLogger(__name__)

MAX_REASON = 300


class AccessDenied(Exception):
    """A patient id that this login did not prove: never read, whatever the request said."""


CARE_ERRORS = (CareError, AccessDenied)

# what each audience is told, by failure (written as response=... so that every response sent is findable by
# name: tests/rasa/test_project.py); the staff are told that a missing record is a patient gone
_RESPONSES: dict[str, dict[str, dict[str, str]]] = {
    PATIENT: {
        "forbidden": dict(response="utter_care_forbidden"),
        "not_found": dict(response="utter_care_not_found"),
        "invalid": dict(response="utter_care_refused"),
        "unavailable": dict(response="utter_care_unavailable"),
        "expired": dict(response="utter_session_expired"),
    },
    STAFF: {
        "forbidden": dict(response="utter_staff_forbidden"),
        "not_found": dict(response="utter_staff_patient_gone"),
        "invalid": dict(response="utter_staff_care_refused"),
        "unavailable": dict(response="utter_staff_care_unavailable"),
        "expired": dict(response="utter_staff_session_ended"),
    },
}


def kind_of(exc: Exception) -> str:
    if isinstance(exc, CareUnauthenticated):
        return "expired"
    if isinstance(exc, (CareForbidden, AccessDenied)):
        return "forbidden"
    if isinstance(exc, CareNotFound):
        return "not_found"
    if isinstance(exc, CareInvalid):
        return "invalid"
    return "unavailable"


def plain_reason(messages: list[str]) -> str:
    """CARE's validation texts without their field paths (`otp: Invalid OTP` -> `Invalid OTP`)."""
    parts = []
    for reason in messages:
        head, sep, tail = reason.partition(": ")
        text = (tail if sep and " " not in head else reason).strip().rstrip(".")
        if text and text not in parts:
            parts.append(text)
    return "; ".join(parts)[:MAX_REASON] or "the request was not accepted"


def audience_of(tracker: Tracker) -> str:
    """Staff or patient wording: by the login (still there when its token was refused), else by the slot."""
    login = store().login(tracker.sender_id)
    kind = login.kind if login is not None else tracker.get_slot(ROLE)
    return STAFF if kind == STAFF else PATIENT


def explain(
    dispatcher: CollectingDispatcher, tracker: Tracker, exc: Exception, audience: str | None = None
) -> list[dict[str, Any]]:
    """Tell the user what went wrong; the events that follow from it (a login ended, a patient gone)."""
    audience = audience or audience_of(tracker)
    kind = kind_of(exc)
    if kind == "unavailable" and not isinstance(exc, CareUnavailable):
        log.error("CARE error %s (%s)", type(exc).__name__, getattr(exc, "status", None))
    else:
        log.info("CARE call failed: %s (%s)", type(exc).__name__, getattr(exc, "status", None))
    response = _RESPONSES[audience][kind]
    if kind == "invalid" and isinstance(exc, CareInvalid):
        dispatcher.utter_message(**response, reason=plain_reason(exc.messages))
    else:
        dispatcher.utter_message(**response)
    if kind == "expired":
        store().end(tracker.sender_id)  # access and refresh token both refused: the login is over
        return session_ended_events()
    if kind == "not_found" and audience == STAFF:
        return [SlotSet(FOCUS, None)]
    return []

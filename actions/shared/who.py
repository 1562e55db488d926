"""Who is asking: the login in the session store (never a slot: tokens and codes stay server-side), its kind,
and the slots that describe it, emptied when it ends."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from sessions.store import Login, SessionStore, get_session_store

PATIENT = "patient"
STAFF = "staff"
ROLE = "role"  # slot: "patient" | "staff" | None, for the stories and the menus
FOCUS = "staff_patient_id"  # slot: the patient a staff member works on
ACCESS = "staff_access"  # slot: what the staff member's CARE role allows (actions/staff/permissions.py)

# Slots that describe a login; a login that ends empties them all, whichever kind it was.
SESSION_SLOTS = (ROLE, "patient_name", "pending_request", FOCUS, ACCESS)


def store() -> SessionStore:
    return get_session_store()


def current_login(tracker: Tracker) -> Login | None:
    return store().login(tracker.sender_id)


def login_of(tracker: Tracker, kind: str) -> Login | None:
    """The login if it is of this kind ("patient" or "staff")."""
    login = current_login(tracker)
    return login if login is not None and login.kind == kind else None


def session_ended_events() -> list[dict[str, Any]]:
    return [SlotSet(name, None) for name in SESSION_SLOTS]

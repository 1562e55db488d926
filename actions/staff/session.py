"""Who is asking, and a CARE client that acts as them.

Every CARE call for a staff member uses that person's own token (`CareClient.as_staff`), so CARE itself
enforces roles and facilities; the assistant adds its own check that a patient or an anonymous user never
reaches a staff action. Tokens live only in the session store: when CARE rotates them, `on_refresh` saves
the new pair there. CARE calls are blocking (requests): actions run them in a worker thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.care.calls import care_call
from actions.care.client import CareClient
from actions.care.errors import CareUnavailable
from actions.care.models import CurrentUser, TokenPair
from actions.shared import clock
from actions.shared.clients import staff_client
from actions.shared.who import PATIENT, ROLE, STAFF, current_login, session_ended_events
from actions.staff import permissions
from actions.staff.permissions import Access
from sessions.store import Login, get_session_store

logger = logging.getLogger(__name__)
T = TypeVar("T")

SESSION_MINUTES_IF_UNKNOWN = 30  # CARE's refresh token lifetime, when a token carries no readable expiry

# Slots of each staff form: reset when a form starts, ends or is stopped, so nothing leaks into the next one.
LOGIN_SLOTS = ("staff_username", "staff_password_checked", "staff_totp_checked", "staff_login_outcome")
PATIENT_FORM_SLOTS = ("staff_patient_choice", "staff_patient_query")
SCHEDULE_SLOTS = (
    "sched_patient",
    "sched_patient_name",
    "sched_practitioner",
    "sched_practitioner_query",
    "sched_practitioner_name",
    "sched_facility",
    "sched_when",
    "sched_slot",
    "sched_slot_start",
    "sched_confirm",
    "sched_replaces",
)
CANCEL_SLOTS = ("staff_cancel_appt", "staff_cancel_confirm", "staff_cancel_mode", "staff_cancel_when")
STAFF_FORMS = ("staff_login_form", "staff_patient_form", "schedule_appointment_form", "staff_cancel_form")


def start_form(name: str, **slots: Any) -> list[dict[str, Any]]:
    """Events that start one of our forms from a custom action: the form runs next (RulePolicy's loop
    happy path) with a clean requested_slot and the given slots already set."""
    return [SlotSet("requested_slot", None), *(SlotSet(k, v) for k, v in slots.items()), ActiveLoop(name)]


def _epoch(value: dt.datetime | None, default: float) -> float:
    return value.timestamp() if value is not None else default


def login_from(tokens: TokenPair, user: CurrentUser, username: str, facility_ids: list[str]) -> Login:
    now = time.time()
    return Login(
        kind=STAFF,
        access_token=tokens.access,
        refresh_token=tokens.refresh,
        access_expires_at=_epoch(tokens.access_expires_at, now + 600),
        expires_at=_epoch(tokens.refresh_expires_at, now + SESSION_MINUTES_IF_UNKNOWN * 60),
        username=username,
        user_id=user.id,
        roles=list(user.roles),
        facility_ids=facility_ids,
    )


def saver(sender: str) -> Callable[[TokenPair], None]:
    """`on_refresh` for a staff client: CARE rotated the pair, keep the new one (and its later expiry)."""

    def save(tokens: TokenPair) -> None:
        store = get_session_store()
        current = store.login(sender)
        if current is None or current.kind != STAFF:
            return  # logged out meanwhile: never resurrect the login
        current.access_token = tokens.access
        current.refresh_token = tokens.refresh
        current.access_expires_at = _epoch(tokens.access_expires_at, time.time() + 600)
        current.expires_at = _epoch(tokens.refresh_expires_at, current.expires_at)
        store.save_login(sender, current)

    return save


@dataclass
class StaffContext:
    sender: str
    login: Login
    care: CareClient
    tz: str

    @property
    def facility_id(self) -> str:
        return self.login.facility_ids[0] if self.login.facility_ids else ""

    def now(self) -> dt.datetime:
        return clock.now()

    def today(self) -> dt.date:
        return clock.today()

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A CARE call in a worker thread, with a deadline (actions/care/calls.py)."""
        return await care_call(fn, *args, **kwargs)


async def access_of(ctx: StaffContext) -> Access:
    """What this staff member's CARE role allows (actions/staff/permissions.py): from CARE's current user,
    remembered for a few minutes; from the role names while CARE doesn't answer."""
    key = ctx.login.user_id or ctx.sender
    known = permissions.remembered(key)
    if known is not None:
        return known
    try:
        user = await ctx.call(ctx.care.current_user)
    except CareUnavailable:
        return permissions.from_roles(ctx.login.roles)
    return permissions.remember(key, permissions.from_permissions(user.permissions, user.is_superuser))


def staff_context(sender: str) -> StaffContext | None:
    login = get_session_store().login(sender)
    if login is None or login.kind != STAFF:
        return None
    pair = TokenPair(access=login.access_token, refresh=login.refresh_token)
    return StaffContext(sender, login, staff_client().as_staff(pair, on_refresh=saver(sender)), clock.timezone_name())


def require_staff(
    dispatcher: CollectingDispatcher, tracker: Tracker, login_if_anonymous: bool = True
) -> tuple[StaffContext | None, list[dict[str, Any]]]:
    """The staff context, or (None, events) after telling the user why not.

    Patient -> refused. Nobody -> the session ended (if it was staff) or staff login starts.
    """
    ctx = staff_context(tracker.sender_id)
    if ctx is not None:
        return ctx, []
    login = current_login(tracker)
    if login is not None and login.kind == PATIENT:
        dispatcher.utter_message(response="utter_staff_only")
        return None, []
    if tracker.get_slot(ROLE) == STAFF:
        return None, session_ended(dispatcher)
    if not login_if_anonymous:
        dispatcher.utter_message(response="utter_staff_login_first")
        return None, []
    dispatcher.utter_message(response="utter_staff_login_first")
    return None, start_form("staff_login_form", **dict.fromkeys(LOGIN_SLOTS))


def session_ended(dispatcher: CollectingDispatcher) -> list[dict[str, Any]]:
    dispatcher.utter_message(response="utter_staff_session_ended")
    return session_ended_events()

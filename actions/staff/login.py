"""Staff login with the staff member's own CARE account: username, password, and the authenticator code
when CARE asks for one (TOTP).

The password and the code never reach Rasa: before asking, the ask action tells the session store to
expect a secret; the connector keeps the next text there and Rasa only sees `/secret_provided`
(sessions/redaction.py). The validator takes the secret once, sends it to CARE and forgets it. Tokens go to
the session store. Failed attempts are limited like CARE's own login (5 per 10 minutes), per WhatsApp
number and per username, so nobody can try passwords through the assistant faster than through CARE.

Only a CARE-looking username (actions/staff/usernames.py) is kept, so a patient's code, name or phone typed
here by mistake never reaches CARE's login. "staff login care-doctor", or a username that NLU read as a
login request ("care-doctor" after a patient login question), starts the form with that username.
"""

from __future__ import annotations

import contextlib
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.care.calls import care_call
from actions.care.errors import CareError, CareInvalid, CareUnauthenticated
from actions.care.models import MfaChallenge, TokenPair
from actions.shared.clients import staff_client
from actions.shared.forms import NARROW_ESCAPE_INTENTS, NOT_UNDERSTOOD, SAFETY_INTENTS, AssistantForm, clear, escapes
from actions.shared.meaning import LOGOUT, OUT_OF_SCOPE, staff_login_meaning
from actions.shared.turn import latest_intent, latest_text
from actions.shared.who import ACCESS, ROLE, STAFF
from actions.staff import permissions
from actions.staff.menu import WELCOMES
from actions.staff.session import (
    CANCEL_SLOTS,
    LOGIN_SLOTS,
    PATIENT_FORM_SLOTS,
    SCHEDULE_SLOTS,
    access_of,
    login_from,
    saver,
    staff_context,
)
from actions.staff.usernames import looks_like_username, username_in
from sessions.store import get_session_store

logger = logging.getLogger(__name__)

MAX_FAILED = 5
WINDOW_SECONDS = 600
MFA_TTL_SECONDS = 300  # CARE's temp_token is short-lived too
COUNTER = "staff-login"
CODE_RE = re.compile(r"^\d{6,8}$")

OK, ALREADY, PATIENT, LOCKED, UNAVAILABLE = "ok", "already", "patient", "locked", "unavailable"


def _mfa_key(sender: str) -> str:
    return f"staff-mfa:{sender}"


def _user_key(username: str) -> str:
    return f"user:{username.lower()}"


def failures(sender: str, username: str | None = None) -> int:
    store = get_session_store()
    counts = [store.count(sender, COUNTER)]
    if username:
        counts.append(store.count(_user_key(username), COUNTER))
    return max(counts)


def locked_minutes(sender: str, username: str | None = None) -> int:
    store = get_session_store()
    keys = [sender] + ([_user_key(username)] if username else [])
    seconds = max(store.seconds_left(k, COUNTER) for k in keys if store.count(k, COUNTER) >= MAX_FAILED)
    return max(1, int(seconds // 60) + (1 if seconds % 60 else 0))


def _fail(sender: str, username: str) -> int:
    """Counts a failed attempt; returns the attempts left before the pause."""
    store = get_session_store()
    n = max(store.hit(sender, COUNTER, WINDOW_SECONDS), store.hit(_user_key(username), COUNTER, WINDOW_SECONDS))
    return max(MAX_FAILED - n, 0)


def _succeeded(sender: str, username: str) -> None:
    store = get_session_store()
    store.reset(sender, COUNTER)
    store.reset(_user_key(username), COUNTER)


class ActionStaffLogin(Action):
    """A message NLU read as a staff login opens the login form only when its words say so
    (`staff_login_meaning`): "exit my account" is a logout, "who is the prime minister of india" is answered as
    out of scope, never with a username question."""

    def name(self) -> str:
        return "action_staff_login"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        text = latest_text(tracker).strip()
        meaning = staff_login_meaning(text, username_in(text))
        if meaning == LOGOUT:
            return [FollowupAction("action_logout")]
        if meaning == OUT_OF_SCOPE:
            dispatcher.utter_message(response="utter_out_of_scope")
            return []
        return [ActiveLoop("staff_login_form")]  # the form validates and asks from here (RulePolicy runs it)


class ValidateStaffLoginForm(AssistantForm):
    def name(self) -> str:
        return "validate_staff_login_form"

    async def form_slots(self, domain_slots: list[str], tracker: Tracker) -> list[str]:
        # finished (logged in, locked, ...): nothing more to ask; action_staff_login_submit tidies up
        return [] if tracker.get_slot("staff_login_outcome") else domain_slots

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if tracker.get_slot("requested_slot") is None:  # the form is starting
            outcome = self._on_start(dispatcher, tracker)
            if outcome:
                tracker.slots["staff_login_outcome"] = outcome
                return [SlotSet("staff_login_outcome", outcome)]
        return await super().get_validation_events(dispatcher, tracker, domain)

    @staticmethod
    def _on_start(dispatcher: CollectingDispatcher, tracker: Tracker) -> str | None:
        login = get_session_store().login(tracker.sender_id)
        if login is not None and login.kind == STAFF:
            dispatcher.utter_message(response="utter_staff_already_logged_in", name=login.username)
            return ALREADY
        if login is not None:
            dispatcher.utter_message(response="utter_staff_patient_logged_in")
            return PATIENT
        if failures(tracker.sender_id) >= MAX_FAILED:
            dispatcher.utter_message(response="utter_staff_login_locked", minutes=locked_minutes(tracker.sender_id))
            return LOCKED
        return None

    # ------------------------------------------------------------------ username

    def start_answers(self, tracker: Tracker) -> dict[str, Any]:
        """ "staff login care-doctor", or a username NLU read as a login request; never anything from the
        request of another action that started the login ("find patient Meera")."""
        if latest_intent(tracker) != "staff_login" or tracker.get_slot("staff_username"):
            return {}
        found = username_in(latest_text(tracker).strip())
        return {"staff_username": found} if found else {}

    def answer(self, slot: str, tracker: Tracker) -> Any:
        if slot == "staff_username":
            # NLU reads a username ("care-volunteer") as almost anything: only the narrow escapes leave
            if escapes(tracker, NARROW_ESCAPE_INTENTS):
                return None
            text = latest_text(tracker).strip()
            return username_in(text) or text
        if slot == "staff_password_checked":
            return self._secret_answer(tracker, "password")
        if slot == "staff_totp_checked":
            return self._secret_answer(tracker, "totp")
        return super().answer(slot, tracker)

    def validate_staff_username(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        username = str(value or "").strip()
        if not looks_like_username(username):
            dispatcher.utter_message(response="utter_staff_username_invalid")
            return {"staff_username": None}
        return {"staff_username": username}

    # ------------------------------------------------------------------ password

    async def validate_staff_password_checked(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if value is not True:
            dispatcher.utter_message(response="utter_staff_secret_missing")
            return {"staff_password_checked": None}
        sender, username = tracker.sender_id, tracker.get_slot("staff_username") or ""
        password = get_session_store().take_secret(sender, "password")
        if not looks_like_username(username):  # never send CARE anything but a username (see module doc)
            dispatcher.utter_message(response="utter_staff_username_invalid")
            return {"staff_username": None, "staff_password_checked": None}
        if not password:
            dispatcher.utter_message(response="utter_staff_secret_missing")
            return {"staff_password_checked": None}
        if failures(sender, username) >= MAX_FAILED:
            dispatcher.utter_message(response="utter_staff_login_locked", minutes=locked_minutes(sender, username))
            return {"staff_password_checked": True, "staff_login_outcome": LOCKED}
        care = staff_client()
        try:
            result = await care_call(care.login, username, password)
        except (CareUnauthenticated, CareInvalid) as exc:
            return self._failed(dispatcher, sender, username, exc, "password")
        except CareError:
            dispatcher.utter_message(response="utter_staff_care_unavailable")
            return {"staff_password_checked": True, "staff_login_outcome": UNAVAILABLE}
        finally:
            password = None
        if isinstance(result, MfaChallenge):
            get_session_store().kv.set(_mfa_key(sender), result.temp_token, MFA_TTL_SECONDS)
            return {"staff_password_checked": True, "staff_totp_checked": None}
        return await self._logged_in(dispatcher, sender, username, result, "staff_password_checked")

    # ------------------------------------------------------------------ authenticator code

    async def validate_staff_totp_checked(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if value is not True:
            dispatcher.utter_message(response="utter_staff_secret_missing")
            return {"staff_totp_checked": None}
        sender, username = tracker.sender_id, tracker.get_slot("staff_username") or ""
        store = get_session_store()
        code = re.sub(r"[\s-]", "", store.take_secret(sender, "totp") or "")
        temp_token = store.kv.get(_mfa_key(sender))
        if not temp_token:
            dispatcher.utter_message(response="utter_staff_challenge_expired")
            return {"staff_username": None, "staff_password_checked": None, "staff_totp_checked": None}
        if not CODE_RE.match(code):
            return self._failed(dispatcher, sender, username, None, "totp")
        if failures(sender, username) >= MAX_FAILED:
            store.kv.delete(_mfa_key(sender))
            dispatcher.utter_message(response="utter_staff_login_locked", minutes=locked_minutes(sender, username))
            return {"staff_totp_checked": True, "staff_login_outcome": LOCKED}
        method = "backup" if len(code) == 8 else "totp"
        try:
            tokens = await care_call(staff_client().login_mfa, MfaChallenge(temp_token=temp_token), code, method)
        except CareInvalid as exc:
            return self._failed(dispatcher, sender, username, exc, "totp")
        except CareUnauthenticated:  # the temp_token expired at CARE
            store.kv.delete(_mfa_key(sender))
            dispatcher.utter_message(response="utter_staff_challenge_expired")
            return {"staff_username": None, "staff_password_checked": None, "staff_totp_checked": None}
        except CareError:
            dispatcher.utter_message(response="utter_staff_care_unavailable")
            return {"staff_totp_checked": True, "staff_login_outcome": UNAVAILABLE}
        store.kv.delete(_mfa_key(sender))
        return await self._logged_in(dispatcher, sender, username, tokens, "staff_totp_checked")

    # ------------------------------------------------------------------ shared

    @staticmethod
    def _secret_answer(tracker: Tracker, kind: str) -> Any:
        """True when the connector kept a secret of this kind for us; None lets the rules handle a control
        word (cancel, help, ...); anything else is not understood (nothing else reaches Rasa while a secret
        is due, so it is asked again)."""
        intent = latest_intent(tracker)
        if intent == "secret_provided":
            kinds = [
                e.get("value") for e in tracker.latest_message.get("entities") or [] if e.get("entity") == "secret_kind"
            ]
            return True if kind in kinds else NOT_UNDERSTOOD
        if intent in NARROW_ESCAPE_INTENTS or intent in SAFETY_INTENTS:
            return None
        return NOT_UNDERSTOOD

    @staticmethod
    def _failed(
        dispatcher: CollectingDispatcher, sender: str, username: str, exc: Exception | None, step: str
    ) -> dict[str, Any]:
        if exc is not None and getattr(exc, "status", None) == 429:  # CARE's own limit answered first
            dispatcher.utter_message(response="utter_staff_login_locked", minutes=WINDOW_SECONDS // 60)
            return {f"staff_{step}_checked": True, "staff_login_outcome": LOCKED}
        left = _fail(sender, username)
        logger.info("staff login step %s refused (%d tries left)", step, left)
        if left <= 0:
            get_session_store().kv.delete(_mfa_key(sender))
            dispatcher.utter_message(response="utter_staff_login_locked", minutes=locked_minutes(sender, username))
            return {f"staff_{step}_checked": True, "staff_login_outcome": LOCKED}
        if step == "totp":
            dispatcher.utter_message(response="utter_staff_totp_failed", attempts_left=left)
            return {"staff_totp_checked": None}
        dispatcher.utter_message(response="utter_staff_login_failed", attempts_left=left)
        return {"staff_username": None, "staff_password_checked": None}

    @staticmethod
    async def _logged_in(
        dispatcher: CollectingDispatcher, sender: str, username: str, tokens: TokenPair, slot: str
    ) -> dict[str, Any]:
        """Roles and facilities come from CARE's current-user endpoint, read with the new token."""
        care = staff_client().as_staff(tokens, on_refresh=saver(sender))
        try:
            user = await care_call(care.current_user)
            facilities = [f.id for f in user.facilities]
            names = [f.name for f in user.facilities]
            if not facilities and user.is_superuser:
                found = await care_call(care.list_facilities)
                facilities, names = [f.id for f in found], [f.name for f in found]
        except CareError:
            dispatcher.utter_message(response="utter_staff_care_unavailable")
            return {slot: True, "staff_login_outcome": UNAVAILABLE}
        get_session_store().save_login(sender, login_from(tokens, user, username, facilities))
        _succeeded(sender, username)
        access = permissions.remember(
            user.id or sender, permissions.from_permissions(user.permissions, user.is_superuser)
        )
        logger.info("staff login succeeded (%s; %s)", ", ".join(user.roles) or "no role", access.level)
        if not facilities:
            dispatcher.utter_message(response="utter_staff_no_facility")
        else:
            dispatcher.utter_message(
                **WELCOMES[access.level],
                name=user.name or user.username,
                role=", ".join(user.roles) or user.user_type or "staff",
                facility=names[0] + (f" +{len(names) - 1}" if len(names) > 1 else ""),
            )
        return {"staff_password_checked": True, "staff_totp_checked": True, "staff_login_outcome": OK}


class AskStaffUsername(Action):
    def name(self) -> str:
        return "action_ask_staff_login_form_staff_username"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_ask_staff_login_form_staff_username")
        return []


class AskStaffPassword(Action):
    """Asks for the password after telling the session store to keep the next message out of Rasa."""

    def name(self) -> str:
        return "action_ask_staff_login_form_staff_password_checked"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        get_session_store().expect_secret(tracker.sender_id, "password")
        dispatcher.utter_message(response="utter_staff_ask_password")
        return []


class AskStaffTotp(Action):
    def name(self) -> str:
        return "action_ask_staff_login_form_staff_totp_checked"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        get_session_store().expect_secret(tracker.sender_id, "totp")
        dispatcher.utter_message(response="utter_staff_ask_totp")
        return []


class ActionStaffLoginSubmit(Action):
    """The login form is done: the validator has already said how it went; set `role` and tidy up."""

    def name(self) -> str:
        return "action_staff_login_submit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        outcome = tracker.get_slot("staff_login_outcome")
        events = clear(*LOGIN_SLOTS)
        get_session_store().clear_expectation(tracker.sender_id)
        if outcome in (OK, ALREADY):
            events += [SlotSet(ROLE, STAFF)]
            ctx = staff_context(tracker.sender_id)
            # on a CARE error the next request says what is wrong; `staff_access` only picks texts
            with contextlib.suppress(CareError):
                events += [SlotSet(ACCESS, (await access_of(ctx)).level)] if ctx else []
        if outcome == OK:
            events += [SlotSet("staff_patient_id", None)]
        return events


class ActionStaffStop(Action):
    """ "cancel" / "stop" inside any staff form: end it, forget its answers and any secret being waited for."""

    def name(self) -> str:
        return "action_staff_stop"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        store = get_session_store()
        store.clear_expectation(tracker.sender_id)
        store.take_secret(tracker.sender_id, "password")
        store.take_secret(tracker.sender_id, "totp")
        store.kv.delete(_mfa_key(tracker.sender_id))
        if latest_intent(tracker) != "logout":  # action_logout speaks next
            dispatcher.utter_message(response="utter_staff_stopped")
        return [
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            SlotSet("staff_pending", None),
            *clear(*LOGIN_SLOTS, *PATIENT_FORM_SLOTS, *SCHEDULE_SLOTS, *CANCEL_SLOTS),
        ]

"""Patient login with CARE's one-time code.

patient_login_form: login_phone (the sender's own number, or another one typed) -> CARE sends the code ->
login_code (the connector keeps the typed code in the session store; Rasa only sees /secret_provided) ->
CARE's patient token -> patient_choice when several people share the phone -> action_patient_login_done
answers what was asked before the login.

Limits: RESENDS_MAX codes per RESEND_WINDOW, WRONG_MAX wrong codes per WRONG_WINDOW (per WhatsApp sender and
per target phone, so many senders cannot try codes for one phone). The phone the code went to is kept
server-side too: slots hold only its masked form.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import time
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.care.errors import CareInvalid
from actions.care.models import PatientToken
from actions.patient import access
from actions.patient.family import PatientChoice
from actions.shared import clients, turn, who
from actions.shared.clients import call_service, care_call
from actions.shared.errors import CARE_ERRORS, explain
from actions.shared.forms import ESCAPE_INTENTS, REQUEST_INTENTS, AssistantForm
from actions.shared.meaning import LOGOUT, OUT_OF_SCOPE, SEARCH, STAFF_LOGIN, login_meaning
from actions.shared.who import PATIENT, STAFF
from common.phone import InvalidPhoneNumber, mask_phone, to_e164
from sessions.redaction import forget_login_stopped, login_stopped
from sessions.store import EXPECTATION_TTL_SECONDS, Login

log = logging.getLogger(__name__)

OWN, OTHER, PROVIDED, RESEND, VERIFIED = "own", "other", "provided", "resend", "verified"
OTP_LENGTH = 5  # CARE's codes
# A typed phone number is kept out of Rasa like a code (sessions/redaction.py).
PHONE_KIND = "phone"
RESENDS_MAX, RESEND_WINDOW = 3, 15 * 60
WRONG_MAX, WRONG_WINDOW = 5, 15 * 60
TOKEN_HOURS_FALLBACK = 1.0  # a patient token lives 1 h; used when its expiry cannot be read

_STOP_RE = re.compile(r"\b(cancel|stop|quit|exit|abort|never\s*mind|forget it|leave it)\b", re.I)


def _minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))


# ------------------------------------------------------------------------------------------- server-side phone


def _phone_key(sender: str) -> str:
    return f"otp_phone:{sender}"


def remember_phone(sender: str, phone: str) -> None:
    who.store().kv.set(_phone_key(sender), phone, EXPECTATION_TTL_SECONDS)


def remembered_phone(sender: str) -> str | None:
    return who.store().kv.get(_phone_key(sender))


def forget_phone(sender: str) -> None:
    who.store().kv.delete(_phone_key(sender))


def parse_phone(text: str) -> str | None:
    """A typed mobile number ('98765 43210', '+91-98765-43210', '09876543210') -> E.164, else None."""
    candidate = re.sub(r"[^\d+]", "", text or "")
    if candidate.startswith("0") and len(candidate) == 11:
        candidate = candidate[1:]
    if not 10 <= len(candidate.lstrip("+")) <= 15:
        return None
    try:
        return to_e164(candidate)
    except InvalidPhoneNumber:
        return None


# ------------------------------------------------------------------------------------------- limits


def _locked_for(sender: str, phone: str | None) -> float:
    """Seconds left of a wrong-code cool-down (0 when codes may be tried)."""
    st = who.store()
    keys = [sender] + ([phone] if phone else [])
    return max((st.seconds_left(k, "otp_wrong") for k in keys if st.count(k, "otp_wrong") >= WRONG_MAX), default=0.0)


def _count_wrong(sender: str, phone: str) -> int:
    st = who.store()
    return max(st.hit(sender, "otp_wrong", WRONG_WINDOW), st.hit(phone, "otp_wrong", WRONG_WINDOW))


async def send_code(dispatcher: CollectingDispatcher, tracker: Tracker, phone: str, again: bool = False) -> bool:
    """Ask CARE to text a code to `phone`; tells the user the outcome. False when no code went out."""
    sender = tracker.sender_id
    st = who.store()
    locked = _locked_for(sender, phone)
    if locked:
        dispatcher.utter_message(response="utter_otp_locked", minutes=_minutes(locked))
        login_stopped(st, sender)  # the login stops here: a code typed next is kept out of Rasa all the same
        return False
    if st.hit(sender, "otp_send", RESEND_WINDOW) > RESENDS_MAX:
        dispatcher.utter_message(
            response="utter_otp_send_limited", minutes=_minutes(st.seconds_left(sender, "otp_send"))
        )
        login_stopped(st, sender)
        return False
    try:
        await call_service(clients.service().send_otp, phone)
    except CareInvalid:
        dispatcher.utter_message(response="utter_otp_send_refused", masked_phone=mask_phone(phone))
        return False
    except CARE_ERRORS as exc:
        explain(dispatcher, tracker, exc)
        return False
    remember_phone(sender, phone)
    if again:
        dispatcher.utter_message(response="utter_otp_resent", masked_phone=mask_phone(phone))
    else:
        dispatcher.utter_message(response="utter_otp_sent", masked_phone=mask_phone(phone))
    return True


# ------------------------------------------------------------------------------------------- the form


class ValidatePatientLoginForm(PatientChoice, AssistantForm):
    def name(self) -> str:
        return "validate_patient_login_form"

    async def form_slots(self, domain_slots: list[str], tracker: Tracker) -> list[str]:
        slots = ["login_phone", "login_code"]
        if tracker.get_slot("login_code") == VERIFIED:
            login = access.patient_login(tracker)
            if login is not None and not login.selected_patient_id:
                slots.append("patient_choice")
        return slots

    def answer(self, slot: str, tracker: Tracker) -> Any:
        intent = turn.latest_intent(tracker)
        text = turn.latest_text(tracker)
        if slot == "login_phone":
            if intent == "secret_provided":
                return PROVIDED  # a typed number, kept out of Rasa by the connector
            if intent == "affirm":
                return OWN
            if intent == "use_other_number" or (intent == "deny" and not _STOP_RE.search(text)):
                return OTHER
        if slot == "login_code":
            if intent == "secret_provided":
                return PROVIDED
            if intent == "resend_code":
                return RESEND
            if intent in ESCAPE_INTENTS or text.startswith("/"):
                return None
            if intent in REQUEST_INTENTS and not re.search(r"\d", text):
                return None  # "show my appointments": answered after the login (access.needs_login)
            return text.strip() or None  # anything else typed here is a wrong-format answer, said so plainly
        return super().answer(slot, tracker)

    def understands(self, slot: str, text: str, tracker: Tracker) -> bool:
        if slot == "login_phone":
            return parse_phone(text) is not None
        if slot == "patient_choice":
            return self.understands_choice(text)
        return False

    async def validate_login_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value == OTHER:
            return {"login_phone": None, "login_other_number": True}
        if value == PROVIDED:
            phone = parse_phone(who.store().take_secret(tracker.sender_id, PHONE_KIND) or "")
        else:
            phone = access.sender_phone(tracker) if value == OWN else parse_phone(str(value))
        if phone is None:
            if value != OWN:
                dispatcher.utter_message(response="utter_login_phone_invalid")
            return {"login_phone": None, "login_other_number": True}
        if not await send_code(dispatcher, tracker, phone):
            return self.stop(login_phone=None)
        return {"login_phone": mask_phone(phone), "login_other_number": None}

    async def validate_login_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        sender = tracker.sender_id
        if value == VERIFIED:
            return {}
        phone = remembered_phone(sender)
        if phone is None:  # the code request is older than the store keeps it: start from the number again
            dispatcher.utter_message(response="utter_otp_expired")
            return {"login_phone": None, "login_code": None}
        if value == RESEND:
            if not await send_code(dispatcher, tracker, phone, again=True):
                return self.stop(login_code=None)
            return {"login_code": None}
        if value != PROVIDED or turn.latest_intent(tracker) != "secret_provided":
            if re.fullmatch(r"[\d\s-]+", str(value)):
                log.warning(
                    "a code reached Rasa as plain text: the channel must redact secrets (sessions/redaction.py)"
                )
            dispatcher.utter_message(response="utter_otp_format")
            return {"login_code": None}
        code = who.store().take_secret(sender, "otp")
        if code is None:
            dispatcher.utter_message(response="utter_otp_missing")
            return {"login_code": None}
        digits = re.sub(r"[\s-]", "", code)
        if not (len(digits) == OTP_LENGTH and digits.isdecimal()):
            dispatcher.utter_message(response="utter_otp_format")
            return {"login_code": None}
        return await self._log_in(dispatcher, tracker, phone, digits)

    async def _log_in(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, phone: str, code: str
    ) -> dict[str, Any]:
        sender = tracker.sender_id
        st = who.store()
        locked = _locked_for(sender, phone)
        if locked:
            dispatcher.utter_message(response="utter_otp_locked", minutes=_minutes(locked))
            login_stopped(st, sender)
            return self.stop(login_code=None)
        try:
            token: PatientToken = await call_service(clients.service().login_otp, phone, code)
        except CareInvalid:
            wrong = _count_wrong(sender, phone)
            if wrong >= WRONG_MAX:
                dispatcher.utter_message(response="utter_otp_locked", minutes=_minutes(WRONG_WINDOW))
                login_stopped(st, sender)
                return self.stop(login_code=None)
            dispatcher.utter_message(response="utter_otp_wrong", attempts_left=WRONG_MAX - wrong)
            return {"login_code": None}
        except CARE_ERRORS as exc:
            explain(dispatcher, tracker, exc)
            return self.stop(login_code=None)
        expires = token.expires_at or dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=TOKEN_HOURS_FALLBACK)
        login = Login(kind=PATIENT, access_token=token.access, expires_at=expires.timestamp(), phone=phone)
        try:
            patients = await care_call(clients.service().as_patient(token).list_patients)
        except CARE_ERRORS as exc:
            explain(dispatcher, tracker, exc)
            return self.stop(login_code=None)
        forget_phone(sender)
        st.clear_expectation(sender)
        forget_login_stopped(st, sender)
        st.reset(sender, "otp_wrong")
        st.reset(phone, "otp_wrong")
        if not patients:
            dispatcher.utter_message(response="utter_login_no_patients", masked_phone=mask_phone(phone))
            return self.stop(login_code=None)
        login.patient_ids = [p.id for p in patients]
        if len(patients) == 1:
            login.selected_patient_id = patients[0].id
        if time.time() >= login.expires_at:
            dispatcher.utter_message(response="utter_care_unavailable")
            return self.stop(login_code=None)
        st.save_login(sender, login)
        result: dict[str, Any] = {"login_code": VERIFIED, "role": PATIENT}
        if len(patients) == 1:
            result["patient_name"] = patients[0].name
        else:
            dispatcher.utter_message(response="utter_logged_in_family", count=len(patients))
        return result


class ActionAskLoginPhone(Action):
    def name(self) -> str:
        return "action_ask_patient_login_form_login_phone"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        own = access.sender_phone(tracker)
        if own is None or tracker.get_slot("login_other_number"):
            who.store().expect_secret(tracker.sender_id, PHONE_KIND)  # the number typed next stays out of Rasa
            dispatcher.utter_message(response="utter_ask_login_phone_other")
        else:
            dispatcher.utter_message(response="utter_ask_login_phone_own", masked_phone=mask_phone(own))
        return []


class ActionAskLoginCode(Action):
    def name(self) -> str:
        return "action_ask_patient_login_form_login_code"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        # before the question goes out: the reply to it must never reach Rasa in clear
        who.store().expect_secret(tracker.sender_id, "otp")
        dispatcher.utter_message(response="utter_ask_login_code")
        return []


class ActionLogin(Action):
    """ "login", "send me the code", "use another number": start the login unless one is running already. A
    message that only NLU took for a login is answered for what it says (`login_meaning`): a logout, a staff
    search, or "that is not something I do"."""

    def name(self) -> str:
        return "action_login"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        login = who.current_login(tracker)
        if turn.latest_intent(tracker) == "login":
            meaning = login_meaning(
                turn.latest_text(tracker), login.kind if login else None, turn.entity(tracker, "person")
            )
            if meaning == STAFF_LOGIN:
                return [FollowupAction("action_staff_login")]
            if meaning == LOGOUT:
                return [FollowupAction("action_logout")]
            if meaning == SEARCH:
                return [FollowupAction("action_search_patient")]
            if meaning == OUT_OF_SCOPE:
                dispatcher.utter_message(response="utter_out_of_scope")
                return []
        if login is not None and login.kind == STAFF:
            dispatcher.utter_message(response="utter_logged_in_as_staff")
            return []
        if login is not None:
            dispatcher.utter_message(
                response="utter_already_logged_in", patient_name=tracker.get_slot("patient_name") or "you"
            )
            return [SlotSet("role", PATIENT)]
        events = access.start_login(tracker, pending=None)
        if turn.latest_intent(tracker) == "use_other_number":
            events.insert(-1, SlotSet("login_other_number", True))
        return events

"""The fallback that helps: when NLU is unsure (FallbackClassifier's `nlu_fallback`), the likeliest meanings
are offered as buttons instead of a plain "Sorry, I didn't understand".

- the first miss: up to MAX_CHOICES intents of the message's `intent_ranking` that make sense as a choice for
  this user (the `role` slot), each a button that sends that intent again with the message's entities
  (`/get_medications{"person":"Ravi"}`), and "Something else" (the menu);
- nothing in the ranking worth offering: the menu's own buttons under the apology, in one message;
- a second miss in a row (the previous message got this fallback too): the helpdesk and the menu;
- a form that turned the message down keeps today's answer (`utter_default`), and asks its question again.

Every text names the ambulance number: the keyword net (nlu_components/safety.py) runs before and answers an
emergency itself, but misses some told in unusual words. An emergency is never offered as a choice.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.shared.forms import REQUEST_INTENTS
from actions.shared.menus import menu_for
from actions.shared.turn import entity, render, tap_payload
from actions.shared.who import ROLE, STAFF
from settings import get_settings

logger = logging.getLogger(__name__)

ACTION_NAME = "action_fallback_choices"
FALLBACK_INTENT = "nlu_fallback"
MAX_CHOICES = 3  # with "Something else", 4 options: a WhatsApp list (3 or fewer: reply buttons)
# below this the classifier is guessing: a button for it would only be noise (then the menu is shown)
MIN_CONFIDENCE = 0.1

# Never a choice: taps and secrets the connector makes, the emergency (the keyword net answers it by itself)
# and a bare yes or no, which only mean something after a question.
NEVER_OFFERED = frozenset(
    {
        FALLBACK_INTENT,
        "secret_provided",
        "session_unavailable",
        "unsupported_message",
        "unsupported_language",
        "choose",
        "staff_choose",
        "staff_more",
        "emergency",
        "affirm",
        "deny",
    }
)
STAFF_ONLY = frozenset({"search_patient", "patient_summary", "reschedule_appointment"})
PATIENT_ONLY = frozenset({"login", "switch_patient", "resend_code", "use_other_number"})
NOT_FOR_STAFF = PATIENT_ONLY | {"staff_login"}  # a staff member is logged in already
LOGGED_IN_ONLY = frozenset({"logout"})

# The button title of each intent worth offering, a domain response (translatable); an intent without one
# (greet, goodbye, thank, menu, out_of_scope, stop_messages, ...) is never offered.
# Written out so that every response sent is findable by name (tests/rasa/test_project.py).
CHOICE_TITLES = {
    "get_records": dict(response="utter_choice_get_records"),
    "get_medications": dict(response="utter_choice_get_medications"),
    "get_appointments": dict(response="utter_choice_get_appointments"),
    "get_procedures": dict(response="utter_choice_get_procedures"),
    "book_appointment": dict(response="utter_choice_book_appointment"),
    "cancel_appointment": dict(response="utter_choice_cancel_appointment"),
    "reschedule_appointment": dict(response="utter_choice_reschedule_appointment"),
    "search_patient": dict(response="utter_choice_search_patient"),
    "patient_summary": dict(response="utter_choice_patient_summary"),
    "login": dict(response="utter_choice_login"),
    "logout": dict(response="utter_choice_logout"),
    "switch_patient": dict(response="utter_choice_switch_patient"),
    "resend_code": dict(response="utter_choice_resend_code"),
    "use_other_number": dict(response="utter_choice_use_other_number"),
    "staff_login": dict(response="utter_choice_staff_login"),
    "help": dict(response="utter_choice_help"),
    "talk_to_human": dict(response="utter_choice_talk_to_human"),
    "ask_reminder": dict(response="utter_choice_ask_reminder"),
    "bot_challenge": dict(response="utter_choice_bot_challenge"),
}
SOMETHING_ELSE = dict(response="utter_choice_something_else")
SOMETHING_ELSE_INTENT = "menu"

# The requests that read a name, a doctor or a relation from the message: their buttons carry them along.
KEPT_ENTITIES = ("person", "practitioner", "phone_number", "relation", "medication_period")
READS_ENTITIES = REQUEST_INTENTS  # the requests that read a name, a doctor or a relation: the same set
PAYLOAD_MAX = 200  # a WhatsApp list row's id (connectors/whatsapp/output.py ROW_ID_MAX)

# what the safety net wrote when it overruled the classifier (nlu_components/safety.py CLASSIFIED_AS_KEY)
CLASSIFIED_AS_KEY = "classified_as"


def offered_to(intent: str, role: str | None) -> bool:
    """Whether this intent makes sense as a choice for this user (role: "patient", "staff" or None)."""
    if intent in NEVER_OFFERED or intent not in CHOICE_TITLES:
        return False
    if intent in STAFF_ONLY:
        return role == STAFF
    if intent in NOT_FOR_STAFF:
        return role != STAFF
    if intent in LOGGED_IN_ONLY:
        return role is not None
    return True


def likely_intents(tracker: Tracker, limit: int = MAX_CHOICES) -> list[str]:
    """The intents of the latest message's ranking worth offering, likeliest first."""
    message = tracker.latest_message or {}
    overruled = ((message.get(CLASSIFIED_AS_KEY) or {}).get("name")) or None  # e.g. a bare number's staff_login
    role = tracker.get_slot(ROLE)
    found: list[str] = []
    for ranked in message.get("intent_ranking") or []:
        name = ranked.get("name") or ""
        if (ranked.get("confidence") or 0.0) < MIN_CONFIDENCE:
            break  # the ranking is sorted: the rest are less likely still
        if name == overruled or name in found or not offered_to(name, role):
            continue
        found.append(name)
        if len(found) == limit:
            break
    return found


def kept_entities(tracker: Tracker) -> dict[str, str]:
    """The message's names, doctors and relations, as typed, for the buttons that read them."""
    values = {name: entity(tracker, name) for name in KEPT_ENTITIES}
    return {name: value for name, value in values.items() if value}


def variation_text(domain: DomainDict, response: str, tracker: Tracker) -> str:
    """A short response's text for this user: its variation whose slot conditions hold, else the plain one."""
    for variation in (domain.get("responses") or {}).get(response) or []:
        conditions = variation.get("condition") or []
        if conditions and all(tracker.get_slot(c.get("name")) == c.get("value") for c in conditions):
            return str(variation.get("text", ""))
    return render(domain, response)


def choice_buttons(intents: list[str], tracker: Tracker, domain: DomainDict) -> list[dict[str, str]]:
    entities = kept_entities(tracker)
    found = []
    for intent in intents:
        payload = tap_payload(intent, **entities) if intent in READS_ENTITIES and entities else tap_payload(intent)
        if len(payload) > PAYLOAD_MAX:  # a long span NLU took for a name: the plain request rather than no button
            payload = tap_payload(intent)
        found.append({"title": variation_text(domain, CHOICE_TITLES[intent]["response"], tracker), "payload": payload})
    something_else = variation_text(domain, SOMETHING_ELSE["response"], tracker)
    return found + [{"title": something_else, "payload": tap_payload(SOMETHING_ELSE_INTENT)}]


def menu_buttons(tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
    """The buttons of the menu this user sees (actions/shared/menus.py)."""
    variations = (domain.get("responses") or {}).get(menu_for(tracker)["response"]) or []
    plain = [v for v in variations if not v.get("condition")] or variations
    return [dict(b) for b in (plain[0].get("buttons") or [])] if plain else []


def missed_just_before(tracker: Tracker) -> bool:
    """Whether the user's previous message got this fallback too (no recognised request since)."""
    seen_latest = False
    for event in reversed(tracker.events or []):
        kind = event.get("event")
        if kind in ("session_started", "restart"):
            return False
        if kind == "user":
            if seen_latest:
                return False  # the previous message was answered by nothing at all (never in practice)
            seen_latest = True
        elif kind == "action" and seen_latest and event.get("name") != "action_listen":
            return event.get("name") == ACTION_NAME  # what answered the previous message, last
    return False


class ActionFallbackChoices(Action):
    def name(self) -> str:
        return ACTION_NAME

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        ambulance = get_settings().national_ambulance_number
        if tracker.active_loop_name:  # a form turned the message down: it asks its question again next
            dispatcher.utter_message(response="utter_default")
            return []
        if missed_just_before(tracker):
            say_helpdesk_and_menu(dispatcher, tracker, ambulance)
            logger.info("fallback: a second miss, the helpdesk and the menu")
            return []
        intents = likely_intents(tracker)
        if not intents:
            dispatcher.utter_message(
                response="utter_fallback_menu", buttons=menu_buttons(tracker, domain), ambulance_number=ambulance
            )
            logger.info("fallback: nothing likely, the menu")
            return []
        dispatcher.utter_message(
            response="utter_fallback_choices",
            buttons=choice_buttons(intents, tracker, domain),
            ambulance_number=ambulance,
        )
        logger.info("fallback: %d choice(s) offered: %s", len(intents), ", ".join(intents))
        return []


def say_helpdesk_and_menu(dispatcher: CollectingDispatcher, tracker: Tracker, ambulance: str) -> None:
    """A person to talk to (the button starts the call-back offer: actions/safety.py), then the menu, last,
    so that a bare "2" typed next picks the menu's second item (connectors/whatsapp/numbers.py)."""
    s = get_settings()
    if s.hospital_helpdesk_number:
        dispatcher.utter_message(
            response="utter_fallback_again",
            helpdesk_number=s.hospital_helpdesk_number,
            helpdesk_hours=s.hospital_helpdesk_hours,
            ambulance_number=ambulance,
        )
    else:
        dispatcher.utter_message(
            response="utter_fallback_again_without_number",
            helpdesk_hours=s.hospital_helpdesk_hours,
            ambulance_number=ambulance,
        )
    dispatcher.utter_message(**menu_for(tracker))

"""Shared behaviour of the assistant's forms (validate_<form> actions).

Form slots have `custom` mappings in the domain: the answer to the question just asked is read here, in
one place, instead of per-slot YAML conditions. The rules of reading:
- a pressed row or button carries the `choice` entity: that is the answer;
- yes/no questions take affirm/deny;
- typed text is the answer unless it is clearly something else: an escape (help, menu, logout, cancel...)
  or another request (get_medications, book_appointment, ...) that the slot's own parser does not
  understand. Then nothing is extracted, the form is rejected, a rule answers the interruption, and the
  form asks its question again.
A validator can end its form early (a CARE failure, too many wrong codes) with `stop()`: the slot
`form_stopped` makes `required_slots` empty, Rasa deactivates the form, and the form's done action
clears up without doing anything more.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction
from rasa_sdk.types import DomainDict

from actions.shared.turn import is_tap, latest_intent, latest_text
from sessions.redaction import ESCAPE_WORDS

ACTION_LISTEN = "action_listen"
CHOICE_ENTITY = "choice"
STOPPED_SLOT = "form_stopped"

# Answered in any state, before anything else (actions/safety.py): never an answer to any question.
SAFETY_INTENTS = frozenset({"emergency", "talk_to_human", "stop_messages", "ask_reminder", "unsupported_language"})
# Never an answer to a form question: the user wants out, or wants something general.
ESCAPE_INTENTS = SAFETY_INTENTS | frozenset(
    {
        "deny",
        "logout",
        "help",
        "menu",
        "goodbye",
        "greet",
        "thank",
        "bot_challenge",
        "out_of_scope",
        "unsupported_message",
        "login",
        "staff_login",
    }
)
# NLU may read a username ("care-volunteer") or a name as almost anything: while those are asked, only these
# leave the question unanswered (the safety net's intents come from keywords, never from a username).
NARROW_ESCAPE_INTENTS = frozenset(
    {"deny", "help", "menu", "logout", "goodbye", "greet", "emergency", "unsupported_language"}
)
# Other requests: an answer only when the slot's parser understands the text anyway
# ("Dr. Asha on Friday" may be classified as book_appointment, and is still a fine answer to "which doctor?").
REQUEST_INTENTS = frozenset(
    {
        "get_records",
        "get_medications",
        "get_appointments",
        "get_procedures",
        "book_appointment",
        "cancel_appointment",
        "switch_patient",
        "search_patient",
        "patient_summary",
        "reschedule_appointment",
    }
)


# `answer()` result for a message meant as the answer but not readable as one: validate_<slot> gets None and
# says so (the form asks again), instead of the message being handed to the rules as something else.
NOT_UNDERSTOOD = object()


class AssistantForm(FormValidationAction, ABC):
    """Base of every validate_<form> action: answer extraction, early stop, slot clean-up."""

    #: slots answered with yes/no (affirm -> True, deny -> False)
    yes_no_slots: frozenset[str] = frozenset()

    @abstractmethod
    def name(self) -> str:
        """validate_<form name>"""

    # ------------------------------------------------------------------ which slots

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot(STOPPED_SLOT):
            return []
        return await self.form_slots(list(domain_slots), tracker)

    async def form_slots(self, domain_slots: list[str], tracker: Tracker) -> list[str]:
        """The slots still to ask for; override to skip or add some."""
        return domain_slots

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> EventType:
        """Always decide the next question here (rasa-sdk leaves it to Rasa when the list equals the domain's),
        so the same slots give the same question in the action server, in Rasa and in tests."""
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        return SlotSet(REQUESTED_SLOT, next((s for s in required if tracker.slots.get(s) is None), None))

    @staticmethod
    def stop(**slots: Any) -> dict[str, Any]:
        """Validator result that ends the form early (the caller has already told the user why)."""
        return {STOPPED_SLOT: True, **slots}

    # ------------------------------------------------------------------ reading the answer

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        slot = tracker.get_slot(REQUESTED_SLOT)
        if not slot:  # activation: the message that started the form may already answer some of its questions
            return [SlotSet(name, value) for name, value in self.start_answers(tracker).items()]
        if not answered_just_now(tracker):
            return []  # back after an interruption: there is no new answer to read
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        if slot not in required:
            return []
        value = self.answer(slot, tracker)
        if value is NOT_UNDERSTOOD:
            return [SlotSet(slot, None)]
        return [] if value is None else [SlotSet(slot, value)]

    def start_answers(self, tracker: Tracker) -> dict[str, Any]:
        """Slots answered by the message that started the form ("staff login care-doctor"); none by default."""
        return {}

    def answer(self, slot: str, tracker: Tracker) -> Any:
        """The answer to `slot` in the latest message; None when the message is not an answer (the rules take
        it: help, cancel, another request); NOT_UNDERSTOOD when it is meant as one but cannot be read."""
        intent = latest_intent(tracker)
        if slot in self.yes_no_slots:
            return yes_or_no(tracker)
        choice = next(iter(tracker.get_latest_entity_values(CHOICE_ENTITY)), None)
        if choice is not None:
            return str(choice)
        text = latest_text(tracker).strip()
        if not text or is_tap(text) or intent in ESCAPE_INTENTS:
            return None
        if intent in REQUEST_INTENTS and not self.understands(slot, text, tracker):
            return None
        return text

    def understands(self, slot: str, text: str, tracker: Tracker) -> bool:
        """Whether `text` reads as an answer to `slot` even though NLU heard another request."""
        return False


def answered_just_now(tracker: Tracker) -> bool:
    """Whether the form runs right after a user message (so the message answers its question).

    Rasa's form action calls validate_<form> with a temporary tracker that ends in `ActionExecuted(<form>)`;
    before that come the user's message (happy path), or another action: the activating action, or the
    answer to an interruption ("help") after which the form only asks again.
    """
    form = tracker.active_loop_name
    for event in reversed(tracker.events or []):
        kind = event.get("event")
        if kind == "user":
            return True
        if kind == "action" and event.get("name") != form:
            return False
    return tracker.latest_action_name == ACTION_LISTEN  # no history sent: judge by the latest action


def yes_or_no(tracker: Tracker) -> bool | None:
    """The latest message as an answer to a yes/no question: affirm -> True, deny -> False, else None."""
    return {"affirm": True, "deny": False}.get(latest_intent(tracker))


def escapes(tracker: Tracker, intents: frozenset[str] = ESCAPE_INTENTS) -> bool:
    """The latest message leaves the question unanswered: an escape intent, an escape word ("cancel",
    whatever NLU made of it) or a button of another menu."""
    text = latest_text(tracker).strip()
    return latest_intent(tracker) in intents or text.lower() in ESCAPE_WORDS or is_tap(text)


def clear(*slots: str) -> list[EventType]:
    return [SlotSet(name, None) for name in slots]

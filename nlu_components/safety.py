"""The safety net in the NLU pipeline: runs after the classifiers and the fallback classifier.

- A message that signals an emergency (common/safety.py) becomes the `emergency` intent with confidence 1,
  whatever DIET thought and however low its confidence was (even when FallbackClassifier said nlu_fallback).
- A message written mostly in a script the assistant does not read yet (Devanagari, Malayalam, ...) becomes
  `unsupported_language`, so it is told so instead of being read as something else.
- The classifier alone does not raise an alarm that the net would not: when it says `emergency` with less
  than CLASSIFIER_ALARM_CONFIDENCE, or about a bill, a report or a class (the net's "something else"), the
  next intent it ranked is taken (or `nlu_fallback` when that one is unsure). Measured on the evaluation
  sets, its own alarms were 7-10 % false against 0 % for the net (bench/safety_eval.py).
- A bare number (a one-time code, a phone number) never starts a staff login, whatever the character n-grams
  of CARE usernames such as "reception_02" suggested, and a short one (a code, "7" after a six-item menu) is
  no patient search: it becomes `nlu_fallback`, which an open question takes as its answer and which is
  otherwise answered with what the assistant can do.
Rasa's extension point for this is a custom graph component named in config.yml; nothing of Rasa is patched.
"""

from __future__ import annotations

import math
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from common.phone import SEARCHABLE_PHONE_DIGITS, bare_number_digits
from common.safety import about_something_else, foreign_script, is_emergency

EMERGENCY_INTENT = "emergency"
FALLBACK_INTENT = "nlu_fallback"
# The least digits a bare number needs to be read as each intent: never a staff login; a patient search only
# for a phone number (a code or a menu number that matched no menu is not one).
BARE_NUMBER_MIN_DIGITS = {"staff_login": math.inf, "search_patient": SEARCHABLE_PHONE_DIGITS}
CLASSIFIER_ALARM_CONFIDENCE = 0.9
SECOND_CHOICE_CONFIDENCE = 0.45  # FallbackClassifier's threshold in config.yml
UNSUPPORTED_LANGUAGE_INTENT = "unsupported_language"


# what the classifiers had said, kept in the parse data: how often the net overrules them is worth knowing
CLASSIFIED_AS_KEY = "classified_as"


def _override(message: Message, intent: str) -> None:
    message.set(CLASSIFIED_AS_KEY, dict(message.get(INTENT) or {}), add_to_output=True)
    top = {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: 1.0}
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != intent]
    message.set(INTENT, top, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [top, *ranking], add_to_output=True)


def _unfounded_alarm(message: Message, text: str) -> bool:
    """The classifier says emergency, the net does not, and the classifier is unsure or the message is
    about something else (a bill, a class, a report)."""
    top = message.get(INTENT) or {}
    if top.get(INTENT_NAME_KEY) != EMERGENCY_INTENT:
        return False
    return (top.get(PREDICTED_CONFIDENCE_KEY) or 0.0) < CLASSIFIER_ALARM_CONFIDENCE or about_something_else(text)


def _second_choice(message: Message) -> str:
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != EMERGENCY_INTENT]
    if ranking and (ranking[0].get(PREDICTED_CONFIDENCE_KEY) or 0.0) >= SECOND_CHOICE_CONFIDENCE:
        return str(ranking[0][INTENT_NAME_KEY])
    return FALLBACK_INTENT


def _not_for_a_bare_number(message: Message, text: str) -> bool:
    """The classifier's intent needs more digits than this bare number has (BARE_NUMBER_MIN_DIGITS)."""
    needed = BARE_NUMBER_MIN_DIGITS.get((message.get(INTENT) or {}).get(INTENT_NAME_KEY) or "")
    digits = bare_number_digits(text)
    return needed is not None and 0 < digits < needed


def safety_intent(text: str) -> str | None:
    if is_emergency(text):
        return EMERGENCY_INTENT
    if foreign_script(text):
        return UNSUPPORTED_LANGUAGE_INTENT
    return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyNet(GraphComponent):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyNet:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/"):  # a button's payload says exactly what it means
                continue
            intent = safety_intent(text)
            if intent is None and _unfounded_alarm(message, text):
                intent = _second_choice(message)
            if intent is None and _not_for_a_bare_number(message, text):
                intent = FALLBACK_INTENT
            if intent is not None:
                _override(message, intent)
        return messages

"""Conversation basics: every new conversation session starts clean and knows the bot's name."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from settings import get_settings


class ActionSessionStart(Action):
    """Starts a session without carrying anything over, and sets the bot's name and welcome text.

    Rasa carries slots into new sessions by default; the domain turns that off so that a logged-in state
    never survives a session expiry. The name and welcome text come from the environment, so the
    responses in the domain (utter_greet, utter_iamabot) can use them as {bot_name} / {welcome_message}.
    """

    def name(self) -> str:
        return "action_session_start"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        s = get_settings()
        return [
            SessionStarted(),
            SlotSet("bot_name", s.whatsapp_bot_name),
            SlotSet("welcome_message", s.whatsapp_bot_welcome_message),
            ActionExecuted("action_listen"),
        ]

"""Conversation basics: sessions start clean; the greeting uses the configured name and welcome text."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted
from rasa_sdk.executor import CollectingDispatcher

from actions.safety import leave_form
from actions.shared.menus import menu_for
from settings import get_settings


class ActionSessionStart(Action):
    """A new conversation session starts logged out, whatever the last one was.

    The domain already stops Rasa from carrying slots over; the CARE login lives server-side (sessions/),
    so it is ended here too: a session that expired after WHATSAPP_SESSION_TIMEOUT_HOURS asks to log in again.
    """

    def name(self) -> str:
        return "action_session_start"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        from sessions.store import get_session_store  # lazy: opens the session database

        get_session_store().end(tracker.sender_id)
        return [SessionStarted(), ActionExecuted("action_listen")]


class ActionGreet(Action):
    """Greets with WHATSAPP_BOT_NAME and WHATSAPP_BOT_WELCOME_MESSAGE, then shows the menu."""

    def name(self) -> str:
        return "action_greet"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        s = get_settings()
        events = leave_form(dispatcher, tracker, domain)  # "hi" in the middle of a question starts afresh
        dispatcher.utter_message(
            response="utter_greet", bot_name=s.whatsapp_bot_name, welcome_message=s.whatsapp_bot_welcome_message
        )
        dispatcher.utter_message(**menu_for(tracker))
        return events


class ActionIAmABot(Action):
    def name(self) -> str:
        return "action_iamabot"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_iamabot", bot_name=get_settings().whatsapp_bot_name)
        return []

"""Safety first, in any state of the conversation, for patients, staff and strangers alike.

- an emergency gets the emergency numbers at once, and leaves whatever question was open (the next message
  is never taken as a code, a password or a form's answer);
- "talk to a nurse", "call me", "complaint" get the helpdesk and can leave a call-back request;
- "menu" and the like leave an open question politely instead of being taken as its answer;
- "STOP" stops this phone's reminders at once (and ends an open question); with none, an honest answer.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.shared.forms import STOPPED_SLOT, AssistantForm, clear
from actions.shared.menus import menu_for
from actions.shared.turn import render
from common.phone import InvalidPhoneNumber, mask_phone, to_e164
from common.safety import is_self_harm
from sessions.redaction import SKIP_WORDS
from settings import get_settings

logger = logging.getLogger(__name__)

NOTE_GIVEN, NOTE_SKIPPED, NOTE_ALREADY = "given", "skipped", "already asked"
CALLBACK_SLOTS = ("callback_wanted", "callback_note")


def _store() -> Any:
    from sessions.store import get_session_store  # lazy: opens the session database

    return get_session_store()


def leave_form(dispatcher: CollectingDispatcher | None, tracker: Tracker, domain: DomainDict) -> list[EventType]:
    """Leave the open form, if any: its slots emptied, a code or password it asked for no longer awaited
    (though one typed right after, out of habit, is still kept out of the chat history: `linger_expectation`).

    With a dispatcher, the user is told ("OK, I've stopped that."); an emergency answer says enough itself.
    """
    form = tracker.active_loop_name
    try:
        _store().linger_expectation(tracker.sender_id)
    except Exception as exc:  # noqa: BLE001 - the answer (an emergency's above all) must still go out
        logger.error("session store unavailable (%s): an expected secret was not updated", type(exc).__name__)
    if not form:
        return []
    if dispatcher is not None:
        dispatcher.utter_message(response="utter_form_left")
    form_slots = ((domain.get("forms") or {}).get(form) or {}).get("required_slots") or []
    events: list[EventType] = [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None), SlotSet(STOPPED_SLOT, None)]
    return events + clear(*(s for s in form_slots if tracker.get_slot(s) is not None))


def _sender_e164(tracker: Tracker) -> str | None:
    try:
        return to_e164(tracker.sender_id or "")
    except InvalidPhoneNumber:
        return None


class ActionEmergency(Action):
    def name(self) -> str:
        return "action_emergency"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        s = get_settings()
        numbers = {"ambulance_number": s.national_ambulance_number, "emergency_number": s.national_emergency_number}
        if s.hospital_emergency_number:
            dispatcher.utter_message(
                response="utter_emergency", hospital_emergency_number=s.hospital_emergency_number, **numbers
            )
        else:
            dispatcher.utter_message(response="utter_emergency_without_hospital_number", **numbers)
        if is_self_harm((tracker.latest_message or {}).get("text") or ""):
            dispatcher.utter_message(
                response="utter_emergency_self_harm", mental_health_helpline=s.mental_health_helpline
            )
        logger.warning("emergency message answered with the emergency numbers")  # no text, no number
        return leave_form(None, tracker, domain)


def say_helpdesk(dispatcher: CollectingDispatcher) -> None:
    s = get_settings()
    if s.hospital_helpdesk_number:
        dispatcher.utter_message(
            response="utter_helpdesk",
            helpdesk_number=s.hospital_helpdesk_number,
            helpdesk_hours=s.hospital_helpdesk_hours,
        )
    else:
        dispatcher.utter_message(response="utter_helpdesk_without_number", helpdesk_hours=s.hospital_helpdesk_hours)


class ActionTalkToHuman(Action):
    """The helpdesk's number and hours; the call-back form runs next (when the sender has a number)."""

    def name(self) -> str:
        return "action_talk_to_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events = leave_form(None, tracker, domain)
        say_helpdesk(dispatcher)
        phone = _sender_e164(tracker)
        if phone is None:  # nobody to call back (a username-only WhatsApp account)
            return events + [SlotSet("callback_wanted", False), SlotSet("callback_note", NOTE_SKIPPED)]
        earlier = _open_request(tracker.sender_id)
        if earlier is not None:  # asked twice: the helpdesk calls once
            dispatcher.utter_message(
                response="utter_callback_already", reference=earlier, masked_phone=mask_phone(phone)
            )
            return events + [SlotSet("callback_wanted", False), SlotSet("callback_note", NOTE_ALREADY)]
        return events + clear(*CALLBACK_SLOTS)


def _open_request(sender: str) -> str | None:
    try:
        from sessions.handoffs import get_handoff_store  # lazy: opens the assistant database

        return get_handoff_store().open_request_for(sender)
    except Exception as exc:  # noqa: BLE001 - then a second request is recorded, which is the lesser harm
        logger.error("call-back requests unavailable: %s", type(exc).__name__)
        return None


class ActionAskCallbackWanted(Action):
    def name(self) -> str:
        return "action_ask_callback_wanted"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(
            response="utter_ask_callback_wanted", masked_phone=mask_phone(_sender_e164(tracker) or "")
        )
        return []


class ActionAskCallbackNote(Action):
    """The note goes to the session store, never through Rasa: the connector is told to expect it."""

    def name(self) -> str:
        return "action_ask_callback_note"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        _store().expect_secret(tracker.sender_id, "note")
        dispatcher.utter_message(response="utter_ask_callback_note")
        return []


class ValidateCallbackForm(AssistantForm):
    yes_no_slots = frozenset({"callback_wanted"})

    def name(self) -> str:
        return "validate_callback_form"

    async def form_slots(self, domain_slots: list[str], tracker: Tracker) -> list[str]:
        if tracker.get_slot("callback_wanted") is False:
            return ["callback_wanted"]
        return domain_slots

    def answer(self, slot: str, tracker: Tracker) -> Any:
        if slot != "callback_note":
            return super().answer(slot, tracker)
        message = tracker.latest_message or {}
        if ((message.get("intent") or {}).get("name")) == "secret_provided":
            return NOTE_GIVEN
        text = (message.get("text") or "").strip().lower()
        return NOTE_SKIPPED if text in SKIP_WORDS else None


class ActionCallbackDone(Action):
    def name(self) -> str:
        return "action_callback_done"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events = clear(*CALLBACK_SLOTS)
        phone = _sender_e164(tracker)
        if tracker.get_slot("callback_note") == NOTE_ALREADY:
            return events  # action_talk_to_human has said when the helpdesk will call
        if not tracker.get_slot("callback_wanted") or phone is None:
            _store().clear_expectation(tracker.sender_id)
            dispatcher.utter_message(response="utter_callback_not_wanted")
            return events
        try:
            from sessions.handoffs import get_handoff_store  # lazy: opens the assistant database

            store = _store()
            store.clear_expectation(tracker.sender_id)
            given = tracker.get_slot("callback_note") == NOTE_GIVEN
            note = store.take_secret(tracker.sender_id, "note") if given else None
            login = store.login(tracker.sender_id)
            reference = get_handoff_store().request_callback(
                tracker.sender_id, phone, note, login.kind if login is not None else "anonymous"
            )
        except Exception as exc:  # noqa: BLE001 - the user is told to call instead
            logger.error("call-back request not recorded: %s", type(exc).__name__)
            dispatcher.utter_message(response="utter_callback_failed")
            return events
        dispatcher.utter_message(
            response="utter_callback_recorded",
            masked_phone=mask_phone(phone),
            helpdesk_hours=get_settings().hospital_helpdesk_hours,
            reference=reference,
        )
        return events


class ActionStopMessages(Action):
    """ "STOP", "stop reminders", "no more medicine messages": this phone's reminders stop at once (all of them,
    or only the purpose the words name), and an open question ends; with no reminders, an honest answer."""

    def name(self) -> str:
        return "action_stop_messages"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events = leave_form(dispatcher, tracker, domain) if tracker.active_loop_name else []
        try:
            stopped = stop_reminders(tracker, domain)
        except Exception as exc:  # noqa: BLE001 - said plainly; the reminders' own check stops none wrongly
            logger.error("reminder opt-out not recorded: %s", type(exc).__name__)
            dispatcher.utter_message(response="utter_reminders_stop_failed")
            return events
        if stopped is not None:
            dispatcher.utter_message(response=stopped)
        elif not tracker.active_loop_name:
            dispatcher.utter_message(response="utter_stop_messages")
        return events


# written out so that every response sent is findable by name (tests/rasa/test_project.py)
STOP_RESPONSES: dict[tuple[str, ...], dict[str, str]] = {
    ("medications",): dict(response="utter_reminders_stopped_medications"),
    ("appointments",): dict(response="utter_reminders_stopped_appointments"),
}
STOPPED_ALL = dict(response="utter_reminders_stopped")


def stop_reminders(tracker: Tracker, domain: DomainDict) -> str | None:
    """Opt this phone's patients out (method "words"); the response that says so, or None when nothing was on."""
    from common.reminder_words import purposes_in
    from notifications.store import get_notification_store  # lazy: opens the assistant database

    text = (tracker.latest_message or {}).get("text") or ""
    named = purposes_in(text)
    store = get_notification_store()
    consents = [c for c in store.consents_for_sender(tracker.sender_id) if c.opted_in]
    on = [c for c in consents if not named or c.purpose in named]
    if not on:
        return None
    purposes = tuple(sorted({c.purpose for c in on}, reverse=True))  # medications before appointments
    response = STOP_RESPONSES.get(purposes, STOPPED_ALL)["response"]
    shown = render(domain, response)
    phone = _sender_e164(tracker) or ""
    for consent in on:
        store.set_consent(
            consent.patient_id,
            consent.purpose,
            opted_in=False,
            sender=tracker.sender_id,
            phone_e164=phone,
            method="words",
            wording_shown=shown,
        )
    logger.info("reminders stopped in words (%d)", len(on))
    return response


class ActionUnsupportedLanguage(Action):
    """Text in a script not read yet: said in English, Hindi and Malayalam, with the emergency numbers, since
    an emergency in such words may not have been recognised."""

    def name(self) -> str:
        return "action_unsupported_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        s = get_settings()
        dispatcher.utter_message(
            response="utter_unsupported_language",
            ambulance_number=s.national_ambulance_number,
            emergency_number=s.national_emergency_number,
        )
        return []


class ActionShowMenu(Action):
    """ "menu" (or "back", "start again") leaves any open question and shows the menu."""

    def name(self) -> str:
        return "action_show_menu"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events = leave_form(dispatcher, tracker, domain)
        dispatcher.utter_message(**menu_for(tracker))
        return events

"""rasa_tuning.tracker_copy: the tracker copied before each action is the tracker Rasa's replay makes, after
every event of every test story and of scripts with forms, reverted and restarted turns, paused conversations."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    FollowupAction,
    LoopInterrupted,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from tests.rasa.test_rule_states import _story_events

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def domain() -> Domain:
    from rasa_tuning import speedups

    assert speedups.install()  # the patches, not Rasa compared with itself
    return Domain.load(str(ROOT / "domain"))


def _said(intent: str, **entities: str) -> list:
    return [
        ActionExecuted("action_listen"),
        UserUttered(
            intent,
            intent={"name": intent, "confidence": 1.0},
            entities=[{"entity": k, "value": v} for k, v in entities.items()],
        ),
    ]


def _scripts(domain: Domain) -> list[list]:
    form = "patient_login_form"
    return [events for _, events in _story_events(domain)] + [
        [
            *_said("greet"),
            ActionExecuted("utter_greet"),
            BotUttered("Hello"),
            *_said("menu"),
            ActionExecuted("utter_menu"),
            UserUtteranceReverted(),
            SlotSet("role", "patient"),
            *_said("help"),
            ActionExecuted("utter_help"),
            ActionReverted(),
            FollowupAction("utter_menu"),
            ConversationPaused(),
            ConversationResumed(),
            Restarted(),
            *_said("goodbye"),
            ActionExecuted("utter_goodbye"),
        ],
        [
            ActionExecuted("action_session_start"),
            SessionStarted(),
            *_said("login", choice="patient"),
            ActionExecuted(form),
            ActiveLoop(form),
            SlotSet("requested_slot", "login_phone"),
            *_said("help"),
            ActionExecutionRejected(form),
            ActionExecuted("utter_help"),
            LoopInterrupted(True),
            ActionExecuted(form),
            SlotSet("login_phone", "9876543210"),
            ActiveLoop(None),
            SlotSet("requested_slot", None),
        ],
    ]


def _state(tracker: DialogueStateTracker) -> dict:
    return {
        "attributes": sorted(a for a in vars(tracker) if not a.startswith("_care_")),  # our memos aside
        "events": [id(e) for e in tracker.events],
        "slots": {name: (type(slot), vars(slot)) for name, slot in tracker.slots.items()},
        "paused": tracker.is_paused(),
        "followup": tracker.followup_action,
        "latest_action": tracker.latest_action,
        "latest_message": tracker.latest_message,
        "latest_bot_utterance": tracker.latest_bot_utterance,
        "active_loop": tracker.active_loop,
        "ids": (
            tracker.sender_id,
            tracker.model_id,
            tracker.assistant_id,
            tracker.sender_source,
            tracker._max_event_history,
            tracker.is_rule_tracker,
        ),
        "current": tracker.current_state(EventVerbosity.AFTER_RESTART),
    }


def test_the_copy_is_what_rasas_replay_makes(domain):
    replay = DialogueStateTracker.copy.__wrapped__
    checked = 0
    for events in _scripts(domain):
        tracker = DialogueStateTracker("someone", domain.slots)
        tracker.model_id = "model-1"  # not carried by Rasa's replay either
        for event in events:
            tracker.update(event)
            ours, theirs = tracker.copy(), replay(tracker)
            assert _state(ours) == _state(theirs), event
            checked += 1
    assert checked > 300


def test_what_an_action_does_to_the_copy_stays_in_the_copy(domain):
    tracker = DialogueStateTracker.from_events("someone", _scripts(domain)[-1][:8], slots=domain.slots)
    before = _state(tracker)
    assert tracker.active_loop is not None and tracker.latest_action
    twin = tracker.copy()
    twin.update(SlotSet("login_phone", "9000000000"))
    twin.update(ActionExecutionRejected("patient_login_form"))
    twin.latest_action["action_name"] = "changed"
    twin.update(ActiveLoop(None))
    assert _state(tracker) == before
    assert twin.get_slot("login_phone") == "9000000000" and tracker.get_slot("login_phone") is None

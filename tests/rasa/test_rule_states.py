"""rasa_tuning.rule_states: the rule policy predicts exactly what Rasa's own code predicts, turn by turn, on
every test story (forms, slots, logins, fallbacks) and on trackers with reverted and restarted turns."""

from __future__ import annotations

import contextlib
from pathlib import Path

from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH

ROOT = Path(__file__).resolve().parents[2]
LOOKUPS = (RULES, RULES_FOR_LOOP_UNHAPPY_PATH)


def _story_events(domain) -> list[tuple[str, list]]:
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

    stories = []
    for path in sorted((ROOT / "tests" / "stories").glob("*.yml")):
        for step in YAMLStoryReader(domain).read_from_file(str(path)):
            stories.append((step.block_name, step.explicit_events(domain)))
    return stories


@contextlib.contextmanager
def _rasas_own(monkeypatch):
    """Rasa's own code for the duration of a `with` block."""
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core.trackers import DialogueStateTracker

    with monkeypatch.context() as patch:
        patch.setattr(DialogueStateTracker, "past_states", DialogueStateTracker.past_states.__wrapped__)
        patch.setattr(RulePolicy, "_get_possible_keys", RulePolicy._get_possible_keys.__wrapped__)
        patch.setattr(RulePolicy, "_prediction_states", RulePolicy._prediction_states.__wrapped__)
        yield


def _prediction(processor, tracker) -> tuple:
    p = processor._predict_next_with_tracker(tracker)
    events = [{k: v for k, v in e.as_dict().items() if k != "timestamp"} for e in p.events]  # made just now
    return p.max_confidence_index, p.policy_name, list(p.probabilities), events, p.hide_rule_turn


def _rule_policy(agent):
    from rasa.core.policies.rule_policy import RulePolicy

    nodes = agent.processor.graph_runner._instantiated_nodes.values()
    [policy] = [node._component for node in nodes if isinstance(getattr(node, "_component", None), RulePolicy)]
    return policy


def test_every_test_story_is_predicted_as_rasa_predicts_it(agent, monkeypatch):
    from rasa.shared.core.events import ActionExecuted, SessionStarted
    from rasa.shared.core.trackers import DialogueStateTracker

    from rasa_tuning import speedups

    assert speedups.install()  # the patches, not Rasa compared with itself
    processor, domain = agent.processor, agent.domain
    policy = _rule_policy(agent)
    stories = _story_events(domain)
    assert len(stories) >= 30
    checked, windowed_somewhere = 0, False
    longest = max(len(policy._rule_key_to_state(key)) for kind in LOOKUPS for key in policy.lookup[kind])
    for name, events in stories:
        # one tracker through the whole story: the remembered states carry over from prediction to prediction
        tracker = DialogueStateTracker.from_events(
            name,
            [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")],
            slots=domain.slots,
        )
        for event in events:
            if isinstance(event, ActionExecuted):
                states = tracker.past_states(domain)
                keys = [policy._get_possible_keys(policy.lookup[kind], states) for kind in LOOKUPS]
                # the rule policy's own states: only the newest ones, the same keys found in them
                windowed = [policy._prediction_states(tracker, domain, text) for text in (True, False)]
                window_keys = [
                    [policy._get_possible_keys(policy.lookup[kind], w) for kind in LOOKUPS] for w in windowed
                ]
                ours = _prediction(processor, tracker), states, keys
                with _rasas_own(monkeypatch):
                    fresh = tracker.copy()
                    states = fresh.past_states(domain)
                    keys = [policy._get_possible_keys(policy.lookup[kind], states) for kind in LOOKUPS]
                    assert ours == (_prediction(processor, fresh), states, keys), (name, event)
                    full = [policy._prediction_states(fresh, domain, text) for text in (True, False)]
                    assert window_keys == [
                        [policy._get_possible_keys(policy.lookup[kind], f) for kind in LOOKUPS] for f in full
                    ], (name, event)
                for w, f in zip(windowed, full, strict=True):
                    assert len(w) == min(len(f), longest + 1) and w == f[len(f) - len(w) :], (name, event)
                    if len(f) > len(w):
                        windowed_somewhere = True
                checked += 1
            tracker.update(event)
    assert checked > 200 and windowed_somewhere


def test_states_follow_reverted_and_restarted_turns(agent, monkeypatch):
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionReverted,
        Restarted,
        SlotSet,
        UserUtteranceReverted,
        UserUttered,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    from rasa_tuning import speedups

    assert speedups.install()  # the patches, not Rasa compared with itself
    domain = agent.domain

    def said(intent: str) -> list:
        return [UserUttered(intent, intent={"name": intent, "confidence": 1.0})]

    script = [
        ActionExecuted("action_listen"),
        *said("greet"),
        ActionExecuted("utter_greet"),
        ActionExecuted("action_listen"),
        *said("menu"),
        ActionExecuted("utter_menu"),
        UserUtteranceReverted(),
        SlotSet("role", "patient"),
        ActionExecuted("action_listen"),
        *said("help"),
        ActionExecuted("utter_help"),
        ActionReverted(),
        ActionExecuted("action_listen"),
        Restarted(),
        ActionExecuted("action_listen"),
        *said("goodbye"),
        ActionExecuted("utter_goodbye"),
    ]
    tracker = DialogueStateTracker("someone", domain.slots)
    for event in script:
        tracker.update(event)
        ours = tracker.past_states(domain)
        for state in ours:  # what a caller does to its copy (the featurizer deletes keys) must not stay
            for sub_state in state.values():
                sub_state.clear()
        ours = tracker.past_states(domain)
        with _rasas_own(monkeypatch):
            assert ours == tracker.copy().past_states(domain), event


def test_applied_events_are_rasas_after_every_event(agent):
    """rasa_tuning.applied_events continues its last answer; after every event of every test story, of a
    script with reverted and restarted turns and of one where a form is named only after it ran, the answer
    is the very list of event objects Rasa's own walk gives."""
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionReverted,
        ActiveLoop,
        Restarted,
        SessionStarted,
        SlotSet,
        UserUtteranceReverted,
        UserUttered,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    from rasa_tuning import applied_events, speedups

    assert speedups.install()  # the patches, not Rasa compared with itself
    rasas = DialogueStateTracker.applied_events.__wrapped__
    domain = agent.domain
    form = "patient_login_form"

    def said(intent: str) -> list:
        return [ActionExecuted("action_listen"), UserUttered(intent, intent={"name": intent, "confidence": 1.0})]

    scripts = [events for _, events in _story_events(domain)] + [
        [
            *said("greet"),
            ActionExecuted("utter_greet"),
            *said("menu"),
            ActionExecuted("utter_menu"),
            UserUtteranceReverted(),
            SlotSet("role", "patient"),
            *said("help"),
            ActionExecuted("utter_help"),
            ActionReverted(),
            Restarted(),
            *said("goodbye"),
            ActionExecuted("utter_goodbye"),
        ],
        # the form's action runs before any ActiveLoop names it: naming it later changes how those steps read
        [
            *said("login"),
            ActionExecuted(form),
            *said("deny"),
            ActionExecuted(form),
            ActiveLoop(form),
            ActionExecuted(form),
            *said("inform"),
            ActionExecuted(form),
            ActiveLoop(None),
            ActionExecuted("utter_menu"),
            SessionStarted(),
            *said("login"),
            ActionExecuted(form),
            ActiveLoop(form),
            *said("inform"),
            ActionExecuted(form),
            ActiveLoop(None),
        ],
    ]
    checked, walks = 0, applied_events.full_walks
    for events in scripts:
        tracker = DialogueStateTracker("someone", domain.slots)
        for event in events:
            tracker.update(event)
            ours = tracker.applied_events()
            ours.clear()  # a caller's changes to its list must not stay
            ours, theirs = tracker.applied_events(), rasas(tracker)
            assert len(ours) == len(theirs) and all(map(lambda a, b: a is b, ours, theirs)), event
            checked += 1
    assert checked > 300
    # most answers were continued, not walked again from the start
    assert applied_events.full_walks - walks < checked / 5

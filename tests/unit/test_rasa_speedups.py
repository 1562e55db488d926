"""The shortcuts in rasa_tuning.speedups answer exactly as Rasa's own code does."""

from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses

from rasa_tuning import speedups

VALID = [
    {"events": [], "responses": []},
    {
        "events": [{"event": "slot", "name": "role", "value": "patient", "timestamp": None}],
        "responses": [{"response": "utter_menu"}],
    },
    {"events": [{"event": "session_started"}, {"event": "action", "name": "action_listen"}], "responses": []},
]
INVALID = [
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": "not a list", "responses": []},
    {"events": [{"event": "slot", "name": 3}], "responses": []},
]


@pytest.mark.parametrize("result", VALID)
def test_valid_action_results_pass(result):
    jsonschema.validate(result, RemoteAction.action_response_format_spec())  # Rasa's way agrees
    assert speedups.validate_action_result(result) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_action_results_are_refused_with_rasas_hint(result):
    with pytest.raises(jsonschema.ValidationError) as rasas:
        jsonschema.validate(result, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError) as ours:
        speedups.validate_action_result(result)
    assert ours.value.message.startswith(rasas.value.message)
    assert "Failed to validate Action server response" in ours.value.message


def _sample_events() -> list:
    from rasa.shared.core import events as ev

    made = [
        ev.UserUttered("hi", {"name": "greet", "confidence": 0.9}, [{"entity": "person", "value": "Anita"}]),
        ev.ActionExecuted("utter_greet", policy="RulePolicy", confidence=1.0),
        ev.SlotSet("role", "patient"),
        ev.SlotSet("role", None),
        ev.EntitiesAdded([{"entity": "person", "value": "Ravi"}]),
        ev.ActiveLoop("f"),
        ev.ActiveLoop(None),
        ev.LoopInterrupted(True),
        ev.FollowupAction("utter_menu"),
        ev.Restarted(),
        ev.AllSlotsReset(),
        ev.ConversationPaused(),
        ev.ConversationResumed(),
        ev.SessionStarted(),
        ev.BotUttered("hello", {"buttons": []}),
        ev.UserUtteranceReverted(),
        ev.ActionReverted(),
        ev.ActionExecutionRejected("a"),
        ev.ReminderCancelled(name="r"),
        ev.AgentUttered("x"),
        ev.UserUtteranceReverted(),
        ev.DefinePrevUserUtteredFeaturization(True),
    ]
    good = [event.as_dict() for event in made]
    bad = [
        {"event": "slot", "name": 3, "value": 1},
        {"event": "slot", "value": 1},
        {"event": 3},
        {"event": ["slot"]},
        {"name": "x"},
        "slot",
        None,
        {"event": "user", "text": 5},
        {"event": "user", "parse_data": {"entities": [{"entity": "x"}]}},
        {"event": "action", "name": 5},
        {"event": "entities"},
        {"event": "bot", "timestamp": "yesterday"},
        {"event": "bot", "metadata": 1},
        {"event": "no_such_event"},
    ]
    return good, bad


def test_validation_by_event_name_agrees_with_the_full_schema():
    """The shortcut (each event checked against its own type's schema) says what the full `oneOf` says."""
    good, bad = _sample_events()
    assert speedups._event_validators() is not None  # Rasa's schema still has the expected shape
    full = speedups._response_validator()
    results = [{"events": [event], "responses": []} for event in good + bad]
    results += [
        {"events": good, "responses": [{"text": "x"}]},
        {"events": good + [bad[0]]},
        {"events": None},
        {"responses": "x"},
        {},
        [],
        "text",
        {"events": [], "responses": [3]},
    ]
    verdicts = [(speedups._passes_by_event_name(result), full.is_valid(result)) for result in results]
    assert [ours for ours, _ in verdicts] == [rasas for _, rasas in verdicts]
    assert sum(rasas for _, rasas in verdicts) == len(good) + 2  # both kinds are really in the sample


def test_patched_action_validation_is_what_rasa_calls():
    assert speedups.install()  # the patches, not Rasa compared with itself
    action = RemoteAction("action_x", None)
    assert action._validate_action_result(VALID[1]) is True
    with pytest.raises(jsonschema.ValidationError):
        action._validate_action_result(INVALID[0])


def test_every_event_type_resolves_to_rasas_class():
    expected = {}
    for cls in all_subclasses(Event):
        expected.setdefault(cls.type_name, cls)
    assert speedups.install()  # the patches, not Rasa compared with itself
    for name, cls in expected.items():
        assert Event.resolve_by_type(name) is cls
    with pytest.raises(ValueError):
        Event.resolve_by_type("no_such_event")
    assert Event.resolve_by_type("topic") is None  # Rasa's backwards compatibility kept


def test_parse_cache_hands_out_copies_and_forgets_the_oldest():
    cache = speedups.ParseCache(size=2)
    cache.put("menu", {"text": "menu", "intent": {"name": "menu"}, "entities": []})
    first = cache.get("menu")
    first["entities"].append({"entity": "x"})  # Rasa's processor may change what it gets
    assert cache.get("menu")["entities"] == []
    cache.put("help", {"text": "help", "intent": {"name": "help"}, "entities": []})
    cache.put("hi", {"text": "hi", "intent": {"name": "greet"}, "entities": []})
    assert cache.get("menu") is None and cache.get("hi")["intent"]["name"] == "greet"


def test_parse_cache_never_keeps_per_message_fields():
    cache = speedups.ParseCache()
    cache.put("hi", {"text": "hi", "message_id": "wamid.1", "intent": {"name": "greet"}})
    assert cache.get("hi") is None


def test_slots_copy_as_the_generic_copy_did():
    import copy
    from pathlib import Path

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.slots import AnySlot

    class Hooked(AnySlot):  # a slot with its own state hooks keeps the generic path
        type_name = "hooked"

        def __getstate__(self):
            return {**self.__dict__, "_value": "from the hook"}

    assert speedups.install()  # the patches, not Rasa compared with itself
    slots = Domain.load(str(Path(__file__).resolve().parents[2] / "domain")).slots
    assert len(slots) > 20
    for slot in slots + [Hooked("h", mappings=[])]:
        slot.value = ["a", "list"] if slot.type_name == "list" else slot.value
        generic = copy._reconstruct(slot, None, *slot.__reduce_ex__(4))
        ours = copy.copy(slot)
        assert type(ours) is type(slot) and ours is not slot
        assert vars(ours) == vars(generic), slot.name
        ours.value = "changed"
        assert slot.value != "changed"
    assert copy.copy(Hooked("h", mappings=[])).value == "from the hook"


def test_sparse_features_join_as_scipy_joins_them():
    import numpy as np
    from scipy.sparse import csr_matrix, hstack
    from scipy.sparse import random as sparse_random

    from rasa_tuning.sparse_features import hstack_pair

    rng = np.random.default_rng(7)
    pairs = []
    for seed in range(100):
        rows = int(rng.integers(1, 12))
        pairs.append(
            (
                sparse_random(
                    rows,
                    int(rng.integers(1, 3000)),
                    density=0.05,
                    format="coo",
                    random_state=seed,
                    dtype=[np.float32, np.float64, np.int64][seed % 3],
                ),
                sparse_random(
                    rows, int(rng.integers(1, 300)), density=0.2, format="coo", random_state=seed + 1, dtype=np.float32
                ),
            )
        )
    pairs.append((csr_matrix(np.eye(3)), sparse_random(3, 4, density=0.5, format="coo")))  # not COO: scipy's way
    for left, right in pairs:
        ours, scipys = hstack_pair(left, right), hstack([left, right])
        assert type(ours) is type(scipys) and ours.shape == scipys.shape and ours.dtype == scipys.dtype
        for part in ("row", "col", "data"):
            assert getattr(ours, part).dtype == getattr(scipys, part).dtype
            assert np.array_equal(getattr(ours, part), getattr(scipys, part))

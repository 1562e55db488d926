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
    {"events": [{"event": "slot", "name": "role", "value": "patient", "timestamp": None}],
     "responses": [{"response": "utter_menu"}]},
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


def test_patched_action_validation_is_what_rasa_calls():
    speedups.install()
    action = RemoteAction("action_x", None)
    assert action._validate_action_result(VALID[1]) is True
    with pytest.raises(jsonschema.ValidationError):
        action._validate_action_result(INVALID[0])


def test_every_event_type_resolves_to_rasas_class():
    expected = {}
    for cls in all_subclasses(Event):
        expected.setdefault(cls.type_name, cls)
    speedups.install()
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

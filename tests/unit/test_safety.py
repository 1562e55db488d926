"""The emergency safety net: what it catches, what it leaves alone, and the scripts it does not read yet."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from common.safety import foreign_script, is_emergency, is_self_harm, normalise
from nlu_components.safety import safety_intent

SETS = sorted((Path(__file__).resolve().parents[1] / "fixtures" / "safety").glob("emergency_*.yml"))


def _load(path: Path) -> dict[str, list[str]]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_there_are_enough_phrasings_to_measure():
    emergencies = [t for p in SETS for t in _load(p)["emergency"]]
    everyday = [t for p in SETS for t in _load(p)["everyday"]]
    assert len(SETS) >= 3 and len(emergencies) >= 60 and len(everyday) >= 60


@pytest.mark.parametrize("path", SETS, ids=[p.stem for p in SETS])
def test_every_emergency_phrasing_is_caught(path):
    missed = [t for t in _load(path)["emergency"] if not is_emergency(t)]
    assert missed == []


@pytest.mark.parametrize("path", SETS, ids=[p.stem for p in SETS])
def test_everyday_look_alikes_raise_at_most_two_percent_false_alarms(path):
    everyday = _load(path)["everyday"]
    alarms = [t for t in everyday if is_emergency(t)]
    assert len(alarms) <= 0.02 * len(everyday), alarms


@pytest.mark.parametrize(
    "text",
    [
        "my mother fell and is not waking up",
        "MY MOTHER FELL AND IS NOT WAKING UP!!!",
        "emergency, my father has chest pain",
        "ambulance",
        "pls send ambulance",
        "papa ko seene mein dard",
        "ammakku bodham illa",
        "സീനിയർ: അമ്മയ്ക്ക് നെഞ്ചുവേദന",
        "पापा बेहोश हो गए",
    ],
)
def test_the_messages_a_hospital_can_least_afford_to_miss(text):
    assert is_emergency(text)


@pytest.mark.parametrize(
    "text",
    [
        "my chest x-ray report",
        "pain killer medicine list",
        "hi",
        "2",
        "45612",
        "my otp is 45612",
        "care-doctor",
        "Ohcn@123",
        "Ramesh Kumar",
        "cancel",
        "book appointment for tomorrow",
        "what is the fee for an ECG",
        "my dad had a stroke last year, show his tablets",
        "ambulance charges",
        "",
    ],
)
def test_everyday_messages_are_not_emergencies(text):
    assert not is_emergency(text)


def test_old_malayalam_chillu_and_zero_width_joiners_read_like_the_new_forms():
    old = "ആംബുലന്\u200dസ് വേണം"  # chillu n written as na + virama + ZWJ
    assert normalise(old) == normalise("ആംബുലൻസ് വേണം")
    assert is_emergency(old)
    assert is_emergency("am\u200bbulance")


def test_self_harm_is_told_apart_for_the_helpline():
    assert is_self_harm("i don't want to live anymore")
    assert is_self_harm("मैं अपनी जान देना चाहता हूं")
    assert not is_self_harm("my father has chest pain")


# Found in review, not in the evaluation sets: everyday words the net once took for emergencies, and
# emergencies it once let pass because of an everyday word beside them.
@pytest.mark.parametrize(
    "text",
    [
        "should I take 2 tablets of paracetamol",
        "I got my flu shot yesterday",
        "we had a blast at the camp",
        "this shoe fits",
        "he walks with a limp",
        "I burnt the toast",
        "my phone battery is low",
        "can I use hair dye before surgery",
        "fasting sugar 90",
        "last time i messaged you i asked about my report",
        "appointment khatam karna hai",
        "tell him sorry I am late",
        "the doctor does not answer the phone",
        "room 108",
        "Rs 1120",
        "my uhid is 11234",
        "विषय क्या है",
        "451120",
        "98108 12345",
        "Care@112",
        "Sos@1234",
        "my father had chest pain last year, want to book cardiology follow up",
    ],
)
def test_everyday_words_that_once_raised_false_alarms(text):
    assert not is_emergency(text)


@pytest.mark.parametrize(
    "text",
    [
        "my father has chest pain after his tablets",
        "chest pain after food",
        "i have chest pain and my inhaler is not working",
        "my son is having seizures after the vaccine",
        "accident near the clinic, send ambulance",
        "i wanna die",
        "call 108",
        "108",
        "SOS",
        "my son swallowed a button battery",
        "bachche ne harpic pi liya",
        "sugar is 35 and sweating",
    ],
)
def test_emergencies_beside_everyday_words(text):
    assert is_emergency(text)


@pytest.mark.parametrize(
    "text", ["i wanna die", "nahi jeena", "mar jaunga", "marikkanam", "chathal mathi", "मरना चाहता हूं", "नहीं जीना मुझे"]
)
def test_every_self_harm_phrasing_of_the_net_gets_the_helpline(text):
    assert is_emergency(text) and is_self_harm(text)


def test_a_huge_message_is_read_at_its_start_and_its_end():
    assert is_emergency("ambulance " + "x" * 1_000_000)
    assert is_emergency("x " * 1_250 + "now my mother fell and is not waking up")
    assert not is_emergency("x" * 5_000 + " ambulance " + "x" * 5_000)  # the middle of an essay is not read


@pytest.mark.parametrize(
    "text, script",
    [
        ("मेरी दवाई क्या है", "devanagari"),
        ("എന്റെ മരുന്ന്", "malayalam"),
        ("என் மருந்து", "tamil"),
        ("my medicines", None),
        ("", None),
        ("2", None),
        ("show मेरी appointments please", None),
    ],
)
def test_foreign_script_is_the_script_of_most_letters(text, script):
    assert foreign_script(text) == script


def test_the_nlu_net_prefers_the_emergency_over_the_language():
    assert safety_intent("पापा बेहोश हो गए") == "emergency"
    assert safety_intent("मेरी दवाई क्या है") == "unsupported_language"
    assert safety_intent("show my medicines") is None


def _message(text: str, intent: str, confidence: float):
    from rasa.shared.nlu.training_data.message import Message

    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence}, add_to_output=True)
    message.set(
        "intent_ranking",
        [{"name": intent, "confidence": confidence}, {"name": "emergency", "confidence": 0.01}],
        add_to_output=True,
    )
    return message


def test_the_net_overrules_any_classifier_result_and_keeps_what_it_said():
    from nlu_components.safety import SafetyNet

    [message] = SafetyNet().process([_message("my mother fell and is not waking up", "nlu_fallback", 0.3)])
    out = message.as_dict(only_output_properties=True)
    assert out["intent"] == {"name": "emergency", "confidence": 1.0}
    assert [r["name"] for r in out["intent_ranking"]] == ["emergency", "nlu_fallback"]
    assert out["classified_as"]["name"] == "nlu_fallback"


def test_the_net_leaves_everyday_messages_and_payloads_alone():
    from nlu_components.safety import SafetyNet

    everyday, payload = SafetyNet().process(
        [_message("my chest x-ray report", "get_records", 0.9), _message("/get_medications", "get_medications", 1.0)]
    )
    assert everyday.get("intent")["name"] == "get_records" and everyday.get("classified_as") is None
    assert payload.get("intent")["name"] == "get_medications"


@pytest.mark.parametrize("text", ["45612", "98765 43210", "+91-98765-43210"])
def test_a_bare_number_never_starts_a_staff_login(text):
    from nlu_components.safety import SafetyNet

    [message] = SafetyNet().process([_message(text, "staff_login", 0.8)])
    assert message.get("intent")["name"] == "nlu_fallback"
    [kept] = SafetyNet().process([_message("care-doctor", "staff_login", 0.8)])
    assert kept.get("intent")["name"] == "staff_login"


@pytest.mark.parametrize("text, intent", [("7", "search_patient"), ("45612", "search_patient"), ("2.", "staff_login")])
def test_a_short_bare_number_is_no_patient_search_either(text, intent):
    from nlu_components.safety import SafetyNet

    [message] = SafetyNet().process([_message(text, intent, 0.9)])
    assert message.get("intent")["name"] == "nlu_fallback"
    [phone] = SafetyNet().process([_message("98765 43210", "search_patient", 0.9)])
    assert phone.get("intent")["name"] == "search_patient"  # staff may look a patient up by phone number

"""Phrasings that are NOT in the training data (typos, Indian English, other wordings) reach the right intent.

If one of these fails, add training examples like it to data/nlu/ — don't delete the case.
"""

from __future__ import annotations

import asyncio
import re

import pytest

UNSEEN = {
    "greet": ["hiiii", "hello there", "good mrng sir", "namastey", "hey bot"],
    "goodbye": ["bye for now", "ok tata", "see u"],
    "thank": ["thnx", "thank you very much"],
    "help": ["what all can u do", "how do i use this", "need help pls"],
    "menu": ["show me the main menu", "menu pls", "options please"],
    "out_of_scope": ["what is the weather in kochi", "tell me a funny joke", "book me a flight to delhi"],
    "get_medications": [
        "what tablets am i supposed to take?",
        "which medicine do i take at night",
        "show my medicins",
        "my prescriptions pls",
    ],
    "get_appointments": ["when do i see the doctor next", "when is my next appoinment", "do i have a booking"],
    "get_records": ["show my reports", "my medical recods", "what was my diagnosis"],
    "get_procedures": ["what tests are ordered for me", "my lab test orders"],
    "logout": ["pls log me out", "sign me out"],
}
CASES = [(intent, text) for intent, texts in UNSEEN.items() for text in texts]


@pytest.mark.parametrize("intent,text", CASES, ids=[t for _, t in CASES])
def test_unseen_phrasing_reaches_the_right_intent(agent, intent, text):
    result = asyncio.run(agent.parse_message(text))
    assert result["intent"]["name"] == intent, result["intent"]


@pytest.mark.parametrize("text", ["asdfgh qwerty", "zzzz", "blorp fnord wibble"])
def test_nonsense_falls_back(agent, text):
    result = asyncio.run(agent.parse_message(text))
    assert result["intent"]["name"] in ("nlu_fallback", "out_of_scope"), result["intent"]


# Staff write with names, numbers and times in the sentence: the intent and what the actions read from the
# entities both matter. ("tell me about Meera's medications" is get_medications with a person: for staff
# that is the patient's summary, see docs/dialogue-contract.md.)
STAFF_UNSEEN = [
    ("doctor login", "staff_login", {}),
    ("login as hospital staff", "staff_login", {}),
    ("look up patient anita sharma", "search_patient", {"person": "Anita Sharma"}),
    ("any patient named ravi?", "search_patient", {"person": "Ravi"}),
    ("who is +91 98765 43210", "search_patient", {"phone_number": "+91 98765 43210"}),
    ("patient info 9876543210", "search_patient", {"phone_number": "9876543210"}),
    ("give me details of patient anita", "patient_summary", {"person": "Anita"}),
    ("tell me about meera's medications", "get_medications", {"person": "Meera"}),
    (
        "fix an appointment for anita with the cardiologist",
        "book_appointment",
        {"person": "Anita", "practitioner": "cardiologist"},
    ),
    ("book ravi with dr asha tomorrow at 10", "book_appointment", {"person": "Ravi", "practitioner": "Dr Asha"}),
    ("cancel the booking for ravi", "cancel_appointment", {"person": "Ravi"}),
    ("reschedule ravi to day after tomorrow evening", "reschedule_appointment", {"person": "Ravi"}),
]


@pytest.mark.parametrize("text,intent,entities", STAFF_UNSEEN, ids=[t for t, _, _ in STAFF_UNSEEN])
def test_unseen_staff_phrasing_reaches_the_right_intent_and_entities(agent, text, intent, entities):
    result = asyncio.run(agent.parse_message(text))
    assert result["intent"]["name"] == intent, result["intent"]
    found = {e["entity"]: e["value"] for e in result["entities"]}
    assert {k: _name(found.get(k)) for k in entities} == {k: _name(v) for k, v in entities.items()}, result["entities"]


def _name(value: str | None) -> str | None:
    """A name as the actions read it: a doctor's title and the case do not matter ("Dr Asha", "asha")."""
    return re.sub(r"^(?:dr\.?|doctor)\s+", "", value.strip(), flags=re.I).lower() if value else value


def test_repeated_texts_are_understood_once_and_alike(agent):
    """rasa_tuning.speedups caches parses by text (per model): a repeat gives the same understanding, and
    what one caller does with its copy does not reach the next."""
    from rasa.core.channels.channel import UserMessage

    from rasa_tuning import speedups

    speedups.install()
    processor = agent.processor
    text = "show me the main menu pls"
    first = asyncio.run(processor.parse_message(UserMessage(text, sender_id="a")))
    first["entities"].append({"entity": "changed"})
    second = asyncio.run(processor.parse_message(UserMessage(text, sender_id="b")))
    cache = processor.__dict__["_nlu_parse_cache"]
    assert cache.hits >= 1
    assert second["intent"] == first["intent"] and second["entities"] == []
    assert second["text"] == text
    # an unseen text still goes through the model
    other = asyncio.run(processor.parse_message(UserMessage("what tablets am i supposed to take?", sender_id="a")))
    assert other["intent"]["name"] == "get_medications"


def test_graph_runs_in_a_fixed_order_give_what_dask_gives(agent, monkeypatch):
    """rasa_tuning.speedups runs Rasa's graph in an order worked out once, instead of through dask."""
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from rasa_tuning import speedups

    speedups.install()
    processor = agent.processor
    texts = ["hi", "my medicins pls", "book with dr asha monday 9am", "blorp fnord"]
    tracker = DialogueStateTracker.from_events(
        "t",
        [ActionExecuted("action_listen"), UserUttered("menu", intent={"name": "menu", "confidence": 1.0})],
        slots=agent.domain.slots,
    )

    def outcomes() -> list:
        parses = [
            processor.graph_runner.run(
                inputs={PLACEHOLDER_MESSAGE: [UserMessage(t)], PLACEHOLDER_TRACKER: tracker},
                targets=[processor.model_metadata.nlu_target],
            )
            for t in texts
        ]
        parsed = [p[processor.model_metadata.nlu_target][0].as_dict(only_output_properties=True) for p in parses]
        prediction = processor._predict_next_with_tracker(tracker)
        return [parsed, prediction.max_confidence_index, prediction.policy_name, list(prediction.probabilities)]

    ours = outcomes()
    monkeypatch.setattr(DaskGraphRunner, "run", DaskGraphRunner.run.__wrapped__)
    assert ours == outcomes()


def test_diet_called_through_its_concrete_graph_understands_exactly_as_before(agent, monkeypatch):
    """rasa_tuning.speedups calls DIET's traced graph directly instead of through tf.function's wrapper."""
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
    from rasa.utils.tensorflow.models import RasaModel

    from rasa_tuning import speedups

    speedups.install()
    processor = agent.processor
    texts = [
        "hi",
        "my medicins pls",
        "fix an appointment for anita with the cardiologist",
        "who is 9876543210",
        "blorp fnord",
        "show my reports please kindly now",
        "a" * 300,
    ]
    calls: list[bool] = []
    fast = RasaModel._rasa_predict

    def counted(self, batch_in):
        outputs = fast(self, batch_in)
        calls.append("_concrete_predict" in self.__dict__)  # made on the first direct call
        return outputs

    def parsed() -> list:
        runs = [
            processor.graph_runner.run(
                inputs={PLACEHOLDER_MESSAGE: [UserMessage(t)], PLACEHOLDER_TRACKER: None},
                targets=[processor.model_metadata.nlu_target],
            )
            for t in texts
        ]
        return [run[processor.model_metadata.nlu_target][0].as_dict(only_output_properties=True) for run in runs]

    parsed()  # the first call traces the graph (Rasa's own path)
    monkeypatch.setattr(RasaModel, "_rasa_predict", counted)
    ours = parsed()
    assert calls == [True] * len(texts)
    monkeypatch.setattr(RasaModel, "_rasa_predict", fast.__wrapped__)
    assert ours == parsed()  # intents, confidences, ranking and entities alike


def test_sparse_features_joined_directly_understand_exactly_as_before(agent, monkeypatch):
    """rasa_tuning.sparse_features joins the featurizers' sparse matrices without scipy's bmat."""
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
    from rasa.shared.nlu.training_data.features import Features

    from rasa_tuning import speedups

    speedups.install()
    processor = agent.processor
    texts = [
        "hi",
        "my medicins pls",
        "fix an appointment for anita with the cardiologist",
        "who is 9876543210",
        "blorp fnord",
        "tell me about meera's medications",
        "a" * 300,
    ]
    joined: list[str] = []
    ours_join = Features._combine_sparse_features

    def counted(self, other):
        ours_join(self, other)
        joined.append(type(self.features).__name__)

    def parsed() -> list:
        runs = [
            processor.graph_runner.run(
                inputs={PLACEHOLDER_MESSAGE: [UserMessage(t)], PLACEHOLDER_TRACKER: None},
                targets=[processor.model_metadata.nlu_target],
            )
            for t in texts
        ]
        return [run[processor.model_metadata.nlu_target][0].as_dict(only_output_properties=True) for run in runs]

    monkeypatch.setattr(Features, "_combine_sparse_features", counted)
    ours = parsed()
    assert joined and set(joined) == {"coo_matrix"}  # the direct join did the work
    monkeypatch.setattr(Features, "_combine_sparse_features", ours_join.__wrapped__)
    assert ours == parsed()

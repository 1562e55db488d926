"""The honest measure of what the assistant understands (bench/nlu_eval.py), on the blind evaluation sets of
tests/fixtures/nlu_eval/, through the trained model's whole NLU pipeline (DIET, FallbackClassifier, safety net).

Thresholds: at least 95 % accuracy overall, per intent group and per intent, and at most 3 % of the lines falling
back. The evaluation lines measure, they never teach: a line that near-copies a training example (short phrases
meet by chance) is left out of the measure instead of inflating it, and every intent keeps enough unseen lines.
"""

from __future__ import annotations

import pytest
import yaml

from bench import nlu_eval

MIN_ACCURACY = 0.95
MAX_FALLBACK_RATE = 0.03
MIN_LINES_PER_INTENT = 30


def _eval_intents() -> list[str]:
    """The intents of the evaluation sets, read without Rasa (at collection time)."""
    intents: set[str] = set()
    for path in sorted(nlu_eval.EVAL_DIR.glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            if "intent" in block:
                intents.add(block["intent"])
    return sorted(intents)


INTENTS = _eval_intents()
GROUPS = sorted({nlu_eval.group_of(intent) for intent in INTENTS})

# The model answers about 75 % of the blind set today: the work (training data from the intent
# descriptions, better features chosen by this measure) removes this mark once the thresholds hold.
NOT_YET = pytest.mark.xfail(strict=False, reason="the issue's work is not done yet: the model is below the thresholds")


@pytest.fixture(scope="module")
def examples() -> list[nlu_eval.Example]:
    """The unseen lines: those no training example near-copies."""
    return nlu_eval.unseen(nlu_eval.load_eval_set(), nlu_eval.training_texts())[0]


@pytest.fixture(scope="module")
def report(agent, examples) -> nlu_eval.Report:
    return nlu_eval.evaluate(agent, examples)


def test_every_intent_has_enough_evaluation_lines(examples):
    counts = {intent: sum(e.intent == intent for e in examples) for intent in INTENTS}
    assert INTENTS and {i: n for i, n in counts.items() if n < MIN_LINES_PER_INTENT} == {}


def test_no_measured_line_is_a_near_copy_of_a_training_example(examples):
    copies = nlu_eval.near_copies([e.text for e in examples], nlu_eval.training_texts())
    assert [(c.eval_text, c.training_text) for c in copies] == []


def test_near_copies_are_found_and_left_out():
    lines = [nlu_eval.Example("SHOW MORE!", "staff_more", (), "inline"), nlu_eval.Example("brief me", "help", (), "x")]
    kept, copies = nlu_eval.unseen(lines, ["show more", "what can you do"])
    assert [e.text for e in kept] == ["brief me"] and [c.eval_text for c in copies] == ["SHOW MORE!"]


def test_entity_spans_are_scored_by_type_and_exact_text_a_doctors_title_aside():
    text = "book ravi kumar with dr asha"
    gold = [{"entity": "person", "start": 5, "end": 15}, {"entity": "practitioner", "start": 24, "end": 28}]
    predicted = [{"entity": "person", "start": 5, "end": 9}, {"entity": "practitioner", "start": 21, "end": 28}]
    example = nlu_eval.Example(text, "book_appointment", nlu_eval._spans(text, gold), "inline")
    parsed = nlu_eval.Parsed("book_appointment", 0.9, nlu_eval._spans(text, predicted), 1.0, 1.0)
    report = nlu_eval.score([example], {text: parsed})
    assert report.overall.accuracy == 1.0
    assert report.entities["practitioner"].tp == 1  # "dr asha" is "asha"
    person = report.entities["person"]
    assert (person.tp, person.fp, person.fn) == (0, 1, 1)  # "ravi" is not "ravi kumar"
    assert report.entity_total.f1 == pytest.approx(0.5)


@NOT_YET
def test_overall_accuracy(report):
    assert report.overall.accuracy >= MIN_ACCURACY, report.confusions.most_common(10)


@NOT_YET
@pytest.mark.parametrize("group", GROUPS)
def test_accuracy_per_intent_group(report, group):
    assert report.groups[group].accuracy >= MIN_ACCURACY


@NOT_YET
@pytest.mark.parametrize("intent", INTENTS)
def test_accuracy_per_intent(report, intent):
    confused = {p: n for (g, p), n in report.confusions.items() if g == intent}
    assert report.intents[intent].accuracy >= MIN_ACCURACY, confused


@NOT_YET
def test_fallback_rate(report):
    assert report.fallback_rate <= MAX_FALLBACK_RATE, f"{report.fallbacks}/{report.fallback_base}"

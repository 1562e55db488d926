"""What the trained assistant makes of emergencies and their everyday look-alikes (the whole NLU pipeline:
classifier, fallback and the safety net), and of the safety intents' own words."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

SETS = sorted((Path(__file__).resolve().parents[1] / "fixtures" / "safety").glob("emergency_*.yml"))


def _intent(agent, text: str) -> str:
    return asyncio.run(agent.parse_message(text))["intent"]["name"]


@pytest.mark.parametrize("path", SETS, ids=[p.stem for p in SETS])
def test_the_assistant_takes_every_emergency_as_one_and_at_most_two_percent_of_look_alikes(agent, path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    missed = [t for t in data["emergency"] if _intent(agent, t) != "emergency"]
    alarms = [t for t in data["everyday"] if _intent(agent, t) == "emergency"]
    assert missed == []
    assert len(alarms) <= 0.02 * len(data["everyday"]), alarms


@pytest.mark.parametrize(
    "intent, text",
    [
        ("talk_to_human", "can i speak to a real person"),
        ("talk_to_human", "I want to talk to someone"),
        ("talk_to_human", "pls ask the nurse to call me"),
        ("ask_reminder", "can u remind me abt my tablets"),
        ("stop_messages", "STOP"),
        ("stop_messages", "unsubscribe"),
        ("menu", "back"),
        ("affirm", "use this number"),
    ],
)
def test_the_safety_intents_in_unseen_words(agent, intent, text):
    assert _intent(agent, text) == intent


@pytest.mark.parametrize("text", ["45612", "98765 43210", "123"])
def test_a_bare_number_is_never_a_staff_login(agent, text):
    assert _intent(agent, text) != "staff_login"

"""actions/staff/search.py and scheduling helpers: reading a staff request (pure parts)."""

from __future__ import annotations

import datetime as dt

import pytest
from rasa_sdk import Tracker

from actions.care.models import Patient
from actions.scheduling.days import when_from_text
from actions.shared.formatting import day_phrase
from actions.staff.search import (
    PatientQuery,
    candidate_queries,
    clear_choice,
    name_in,
    patient_query,
    phone_in,
    rank,
)

TZ = "Asia/Kolkata"
NOW = dt.datetime(2026, 3, 4, 5, 30, tzinfo=dt.timezone.utc)  # Wednesday 11:00 in India


@pytest.mark.parametrize(
    "text, phone",
    [
        ("who is +91 98765 43210", "+919876543210"),
        ("who is 9876543210", "+919876543210"),
        ("patient info 098765-43210", "+919876543210"),
        ("whose number is 919876543210", "+919876543210"),
        ("+91-98765-43210", "+919876543210"),
        ("find patient Ravi Kumar", None),
        ("book Ravi tomorrow at 10", None),
        ("25/12", None),
    ],
)
def test_phone_in_any_common_format(text, phone):
    assert phone_in(text) == phone


@pytest.mark.parametrize(
    "text, name",
    [
        ("find patient Ravi Kumar", "Ravi Kumar"),
        ("patient search meera", "meera"),
        ("who is Mira?", "Mira"),
        ("tell me about Meera's medications", "Meera"),
        ("look up patient named Anita Sharma please", "Anita Sharma"),
        ("search patient", ""),
    ],
)
def test_name_in_leaves_the_command_words_out(text, name):
    assert name_in(text) == name


def tracker(text: str, intent: str = "search_patient", entities: list | None = None) -> Tracker:
    return Tracker(
        "u1",
        {},
        {"text": text, "intent": {"name": intent}, "entities": entities or []},
        [],
        False,
        None,
        {},
        "action_listen",
    )


def test_patient_query_prefers_a_phone_then_the_person_entity_then_the_words():
    assert patient_query(tracker("who is +91 98765 43210")) == PatientQuery("phone", "+919876543210")
    ent = [{"entity": "person", "value": "Meera"}]
    assert patient_query(tracker("tell me about Meera's meds", entities=ent)) == PatientQuery("name", "Meera")
    assert patient_query(tracker("find patient ravi kumar")) == PatientQuery("name", "ravi kumar")
    # shared intents name a patient only through the entity: "what is my dose" is no search for "dose"
    assert patient_query(tracker("what is my dose", "get_medications"), use_text=False) is None
    assert patient_query(tracker("/search_patient")) is None


def test_candidate_queries_cover_common_spellings():
    queries = candidate_queries("Mira")
    assert queries[0] == "mira" and "meera" in queries
    assert "sunita" in candidate_queries("Sunitha")
    assert {"ravi kumar", "kumar", "ravi"} <= set(candidate_queries("Ravi Kumar"))
    assert len(candidate_queries("Venkata Subramanian Krishnamurthy")) <= 8
    assert candidate_queries("Dr.") == []


PEOPLE = [
    Patient(id="rk", name="Ravi Kumar"),
    Patient(id="rp", name="Ravi Prasad"),
    Patient(id="mn", name="Meera Nair"),
    Patient(id="ram", name="Ramesh Kumar"),
]


def test_rank_is_tolerant_of_spelling():
    assert [p.id for p in rank("Mira", PEOPLE)] == ["mn"]
    assert next(p.id for p in rank("ravi kumar", PEOPLE)) == "rk"


def test_two_ravis_are_never_guessed():
    ravis = rank("Ravi", PEOPLE)
    assert {p.id for p in ravis} == {"rk", "rp"}
    assert clear_choice(PatientQuery("name", "Ravi"), ravis) is None
    assert clear_choice(PatientQuery("name", "Ravi Kumar"), rank("Ravi Kumar", PEOPLE)).id == "rk"
    assert clear_choice(PatientQuery("name", "Mira"), rank("Mira", PEOPLE)).id == "mn"


def test_a_phone_shared_by_a_family_asks_which_one():
    family = [Patient(id="r", name="Ramesh Kumar"), Patient(id="s", name="Sunita Kumar")]
    assert clear_choice(PatientQuery("phone", "+919876543210"), family) is None
    assert clear_choice(PatientQuery("phone", "+919876543210"), family[:1]).id == "r"


@pytest.mark.parametrize(
    "text, when",
    [
        ("book Ravi with Dr. Asha tomorrow at 10", "2026-03-05 10:00"),
        ("next Monday morning", "2026-03-09 06:00-12:00"),
        ("next monday 5pm", "2026-03-09 17:00"),
        ("next Monday 3pm", "2026-03-09 15:00"),
        ("25/12", "2026-12-25"),
        ("day after tomorrow evening", "2026-03-06 16:00-21:00"),
        ("tomorrow morning", "2026-03-05 06:00-12:00"),
        ("at 4pm", "2026-03-04 16:00"),  # still ahead today
        ("at 9am", "2026-03-05 09:00"),  # already past today: tomorrow
        ("find patient Ravi", None),
    ],
)
def test_when_from_text(text, when):
    assert when_from_text(text, NOW, TZ) == when


def test_day_phrase():
    today = dt.date(2026, 3, 4)
    assert day_phrase(today, today) == "today"
    assert day_phrase(dt.date(2026, 3, 5), today) == "tomorrow"
    assert day_phrase(dt.date(2026, 3, 9), today) == "on Monday 9 Mar"


def test_entity_pieces_next_to_each_other_are_one_name():
    from actions.shared.turn import entity

    text = "book Ravi with Dr. Asha tomorrow at 10"
    t = Tracker(
        "u",
        {},
        {
            "text": text,
            "intent": {"name": "book_appointment"},
            "entities": [
                {"entity": "person", "value": "ravi", "start": 5, "end": 9},
                {"entity": "practitioner", "value": "Dr", "start": 15, "end": 17},
                {"entity": "practitioner", "value": "Asha", "start": 19, "end": 23},
            ],
        },
        [],
        False,
        None,
        {},
        "action_listen",
    )
    assert entity(t, "practitioner") == "Dr. Asha"
    assert entity(t, "person") == "Ravi"  # as typed
    assert entity(t, "phone_number") is None


def test_pronouns_are_not_patient_names():
    t = tracker("book her an appointment", "book_appointment", [{"entity": "person", "value": "her"}])
    assert patient_query(t, use_text=False) is None


def test_when_phrase_reads_in_a_sentence():
    from actions.shared.formatting import when_phrase

    today = dt.date(2026, 3, 4)
    at = dt.datetime(2026, 3, 5, 8, 30, tzinfo=dt.timezone.utc)  # 2 pm in India
    assert when_phrase(at, TZ, today) == "tomorrow at 2 pm"
    assert when_phrase(at + dt.timedelta(days=4), TZ, today) == "on Mon 9 Mar at 2 pm"
    # after "to": "Move Meera's appointment to Mon 9 Mar at 2 pm", never "to on Mon"
    assert when_phrase(at + dt.timedelta(days=4), TZ, today, on=False) == "Mon 9 Mar at 2 pm"
    assert when_phrase(at, TZ, today, on=False) == "tomorrow at 2 pm"


def test_a_payload_entity_keeps_its_value():
    from actions.shared.turn import entity

    text = '/staff_choose{"staff_choice":"p:abc"}'
    t = Tracker(
        "u",
        {},
        {
            "text": text,
            "intent": {"name": "staff_choose"},
            "entities": [{"entity": "staff_choice", "value": "p:abc", "start": 13, "end": 38}],
        },
        [],
        False,
        None,
        {},
        "action_listen",
    )
    assert entity(t, "staff_choice") == "p:abc"

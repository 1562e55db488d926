"""A patient's or doctor's name is read from a request whatever its case and the words around it
(actions/staff/search.py for patients, actions/scheduling/practitioners.py for doctors)."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker

from actions.care.models import Patient, Practitioner
from actions.scheduling.practitioners import doctor_queries, find_practitioner
from actions.staff.search import PatientQuery, candidate_queries, name_in, patient_query, rank
from tests.unit.test_names import NAMES_IN_REQUESTS


def tracker(text: str, intent: str = "search_patient", entities: list | None = None) -> Tracker:
    return Tracker(
        "u1", {}, {"text": text, "intent": {"name": intent}, "entities": entities or []}, [], False, None, {},
        "action_listen",
    )  # fmt: skip


@pytest.mark.parametrize("text, name", NAMES_IN_REQUESTS)
def test_name_in_any_wording(text, name):
    assert name_in(text) == name
    assert patient_query(tracker(text)) == PatientQuery("name", name)


@pytest.mark.parametrize("bad", ["A", "a", "patient", "NAME", "our", "R"])
def test_a_one_letter_or_filler_person_entity_is_not_the_name(bad):
    t = tracker("SEARCH FOR A PATIENT WITH NAME RAVI", entities=[{"entity": "person", "value": bad}])
    assert patient_query(t) == PatientQuery("name", "RAVI")


def test_the_person_entity_comes_first_without_the_words_tagged_with_it():
    t = tracker("is Meere our patient", entities=[{"entity": "person", "value": "Meere our"}])
    assert patient_query(t) == PatientQuery("name", "Meere")
    t = tracker("do we have anita sharma registered", entities=[{"entity": "person", "value": "sharma"}])
    assert patient_query(t) == PatientQuery("name", "sharma")


def test_fuzzy_search_runs_on_the_name_only():
    queries = candidate_queries(name_in("SEARCH FOR A PATIENT WITH NAME MEERE"))
    assert queries[0] == "meere" and not {"search", "patient", "name", "a"} & set(" ".join(queries).split())
    people = [Patient(id="mn", name="Meera Nair"), Patient(id="ak", name="Anita Kumar")]
    assert [p.id for p in rank(name_in("is Meere our patient"), people)] == ["mn"]


DOCTORS = [
    Practitioner(id="d1", first_name="Asha", last_name="Menon", prefix="Dr."),
    Practitioner(id="d2", first_name="Vikram", last_name="Shetty", prefix="Dr."),
]


@pytest.mark.parametrize(
    "text",
    ["BOOK WITH DR ASHA", "book with asha menon", "BOOK AN APPOINTMENT WITH ASHA MENON PLS", "I WANT TO SEE ASHA"],
)
def test_a_doctor_in_any_wording(text):
    assert [m.id for m in find_practitioner(text, DOCTORS)[1]] == ["d1"]


def test_no_doctor_from_filler_or_one_letter():
    assert doctor_queries("on which date is my review") == []
    assert find_practitioner("on which date is my review", DOCTORS) == ("", [])
    assert find_practitioner("book a slot tomorrow", DOCTORS, "A") == ("", [])


@pytest.mark.parametrize(
    "text, person, search",
    [
        ("who is the prime minister of india", None, False),
        ("who is her", "her", False),
        ("who is Meera", "Meera", True),
        ("who is +91 98765 43210", None, True),
        ("find patient ravi", None, True),
        ("do we have anita registered", None, True),
        ("/search_patient", None, True),
    ],
)
def test_a_search_says_so_itself_before_anyone_is_logged_in(text, person, search):
    from actions.staff.search import reads_as_search

    assert reads_as_search(text, person) is search

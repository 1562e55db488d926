"""common.names: finding the patient or doctor the user meant, and asking when it could be two people."""

from __future__ import annotations

import pytest

from common.names import Match, is_ambiguous, match_names, match_specialty, name_words, normalise_name, usable_name

PEOPLE = [
    ("p1", "Meera Nair"),
    ("p2", "Ravi Kumar"),
    ("p3", "Ravi Prasad"),
    ("p4", "Sunitha R"),
    ("p5", "Ramesh Kumar"),
    ("p6", "Anita Das"),
    ("p7", "Lakshmi Devi"),
    ("p8", "Priyanka S"),
]
DOCTORS = [
    ("d1", "Dr. Asha Menon"),
    ("d2", "Dr Asha Pillai"),
    ("d3", "Dr. Vikram Shetty"),
    ("d4", "Dr. Shiva Shankar"),
]
DEPARTMENTS = [
    ("c", "Cardiology"),
    ("p", "Paediatrics"),
    ("g", "General Medicine"),
    ("s", "General Surgery"),
    ("o", "Orthopaedics"),
    ("e", "ENT"),
    ("d", "Dentistry"),
    ("y", "Obstetrics & Gynaecology"),
    ("n", "Neurology"),
    ("k", "Dermatology"),
]


def names(matches: list[Match]) -> list[str]:
    return [m.name for m in matches]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Dr. Asha  Menon", "asha menon"),
        ("dr asha menon", "asha menon"),
        ("Dr.Asha", "asha"),
        ("Doctor Vikram", "vikram"),
        ("Smt. Lakshmi Devi", "lakshmi devi"),
        ("Shri Ramesh-Kumar", "ramesh kumar"),
        ("MRS. MEERA NAIR", "meera nair"),
        ("Ms Anita", "anita"),
        ("Sri Ravi", "ravi"),
        ("  ", ""),
        ("Renée", "renee"),
    ],
)
def test_normalise_name(raw, expected):
    assert normalise_name(raw) == expected


@pytest.mark.parametrize(
    "query, expected",
    [
        ("Mira", "Meera Nair"),
        ("meera", "Meera Nair"),
        ("mira nair", "Meera Nair"),
        ("Sunita", "Sunitha R"),
        ("Laxmi", "Lakshmi Devi"),
        ("ramesh", "Ramesh Kumar"),
        ("Ramesh Kumar", "Ramesh Kumar"),
        ("ravi k", "Ravi Kumar"),
        ("Anita", "Anita Das"),
    ],
)
def test_a_close_spelling_or_a_first_name_finds_the_one_person(query, expected):
    matches = match_names(query, PEOPLE)
    assert names(matches)[:1] == [expected]
    assert not is_ambiguous(matches)
    assert matches[0].score >= 70


def test_meera_and_mira_both_ways():
    assert names(match_names("Meera", [("x", "Mira")])) == ["Mira"]
    assert names(match_names("Mira", [("x", "Meera")])) == ["Meera"]


def test_two_ravis_are_ambiguous():
    matches = match_names("Ravi", PEOPLE)
    assert sorted(names(matches)) == ["Ravi Kumar", "Ravi Prasad"]
    assert is_ambiguous(matches)


def test_two_doctors_called_asha_are_ambiguous():
    for query in ("asha", "Dr Asha", "Dr. Asha"):
        matches = match_names(query, DOCTORS)
        assert sorted(names(matches)) == ["Dr Asha Pillai", "Dr. Asha Menon"], query
        assert is_ambiguous(matches), query


@pytest.mark.parametrize("query", ["Asha Menon", "dr asha menon", "Dr. Asha Menon", "asha menon", "ashamenon"])
def test_full_name_picks_one_doctor(query):
    matches = match_names(query, DOCTORS)
    assert names(matches) == ["Dr. Asha Menon"]
    assert not is_ambiguous(matches)


@pytest.mark.parametrize("query", ["John Smith", "xyz", "Mahesh", "Dr.", "", "Ravindra", "Priya", "Sunita Das"])
def test_unrelated_names_find_nobody(query):
    assert match_names(query, PEOPLE) == []


def test_a_shared_surname_does_not_carry_a_wrong_first_name():
    assert names(match_names("Ramesh Kumar", PEOPLE)) == ["Ramesh Kumar"]  # not Ravi Kumar


def test_a_longer_typed_name_still_finds_a_shorter_record():
    matches = match_names("Ramesh Kumar Sharma", [("a", "Ramesh Kumar"), ("b", "Ramesh")])
    assert names(matches) == ["Ramesh Kumar", "Ramesh"]
    assert not is_ambiguous(matches)


def test_best_first_limit_and_ids():
    matches = match_names("ravi", PEOPLE + [("p9", "Ravi")], limit=2)
    assert len(matches) == 2
    assert all(m.score == 100 for m in matches)
    assert {m.id for m in matches} <= {"p2", "p3", "p9"}


def test_one_entry_per_id():
    matches = match_names("asha", [("d1", "Dr. Asha Menon"), ("d1", "Asha Menon")])
    assert [m.id for m in matches] == ["d1"]


def test_cutoff_is_respected():
    assert match_names("Mira", PEOPLE, cutoff=99) == []


def test_is_ambiguous():
    assert not is_ambiguous([])
    assert not is_ambiguous([Match("a", "A", 100)])
    assert is_ambiguous([Match("a", "A", 100), Match("b", "B", 95)])
    assert not is_ambiguous([Match("a", "A", 100), Match("b", "B", 80)])
    assert is_ambiguous([Match("a", "A", 100), Match("b", "B", 80)], margin=25)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("cardiologist", "Cardiology"),
        ("heart doctor", "Cardiology"),
        ("Cardiology", "Cardiology"),
        ("cardiolgist", "Cardiology"),
        ("paediatrician", "Paediatrics"),
        ("pediatrician", "Paediatrics"),
        ("child specialist", "Paediatrics"),
        ("doctor for kids", "Paediatrics"),
        ("general physician", "General Medicine"),
        ("GP", "General Medicine"),
        ("bone doctor", "Orthopaedics"),
        ("ENT", "ENT"),
        ("ear nose throat", "ENT"),
        ("dentist", "Dentistry"),
        ("gynaecologist", "Obstetrics & Gynaecology"),
        ("gynecologist", "Obstetrics & Gynaecology"),
        ("neurologist", "Neurology"),
        ("skin specialist", "Dermatology"),
    ],
)
def test_match_specialty(query, expected):
    matches = match_specialty(query, DEPARTMENTS)
    assert names(matches)[:1] == [expected]
    assert not is_ambiguous(matches)


def test_general_physician_is_not_general_surgery():
    assert names(match_specialty("general physician", DEPARTMENTS)) == ["General Medicine"]


def test_surgeon_is_ambiguous_between_surgeries():
    deps = DEPARTMENTS + [("t", "Cardiothoracic Surgery")]
    matches = match_specialty("surgeon", deps)
    assert sorted(names(matches)) == ["Cardiothoracic Surgery", "General Surgery"]
    assert is_ambiguous(matches)


@pytest.mark.parametrize("query", ["astrologer", "plumber", "", "doctor"])
def test_unknown_specialty_finds_nothing(query):
    assert match_specialty(query, DEPARTMENTS) == []


# --------------------------------------------------------------------------------------------------------
# the name in a request, whatever the case and the words around it


# requests as staff write them, and the name in each (tests/unit/test_request_names.py reads them too)
NAMES_IN_REQUESTS = [
    ("SEARCH FOR A PATIENT WITH NAME RAVI", "RAVI"),
    ("a patient with name Ravi", "Ravi"),
    ("is Meere our patient", "Meere"),
    ("do we have anita registered", "anita"),
    ("find pt ravi kumar pls", "ravi kumar"),
    ("Please Check Details Of Anita Das", "Anita Das"),
    ("Find Patient Named Meera Please", "Meera"),
]


@pytest.mark.parametrize("text, name", NAMES_IN_REQUESTS)
def test_name_words_drop_the_request_words_in_any_case(text, name):
    assert name_words(text) == name


@pytest.mark.parametrize("value", ["A", "a patient", "PATIENT", "Dr.", "", None, "do we have", "R"])
def test_one_letter_or_filler_is_no_name(value):
    assert usable_name(value) == ""


def test_a_usable_name_keeps_the_name_only():
    assert usable_name("Meere our") == "Meere"
    assert usable_name("R Kumar") == "R Kumar"  # an initial inside a name stays


def test_matching_on_the_name_only_finds_who_the_padded_request_missed():
    padded = "do we have anita registered"
    assert match_names(padded, PEOPLE) == []  # the filler words drown the name
    assert names(match_names(usable_name(padded), PEOPLE)) == ["Anita Das"]

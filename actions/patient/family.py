"""Whose record: the people registered on the login's phone, picking one, and switching later.

Only the patients the OTP login proved are ever candidates (`Login.patient_ids`); a name or relation that
fits none of them is refused, never looked up elsewhere. Relations ("my father") are not in CARE: they are
read from gender and age among the family, and when that leaves more than one person, the patient picks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.care.models import Patient
from actions.patient import access
from actions.patient.access import patient_api, session_expired_in_form
from actions.shared import turn, who
from actions.shared.clients import care_call
from actions.shared.errors import CARE_ERRORS, AccessDenied, explain
from actions.shared.forms import AssistantForm, clear
from actions.shared.turn import tap_payload
from actions.shared.who import STAFF
from common.names import match_names, normalise_name
from sessions.store import Login


@dataclass(frozen=True)
class Member:
    index: int  # 1-based position in the login's list: what buttons carry
    id: str
    name: str
    gender: str = ""
    birth_year: int | None = None


async def family(login: Login) -> list[Member]:
    """The login's proven patients with their names (from CARE, with the patient's own token)."""
    patients: list[Patient] = await care_call(patient_api(login).list_patients)
    by_id = {p.id: p for p in patients}
    members = []
    for i, pid in enumerate(login.patient_ids, start=1):
        p = by_id.get(pid)
        if p is None:
            continue  # no longer on the phone: not offered
        year = p.date_of_birth.year if p.date_of_birth else p.year_of_birth
        members.append(Member(i, p.id, p.name, p.gender, year))
    return members


def selected(login: Login, members: list[Member]) -> Member | None:
    return next((m for m in members if m.id == login.selected_patient_id), None)


def select(tracker: Tracker, login: Login, member: Member) -> list[EventType]:
    """Make `member` the patient whose data is shown (only one of the login's own)."""
    if member.id not in login.patient_ids:
        raise AccessDenied(member.id)
    if login.selected_patient_id != member.id:
        login.selected_patient_id = member.id
        who.store().save_login(tracker.sender_id, login)
    return [SlotSet("patient_name", member.name)]


# ------------------------------------------------------------------------------------------- mentions

MALE = {
    "father",
    "dad",
    "daddy",
    "papa",
    "pappa",
    "appa",
    "abba",
    "pitaji",
    "baba",
    "husband",
    "hubby",
    "son",
    "brother",
    "bro",
    "bhai",
    "bhaiya",
    "grandfather",
    "grandpa",
    "dada",
    "nana",
    "uncle",
    "chacha",
    "mama",
}
FEMALE = {
    "mother",
    "mom",
    "mum",
    "mummy",
    "mommy",
    "amma",
    "maa",
    "ma",
    "mataji",
    "wife",
    "daughter",
    "sister",
    "sis",
    "didi",
    "behen",
    "grandmother",
    "grandma",
    "granny",
    "dadi",
    "nani",
    "aunt",
    "aunty",
    "auntie",
    "chachi",
    "mami",
    "beti",
}
OLDER = {
    "father",
    "dad",
    "daddy",
    "papa",
    "pappa",
    "appa",
    "abba",
    "pitaji",
    "baba",
    "grandfather",
    "grandpa",
    "dada",
    "nana",
    "uncle",
    "chacha",
    "mama",
    "mother",
    "mom",
    "mum",
    "mummy",
    "mommy",
    "amma",
    "maa",
    "ma",
    "mataji",
    "grandmother",
    "grandma",
    "granny",
    "dadi",
    "nani",
    "aunt",
    "aunty",
    "auntie",
    "chachi",
    "mami",
}
YOUNGER = {"son", "daughter", "beti"}
SPOUSE = {"husband", "hubby", "wife"}
RELATION_WORDS = MALE | FEMALE
_RELATION_RE = re.compile(r"\b(" + "|".join(sorted(RELATION_WORDS, key=len, reverse=True)) + r")(?:'?s)?\b", re.I)
# Words that are never a family member's name in a request ("show my meds"): keeps the name scan honest.
_SELF = {"my", "me", "mine", "myself", "i", "own", "self"}


@dataclass(frozen=True)
class Mention:
    """Who a message is about: nobody in particular, one family member, several (ask), or an outsider."""

    kind: str  # "none" | "member" | "ambiguous" | "outsider"
    member: Member | None = None
    candidates: tuple[Member, ...] = ()
    said: str = ""


def relation_in(text: str, relation_entity: str | None = None) -> str | None:
    if relation_entity and relation_entity.lower() in RELATION_WORDS:
        return relation_entity.lower()
    m = _RELATION_RE.search(text or "")
    return m.group(1).lower() if m else None


def by_relation(relation: str, members: list[Member], current: Member | None) -> list[Member]:
    others = [m for m in members if current is None or m.id != current.id]
    gender = "male" if relation in MALE else "female" if relation in FEMALE else ""
    fits = [m for m in others if not gender or not m.gender or m.gender == gender]
    if not fits and relation in SPOUSE and current is not None and current.gender in ("", gender):
        # "my husband's tablets" while he is the one shown: his wife is writing, he is still the one meant
        return [current]
    if current is not None and current.birth_year:
        # a parent is older, a child younger (unknown birth years stay in): a wife is not "mummy"
        if relation in OLDER:
            fits = [m for m in fits if not m.birth_year or m.birth_year < current.birth_year]
        elif relation in YOUNGER:
            fits = [m for m in fits if not m.birth_year or m.birth_year > current.birth_year]
    return fits


def by_name(query: str, members: list[Member]) -> list[Member]:
    matches = match_names(query, [(m.id, m.name) for m in members])
    if len(matches) > 1 and matches[0].score - matches[1].score >= 8:
        matches = matches[:1]
    ids = [m.id for m in matches]
    return [m for m in members if m.id in ids]


def names_in_text(text: str, members: list[Member]) -> list[Member]:
    """Family members whose first name is written in the text (DIET may miss a name it never saw)."""
    words = [w for w in re.findall(r"[a-z]+", (text or "").lower()) if len(w) >= 3 and w not in _SELF]
    found = []
    for m in members:
        first = normalise_name(m.name).split()[:1]
        if first and any(match_names(w, [(m.id, first[0])], cutoff=88) for w in words):
            found.append(m)
    return found


def mention(
    text: str, person: str | None, relation: str | None, members: list[Member], current: Member | None
) -> Mention:
    """Who `text` is about. A named person outside the family is an outsider: refused, not searched."""
    if person and person.lower() in RELATION_WORDS:
        relation, person = relation or person.lower(), None
    if person and re.search(r"\b(?:dr|doctor|doc)\b\.?\s*" + re.escape(person), text or "", re.I):
        person = None  # "with Dr. Asha": a doctor, not whose record
    if person and normalise_name(person) not in _SELF and normalise_name(person):
        fits = by_name(person, members)
        if len(fits) == 1:
            return Mention("member", fits[0], said=person)
        if fits:
            return Mention("ambiguous", candidates=tuple(fits), said=person)
        return Mention("outsider", said=person)
    named = names_in_text(text, members)
    if len(named) == 1:
        return Mention("member", named[0], said=named[0].name)
    rel = relation_in(text, relation)
    if rel:
        fits = by_relation(rel, members, current)
        if len(fits) == 1:
            return Mention("member", fits[0], said=rel)
        if not fits:  # "my son" when no son is registered on the phone: not someone this login can see
            return Mention("outsider", said=rel)
        return Mention("ambiguous", candidates=tuple(fits), said=rel)
    return Mention("none")


_ORDINALS = {
    "first": 1,
    "1st": 1,
    "one": 1,
    "second": 2,
    "2nd": 2,
    "two": 2,
    "third": 3,
    "3rd": 3,
    "three": 3,
    "fourth": 4,
    "4th": 4,
    "four": 4,
    "fifth": 5,
    "5th": 5,
    "five": 5,
    "last": -1,
}


def ordinal(text: str) -> int | None:
    """'2', 'the second one', '2nd' -> 2; 'last' -> -1."""
    t = (text or "").strip().lower()
    if t.isdigit():
        return int(t)
    for word in re.findall(r"[a-z0-9]+", t):
        if word in _ORDINALS:
            return _ORDINALS[word]
    return None


def pick(value: str, members: list[Member], current: Member | None) -> Member | None:
    """A list answer: an index from a button, a typed number/ordinal, a name or a relation."""
    n = ordinal(value)
    if n is not None:
        if n == -1:
            return members[-1] if members else None
        return next((m for m in members if m.index == n), None)
    found = mention(value, value, None, members, current)
    return found.member if found.kind == "member" else None


def choice_buttons(members: list[Member]) -> list[dict[str, str]]:
    return [{"title": m.name, "payload": tap_payload("choose", choice=str(m.index))} for m in members]


def names_text(members: list[Member]) -> str:
    names = [m.name for m in members]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# ------------------------------------------------------------------------------------------- form parts


class PatientChoice:
    """`patient_choice` handling shared by the login form and the switch form."""

    def understands_choice(self, text: str) -> bool:
        return ordinal(text) is not None or relation_in(text) is not None or len(text.split()) <= 3

    async def validate_patient_choice(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        login = access.patient_login(tracker)
        if login is None:
            dispatcher.utter_message(response="utter_session_expired")
            return AssistantForm.stop(patient_choice=None)
        try:
            members = await family(login)
            member = pick(str(value), members, selected(login, members))
            if member is None:
                dispatcher.utter_message(response="utter_patient_choice_invalid")
                return {"patient_choice": None}
            events = select(tracker, login, member)
        except CARE_ERRORS as exc:
            explain(dispatcher, tracker, exc)
            return AssistantForm.stop(patient_choice=None)
        return {"patient_choice": str(member.index), **{e["name"]: e["value"] for e in events}}


class ActionAskPatientChoice(Action):
    """The family as a list (3 or fewer: reply buttons)."""

    def name(self) -> str:
        return "action_ask_patient_choice"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        login = access.patient_login(tracker)
        if login is None:
            return session_expired_in_form(dispatcher)
        try:
            members = await family(login)
        except CARE_ERRORS as exc:
            return explain(dispatcher, tracker, exc)
        dispatcher.utter_message(response="utter_ask_patient_choice", buttons=choice_buttons(members))
        return []


class ValidateSwitchPatientForm(PatientChoice, AssistantForm):
    def name(self) -> str:
        return "validate_switch_patient_form"

    def understands(self, slot: str, text: str, tracker: Tracker) -> bool:
        return self.understands_choice(text)


class ActionSwitchPatient(Action):
    """ "switch patient", "show my father's records" (with a section, see sections.py), "switch to Sunita"."""

    def name(self) -> str:
        return "action_switch_patient"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        login = who.current_login(tracker)
        if login is not None and login.kind == STAFF:
            dispatcher.utter_message(response="utter_switch_staff")
            return []
        if login is None:
            return access.start_login(tracker, pending="switch")
        try:
            members = await family(login)
            current = selected(login, members)
            if len(members) <= 1:
                dispatcher.utter_message(
                    response="utter_switch_only_one", patient_name=current.name if current else "you"
                )
                return []
            found = mention(
                turn.latest_text(tracker),
                turn.entity(tracker, "person"),
                turn.entity(tracker, "relation"),
                members,
                current,
            )
            if found.kind == "outsider":
                dispatcher.utter_message(response="utter_not_family", names=names_text(members))
                return []
            if found.kind == "member" and found.member is not None:
                events = select(tracker, login, found.member)
                dispatcher.utter_message(response="utter_patient_switched", patient_name=found.member.name)
                return events
        except CARE_ERRORS as exc:
            return explain(dispatcher, tracker, exc)
        return ask_whose(pending=None)


def ask_whose(pending: str | None) -> list[EventType]:
    """Open the switch form (its question lists the family); `pending` is answered after the choice."""
    return [
        *clear("patient_choice", "form_stopped"),
        SlotSet("pending_request", pending),
        ActiveLoop("switch_patient_form"),
    ]

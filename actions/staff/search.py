"""Finding patients by name (tolerant of spelling) or by phone number in any common format.

CARE's patient list filters names with "contains", so "Mira" never finds "Meera". The assistant asks CARE
for a few spellings of what was typed (each word, common Indian-English variants: ee/i, th/t, aa/a, ...),
then ranks what came back with `common.names.match_names`. When two patients fit about equally (two Ravis)
the user is asked; nobody is ever picked by guess.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import phonenumbers
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.care.client import CareClient
from actions.care.errors import CareError
from actions.care.models import Patient
from actions.shared.errors import explain
from actions.shared.turn import entity, latest_text, render
from actions.shared.who import FOCUS, current_login
from actions.staff import rows
from actions.staff.session import PATIENT_FORM_SLOTS, StaffContext, access_of, require_staff, start_form
from common.names import REQUEST_FILLER, is_ambiguous, match_names, name_words, normalise_name, usable_name
from common.phone import DEFAULT_REGION, InvalidPhoneNumber, mask_phone, to_e164

PAGE = 9  # list rows per page; the tenth row is "More results"
MAX_CANDIDATES = 60
MAX_QUERIES = 8
CUTOFF = 70
CLEAR_SCORE = 85  # a single match at least this good is taken without asking
CACHE_SECONDS = 60

# Words around a name in a request ("find patient Ravi Kumar", "who is Meera", "patient info ..."): the shared
# request words (common.names.REQUEST_FILLER: "search for a patient with name", "do we have ... registered")
# and a staff member's own (sections, titles, pronouns)
_FILLER = REQUEST_FILLER | frozenset(
    {
        "summary", "profile", "record", "records", "history", "medications", "medication", "medicines", "meds",
        "appointments", "procedures", "procedure", "tests", "schedule", "and", "fetch", "display", "what",
        "whats", "what's", "on", "mr", "mrs", "ms", "miss", "smt", "shri", "sri", "her", "him", "his", "he",
        "she", "them", "their", "that", "next", "open",
    }
)  # fmt: skip
_PRONOUNS = frozenset(["her", "him", "his", "he", "she", "them", "their", "this", "that", "patient", "the"])
_VARIANTS = (
    ("ee", "i"),
    ("i", "ee"),
    ("oo", "u"),
    ("u", "oo"),
    ("th", "t"),
    ("t", "th"),
    ("aa", "a"),
    ("sh", "s"),
    ("w", "v"),
    ("v", "w"),
    ("ksh", "x"),
    ("x", "ksh"),
    ("y", "i"),
    ("ph", "f"),
    ("dh", "d"),
    ("bh", "b"),
)


@dataclass(frozen=True)
class PatientQuery:
    kind: str  # "phone" or "name"
    value: str  # E.164 for a phone, the name as typed otherwise

    @property
    def label(self) -> str:
        return mask_phone(self.value) if self.kind == "phone" else self.value


# ------------------------------------------------------------------ reading the request (pure)


def phone_in(text: str) -> str | None:
    """The first phone number in a text, in E.164 ("who is +91 98765 43210" -> "+919876543210")."""
    for match in phonenumbers.PhoneNumberMatcher(text or "", DEFAULT_REGION):
        return phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
    digits = re.sub(r"[^\d+]", "", text or "")
    if len(re.sub(r"\D", "", digits)) >= 10:
        try:
            return to_e164(digits)
        except InvalidPhoneNumber:
            return None
    return None


def name_in(text: str) -> str:
    """The name in a request, without the command words in any case: "find patient ravi kumar" -> "ravi kumar",
    "SEARCH FOR A PATIENT WITH NAME RAVI" -> "RAVI", "do we have anita registered" -> "anita"."""
    return name_words(text, _FILLER)


def patient_query(tracker: Tracker, use_text: bool = True, answer: bool = False) -> PatientQuery | None:
    """What the latest message says about a patient: a phone number, a `person` entity, or (for a
    search-style request) the words that remain after the command words. `answer`: the message answers
    "which patient?", so all its words are the name (NLU may tag only "sharma" of "anitha sharma")."""
    text = latest_text(tracker)
    phone = entity(tracker, "phone_number")
    e164 = phone_in(phone or "") or phone_in(text)
    if e164:
        return PatientQuery("phone", e164)
    typed = "" if text.startswith("/") else usable_name(text, _FILLER)
    if answer and typed:
        return PatientQuery("name", typed)
    # the NLU's `person` first, but only as a name: never a pronoun, a filler word or one letter ("A" of
    # "SEARCH FOR A PATIENT WITH NAME RAVI"), and without the words NLU tagged with it ("Meere our")
    person = usable_name(entity(tracker, "person"), _FILLER)
    if person and normalise_name(person) not in _PRONOUNS:
        return PatientQuery("name", person)
    if use_text and typed:
        return PatientQuery("name", typed)
    return None


def candidate_queries(name: str, limit: int = MAX_QUERIES) -> list[str]:
    """The searches to send CARE for a typed name: the name, each word, common spellings of each word."""
    norm = normalise_name(name)
    if not norm:
        return []
    words = [w for w in norm.split() if len(w) >= 3] or norm.split()
    out: list[str] = [norm]
    for w in sorted(words, key=len, reverse=True):
        out.append(w)
        if len(w) >= 4 and w[-1] in "aeiouy":
            out.append(w[:-1])  # a mistyped last vowel ("Meere", "Anitha" -> "Meer", "Anith") still finds the name
    for w in sorted(words, key=len, reverse=True):
        for a, b in _VARIANTS:
            if a in w:
                out.append(w.replace(a, b))
        if w.endswith("a") and len(w) > 3:
            out.append(w + "a")
        collapsed = re.sub(r"(.)\1", r"\1", w)
        if collapsed != w:
            out.append(collapsed)
        if len(w) >= 6:
            out.append(w[:4])  # a typo near the end ("Meerra", "Sunitaa") still shares the start
    seen: list[str] = []
    for q in out:
        if q not in seen and len(q) >= 2:
            seen.append(q)
    return seen[:limit]


def rank(query: str, patients: list[Patient]) -> list[Patient]:
    by_id = {p.id: p for p in patients}
    matches = match_names(query, [(p.id, p.name) for p in patients], limit=MAX_CANDIDATES, cutoff=CUTOFF)
    return [by_id[m.id] for m in matches]


def clear_choice(query: PatientQuery, patients: list[Patient]) -> Patient | None:
    """The one patient meant, or None when the user has to choose (or nothing matched)."""
    if len(patients) == 1:
        return patients[0]
    if query.kind == "phone" or len(patients) < 2:
        return None
    matches = match_names(query.value, [(p.id, p.name) for p in patients], limit=3, cutoff=CUTOFF)
    if matches and matches[0].score >= CLEAR_SCORE and not is_ambiguous(matches):
        return next(p for p in patients if p.id == matches[0].id)
    return None


# ------------------------------------------------------------------ asking CARE

_cache: dict[tuple[str, str, str], tuple[float, list[Patient]]] = {}


def _cached(user_id: str, query: PatientQuery) -> list[Patient] | None:
    hit = _cache.get((user_id, query.kind, query.value.lower()))
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    return None


def search_sync(care: CareClient, query: PatientQuery) -> list[Patient]:
    """Patients matching the query, best first (blocking: run it in a thread)."""
    if query.kind == "phone":
        return care.find_patients_by_phone(query.value)
    found: dict[str, Patient] = {}
    for q in candidate_queries(query.value):
        for p in care.search_patients(q, max_results=20):
            found.setdefault(p.id, p)
        if len(found) >= MAX_CANDIDATES:
            break
    return rank(query.value, list(found.values()))


async def find_patients(ctx: StaffContext, query: PatientQuery) -> list[Patient]:
    """Ranked matches; a short cache per staff member makes "more" and a repeated question cheap."""
    cached = _cached(ctx.login.user_id, query)
    if cached is not None:
        return cached
    result = await ctx.call(search_sync, ctx.care, query)
    if len(_cache) > 500:
        _cache.clear()
    _cache[(ctx.login.user_id, query.kind, query.value.lower())] = (time.monotonic(), result)
    return result


def forget_cache() -> None:
    _cache.clear()


# ------------------------------------------------------------------ showing results


def show_page(
    dispatcher: CollectingDispatcher,
    domain: dict[str, Any],
    ctx: StaffContext,
    query: PatientQuery,
    patients: list[Patient],
    page: int,
    may_book: bool,
) -> list[dict[str, Any]]:
    """One page of results; a single patient with the next steps the role allows (booking only if it may)."""
    today = ctx.today()
    if not patients:
        dispatcher.utter_message(response="utter_staff_search_none", query=query.label)
        return []
    if len(patients) == 1:
        one = dict(response="utter_staff_search_one") if may_book else dict(response="utter_staff_search_one_view")
        dispatcher.utter_message(**one, query=query.label, line=rows.patient_line(patients[0], today))
        return [SlotSet(FOCUS, patients[0].id)]
    start = page * PAGE
    shown = patients[start : start + PAGE]
    if not shown:
        dispatcher.utter_message(response="utter_staff_search_no_more", query=query.label)
        return []
    buttons = [rows.patient_button(p, today, start + i) for i, p in enumerate(shown, start=1)]
    if len(patients) > start + PAGE:
        left = len(patients) - start - PAGE
        buttons.append(
            rows.button(
                render(domain, response="utter_staff_fragment_more_results"),
                "/staff_more",
                render(domain, response="utter_staff_fragment_more_count", count=left),
            )
        )
    dispatcher.utter_message(
        response="utter_staff_search_results",
        query=query.label,
        shown=f"{start + 1}-{start + len(shown)}",
        total=len(patients),
        lines=rows.patient_lines(shown, today, start=start + 1),
        buttons=buttons,
    )
    return []


async def pick_patient(
    dispatcher: CollectingDispatcher, tracker: Tracker, ctx: StaffContext, query: PatientQuery
) -> tuple[Patient | None, str | None]:
    """A typed answer to "which patient?", searched: (the one patient it clearly names, None); (None, the encoded
    query) when several fit (the question then lists them); (None, None) when none does or CARE failed (said)."""
    try:
        patients = await find_patients(ctx, query)
    except CareError as exc:
        explain(dispatcher, tracker, exc)
        return None, None
    one = clear_choice(query, patients)
    if one is not None:
        return one, None
    if not patients:
        dispatcher.utter_message(response="utter_staff_search_none", query=query.label)
    return None, encode_query(query) if patients else None


def encode_query(query: PatientQuery) -> str:
    return f"{query.kind}:{query.value}"


def decode_query(value: str | None) -> PatientQuery | None:
    if not value or ":" not in value:
        return None
    kind, _, text = value.partition(":")
    return PatientQuery(kind, text) if kind in ("phone", "name") and text else None


def ask_which(
    dispatcher: CollectingDispatcher, ctx: StaffContext, query: PatientQuery, patients: list[Patient]
) -> None:
    """Several patients fit: list them (up to 10) and let the user pick."""
    today = ctx.today()
    shown = patients[:10]
    dispatcher.utter_message(
        response="utter_staff_which_patient",
        count=len(patients),
        query=query.label,
        lines=rows.patient_lines(shown, today),
        buttons=[rows.patient_button(p, today, i) for i, p in enumerate(shown, start=1)],
    )


# ------------------------------------------------------------------ actions


# What makes a message a patient search even before anyone is logged in (it then starts the staff login): a
# word of a search or of a patient, a phone number, or a name NLU tagged. "who is the prime minister of india"
# has none of them: it is out of scope, and no login starts for it.
_SEARCH_WORDS_RE = re.compile(
    r"\b(?:patients?|pt|registered|admitted|search|find|look\s*up|lookup|summary|details|info|record)\b", re.I
)


def reads_as_search(text: str, person: str | None = None) -> bool:
    """Whether a message NLU read as a patient search says so itself (pure; see _SEARCH_WORDS_RE)."""
    text = text or ""
    if text.startswith("/") or phone_in(text) or _SEARCH_WORDS_RE.search(text):
        return True
    name = usable_name(person, _FILLER)
    return bool(name) and normalise_name(name) not in _PRONOUNS


class ActionSearchPatient(Action):
    """ "find patient Ravi Kumar", "who is +91 98765 43210", "patient search meera", "patient info 98765..."."""

    def name(self) -> str:
        return "action_search_patient"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if current_login(tracker) is None and not reads_as_search(latest_text(tracker), entity(tracker, "person")):
            dispatcher.utter_message(response="utter_out_of_scope")  # no staff login for "who is the PM"
            return []
        ctx, events = require_staff(dispatcher, tracker)
        if ctx is None:
            return events
        query = patient_query(tracker)
        if query is None:  # "search patient" with no name: ask for one, then show the summary
            return start_form("staff_patient_form", staff_pending="summary", **dict.fromkeys(PATIENT_FORM_SLOTS))
        try:
            patients = await find_patients(ctx, query)
            may_book = (await access_of(ctx)).book
        except CareError as exc:
            return explain(dispatcher, tracker, exc)
        return [
            SlotSet("staff_search_query", encode_query(query)),
            SlotSet("staff_search_page", 0.0),
            SlotSet("staff_pending", "summary"),
            *show_page(dispatcher, domain, ctx, query, patients, 0, may_book),
        ]


class ActionStaffMore(Action):
    def name(self) -> str:
        return "action_staff_more"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        ctx, events = require_staff(dispatcher, tracker)
        if ctx is None:
            return events
        query = decode_query(tracker.get_slot("staff_search_query"))
        if query is None:
            dispatcher.utter_message(response="utter_staff_search_nothing_to_page")
            return []
        page = int(tracker.get_slot("staff_search_page") or 0) + 1
        try:
            patients = await find_patients(ctx, query)
            may_book = (await access_of(ctx)).book
        except CareError as exc:
            return explain(dispatcher, tracker, exc)
        return [
            SlotSet("staff_search_page", float(page)),
            *show_page(dispatcher, domain, ctx, query, patients, page, may_book),
        ]


__all__ = [
    "ActionSearchPatient",
    "ActionStaffMore",
    "PatientQuery",
    "candidate_queries",
    "find_patients",
    "name_in",
    "patient_query",
    "phone_in",
]

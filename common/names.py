"""Fuzzy matching of people's and practitioners' names, and of specialties, with rapidfuzz.

Why: people type "Mira" for Meera, "ramesh" for Ramesh Kumar, "Dr Asha" for Dr. Asha Menon, and Indian
names have several spellings (Sunitha/Sunita, Lakshmi/Laxmi, Shiva/Siva). When two candidates fit about
equally (two Ravis), callers must ask, never guess: see `is_ambiguous`.

Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

__all__ = [
    "REQUEST_FILLER",
    "TITLES",
    "Match",
    "is_ambiguous",
    "match_names",
    "match_specialty",
    "name_words",
    "normalise_name",
    "usable_name",
]

TITLES = frozenset(
    {
        "dr", "doctor", "doc", "mr", "mrs", "ms", "miss", "smt", "shri", "sri", "shree", "shrimati",
        "prof", "professor", "master", "baby", "sir", "madam", "mx",
    }
)  # fmt: skip


# Words around a name in a request, in any case: "SEARCH FOR A PATIENT WITH NAME RAVI", "is Meere our patient",
# "do we have anita registered", "find pt ravi kumar pls". None of them is a name people are given here, so they
# are dropped before a name is matched (fuzzy matching on "patient" or "registered" finds nobody, or anybody).
REQUEST_FILLER = frozenset(
    {
        "search", "find", "look", "lookup", "up", "for", "a", "an", "the", "patient", "patients", "pt", "with",
        "name", "named", "called", "registered", "register", "our", "we", "have", "has", "do", "does", "is", "are",
        "any", "anyone", "someone", "somebody", "pls", "plz", "please", "check", "details", "detail", "there",
        "here", "in", "by", "of", "who", "whos", "who's", "me", "can", "you", "u", "i", "want", "to", "see",
        "show", "get", "give", "tell", "about", "info", "information", "this", "hospital", "system", "exist",
        "exists", "admitted", "ok", "okay", "hi", "hello", "kindly", "book", "appointment", "at",
    }
)  # fmt: skip


def name_words(text: str, filler: frozenset[str] = REQUEST_FILLER) -> str:
    """The name in a request, the words around it dropped whatever their case, the name's words as typed:
    "SEARCH FOR A PATIENT WITH NAME RAVI" -> "RAVI", "is Meere our patient?" -> "Meere"."""
    cleaned = re.sub(r"[^\w\s.'-]", " ", text or "")
    cleaned = re.sub(r"'s\b", "", cleaned, flags=re.I)
    words = [w.strip(".'-") for w in cleaned.split()]
    return " ".join(w for w in words if w and w.lower() not in filler and not w.isdigit())


def usable_name(value: str | None, filler: frozenset[str] = REQUEST_FILLER) -> str:
    """`value` (an NLU entity, a typed answer) as a name to match: its filler dropped; "" when what remains is
    no name: nothing, one letter ("A" of "search for a patient") or titles only."""
    name = name_words(value or "", filler)
    norm = normalise_name(name)
    return name if len(norm.replace(" ", "")) >= 2 else ""


@dataclass(frozen=True)
class Match:
    id: str
    name: str
    score: float


def _ascii_fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def normalise_name(name: str) -> str:
    """'Dr. Asha  Menon' -> 'asha menon': lower case, no titles, no punctuation, single spaces."""
    text = _ascii_fold(name or "").lower()
    text = re.sub(r"[^\w\s]|_", " ", text)
    words = [w for w in text.split() if w not in TITLES]
    return " ".join(words)


def _phonetic(token: str) -> str:
    """A rough key for Indian-English spelling variants: Meera/Mira, Sunitha/Sunita, Lakshmi/Laxmi."""
    t = token
    for a, b in (
        ("ksh", "x"),
        ("ks", "x"),
        ("ph", "f"),
        ("th", "t"),
        ("dh", "d"),
        ("bh", "b"),
        ("kh", "k"),
        ("gh", "g"),
        ("sh", "s"),
        ("ch", "c"),
        ("ee", "i"),
        ("oo", "u"),
        ("ou", "u"),
        ("w", "v"),
        ("z", "j"),
        ("y", "i"),
        ("q", "k"),
    ):
        t = t.replace(a, b)
    t = re.sub(r"(.)\1+", r"\1", t)  # doubled letters: Ramesh/Rammesh, Anna/Ana
    t = re.sub(r"h(?=[^aeiou]|$)", "", t)  # silent h before a consonant or at the end: Rekha/Reka-ish
    if len(t) > 3:
        t = t.rstrip("a")  # Krishna/Krishn, Rama/Ram-style endings
    return t


def _token_score(q: str, c: str) -> float:
    """Similarity of a typed name word `q` to a word `c` of a known name, 0-100.

    Below `_WORD_FOUND` counts as "not found": a word that differs that much is another name, and partial
    credit would let a shared surname ("Ramesh Kumar" / "Ravi Kumar") carry a wrong first name over the cutoff.
    """
    if q == c:
        return 100.0
    if len(q) == 1:  # an initial typed: "R Kumar" fits "Ravi Kumar"
        return 90.0 if c[0] == q else 0.0
    if len(c) == 1:  # the known name has only an initial there; a typed full word is not evidence for it
        return 0.0
    short, long_ = sorted((q, c), key=len)
    if long_.startswith(short) and len(long_) - len(short) >= 3:
        return 0.0  # Ravi/Ravindra, Priya/Priyanka, Ram/Ramesh: different names
    raw = fuzz.ratio(q, c)
    pq, pc = _phonetic(q), _phonetic(c)
    phon = 95.0 if pq == pc else fuzz.ratio(pq, pc) * 0.97
    score = max(raw, phon)
    if q[0] != c[0] and pq[:1] != pc[:1]:
        score -= 20  # a different first sound (Anita/Sunita) is another name, however many letters agree
    return score if score >= _WORD_FOUND else 0.0


_WORD_FOUND = 75.0


def _coverage(qs: list[str], cs: list[str]) -> float:
    """How well every word of qs is found in cs (each word of cs used once), 0-100."""
    if not qs or not cs:
        return 0.0
    available = list(cs)
    total = 0.0
    # longest query words first: they carry the most information
    for q in sorted(qs, key=len, reverse=True):
        best_i, best = -1, 0.0
        for i, c in enumerate(available):
            s = _token_score(q, c)
            if s > best:
                best_i, best = i, s
        total += best
        if best_i >= 0:
            available.pop(best_i)
    return total / len(qs)


def _name_score(query: str, cand: str) -> float:
    qs, cs = query.split(), cand.split()
    if not qs or not cs:
        return 0.0
    forward = _coverage(qs, cs)  # every word typed is in the name: "asha" -> "Asha Menon"
    # every word of the name is in what was typed ("Ramesh Kumar" typed, CARE has "Ramesh"): a little less sure
    # the fewer of the typed words the name explains, the less sure: "Ramesh Kumar Sharma" fits
    # "Ramesh Kumar" (90) better than "Ramesh" (80)
    backward = _coverage(cs, qs) * (1 - 0.3 * (len(qs) - len(cs)) / len(qs)) if len(qs) > len(cs) else 0.0
    # words run together or split differently ("ashamenon", "sunil kumar" / "sunilkumar"): only a near-exact
    # spelling counts, since partial credit here would let unrelated names through
    joined = 0.0
    if len(qs) != len(cs):
        joined = fuzz.ratio(query.replace(" ", ""), cand.replace(" ", ""))
        joined = joined if joined >= 90 else 0.0
    return round(max(forward, backward, joined), 1)


def match_names(
    query: str,
    candidates: Iterable[tuple[str, str]],
    *,
    limit: int = 10,
    cutoff: float = 70,
) -> list[Match]:
    """Candidates `(id, display name)` that fit `query`, best first (score 0-100, at least `cutoff`).

    A first name alone fits the full name ("ravi" -> "Ravi Kumar" and "Ravi Prasad", both 100); titles and
    punctuation are ignored; close spellings (Meera/Mira, Sunitha/Sunita) score above 70; an id appears once.
    """
    q = normalise_name(query)
    if not q:
        return []
    best: dict[str, tuple[float, int, str]] = {}
    for cid, display in candidates:
        c = normalise_name(display)
        score = _name_score(q, c)
        if score < cutoff:
            continue
        extra = abs(len(c.split()) - len(q.split()))  # tie-break: the name closest in length first
        prev = best.get(str(cid))
        if prev is None or (score, -extra) > (prev[0], -prev[1]):
            best[str(cid)] = (score, extra, display)
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[1][1], kv[1][2]))
    return [Match(id=cid, name=display, score=score) for cid, (score, _, display) in ranked[:limit]]


def is_ambiguous(matches: list[Match], margin: float = 8) -> bool:
    """Two or more top matches within `margin` points of each other: ask the user, never guess."""
    return len(matches) >= 2 and matches[0].score - matches[1].score < margin


# --------------------------------------------------------------------------------------------------------
# specialties

# Lay words -> stems of specialty names ("heart" -> "cardi" as in Cardiology/cardiologist).
# "a|b": either stem; "a b": both words are wanted ("gp" = general AND medicine, not General Surgery).
_SPECIALTY_WORDS: dict[str, str] = {
    "heart": "cardi", "cardiac": "cardi", "bp": "cardi|medicine",
    "child": "pediatr", "children": "pediatr", "childrens": "pediatr", "kid": "pediatr",
    "kids": "pediatr", "baby": "pediatr", "babies": "pediatr", "infant": "pediatr",
    "paeds": "pediatr", "peds": "pediatr", "paed": "pediatr", "ped": "pediatr",
    "newborn": "neonat|pediatr",
    "general": "general", "physician": "medicine", "gp": "general medicine",
    "family": "general medicine", "fever": "general medicine", "internal": "medicine",
    "medical": "medicine", "md": "medicine",
    "bone": "orthoped", "bones": "orthoped", "joint": "orthoped", "joints": "orthoped",
    "fracture": "orthoped", "ortho": "orthoped", "spine": "orthoped",
    "skin": "dermat", "derma": "dermat", "hair": "dermat",
    "eye": "ophthalm", "eyes": "ophthalm", "opthal": "ophthalm", "ophthal": "ophthalm",
    "ear": "ent", "nose": "ent", "throat": "ent", "otorhinolaryng": "ent",
    "teeth": "dent", "tooth": "dent", "dental": "dent", "dentist": "dent", "dentistry": "dent",
    "brain": "neur", "nerve": "neur", "nerves": "neur", "stroke": "neur",
    "mental": "psychiatr", "psych": "psychiatr",
    "lung": "pulmon", "lungs": "pulmon", "chest": "pulmon", "breathing": "pulmon",
    "kidney": "nephr", "kidneys": "nephr", "urine": "urolog|ur",
    "stomach": "gastroenter", "gastro": "gastroenter", "liver": "gastroenter|hepat",
    "cancer": "oncolog|onc", "tumour": "onc", "tumor": "onc",
    "diabetes": "endocrin", "sugar": "endocrin", "thyroid": "endocrin", "hormone": "endocrin",
    "pregnancy": "gynec|obstetr", "pregnant": "gynec|obstetr", "women": "gynec",
    "womens": "gynec", "ladies": "gynec", "lady": "gynec", "obg": "gynec|obstetr",
    "obgyn": "gynec|obstetr", "gyn": "gynec", "gynae": "gynec", "gyno": "gynec",
    "surgeon": "surg", "operation": "surg", "surgical": "surg",
    "physio": "physiotherap", "xray": "radi", "scan": "radi",
    "emergency": "emergenc|casualty", "casualty": "casualty|emergenc",
}  # fmt: skip
_SPECIALTY_STOP = frozenset(
    {"specialist", "specialists", "doctor", "doctors", "dr", "doc", "department", "dept", "clinic", "of", "the",
     "for", "a", "an", "consultant", "opd", "specialty", "speciality", "unit", "ward", "and", "&", "care",
     "want", "need", "see", "to", "with", "book", "appointment", "i", "me", "my", "please", "pls", "in"}
)  # fmt: skip
_ENDINGS = ("ologists", "ologist", "ological", "ologic", "ology", "icians", "ician", "ists", "ist", "ics",
            "ical", "ic", "ery", "y", "s")  # fmt: skip


def _stem(word: str) -> str:
    w = word.replace("ae", "e").replace("oe", "e")  # paediatrics/pediatrics, oesophagus
    for end in _ENDINGS:
        if w.endswith(end) and len(w) - len(end) >= 3:
            return w[: -len(end)]
    return w


def _concepts(text: str) -> list[tuple[str, ...]]:
    """Each meaningful word -> the stems it may stand for."""
    words = re.sub(r"[^\w\s]", " ", _ascii_fold(text).lower()).split()
    out: list[tuple[str, ...]] = []
    for w in words:
        if w in _SPECIALTY_STOP:
            continue
        if w in _SPECIALTY_WORDS:
            out.extend(tuple(alt.split("|")) for alt in _SPECIALTY_WORDS[w].split())
        else:
            out.append((_stem(w),))
    return out


def _stem_score(a: str, b: str) -> float:
    if a == b:
        return 100.0
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 4 and long_.startswith(short):
        return 85.0  # "cardi" / "cardiothorac", "derma" / "dermat"
    if len(short) < 5:
        return 0.0  # short stems ("ent", "onc") only match exactly: "ent" is not "dent"
    r = fuzz.ratio(a, b)
    return r if r >= 80 else 0.0  # misspellings: "pediatrision"


def match_specialty(
    query: str, candidates: Iterable[tuple[str, str]], *, cutoff: float = 60, limit: int = 10
) -> list[Match]:
    """Departments/specialties `(id, name)` that fit what was asked, best first.

    "cardiologist", "heart doctor" -> Cardiology; "child specialist", "paediatrician" -> Paediatrics;
    "general physician", "gp" -> General Medicine. The score is the share of the asked words that are
    found in the name (so "general physician" scores 100 for General Medicine, 50 for General Surgery).
    """
    wanted = _concepts(query)
    if not wanted:
        return []
    scored: dict[str, tuple[float, str]] = {}
    for cid, display in candidates:
        have = [stem for group in _concepts(display) for stem in group]
        if not have:
            continue
        total = 0.0
        for options in wanted:
            total += max((_stem_score(o, h) for o in options for h in have), default=0.0)
        score = round(total / len(wanted), 1)
        if score >= cutoff and score > scored.get(str(cid), (-1.0, ""))[0]:
            scored[str(cid)] = (score, display)
    ranked = sorted(scored.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
    return [Match(id=cid, name=display, score=score) for cid, (score, display) in ranked[:limit]]

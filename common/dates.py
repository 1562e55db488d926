"""Natural-language day/time for booking, as people in India write it on WhatsApp.

`parse_when("book Ravi with Dr. Asha tomorrow at 10", now)` -> When(day=<tomorrow>, start=10:00, ...).

Why not dateparser alone: the pinned dateparser (1.2.0, the newest that fits Rasa's `regex` pin) returns
nothing for the most common booking phrases ("next monday 5pm", "friday evening"), cannot find a phrase
inside a longer sentence reliably, and knows no parts of day. So the common relative forms (today,
tomorrow and its typos, weekday names, "in 3 days", parts of day, clock times) are parsed here with small
regexes. Numeric dates are read as day/month (Indian order: "25/12"); dates with a month name
("25th december", "Dec 25 2026") are read by dateparser (DATE_ORDER=DMY, PREFER_DATES_FROM=future,
RELATIVE_BASE=now) and checked against the regex groups.

Everything is pure: callers pass `now` and the time zone; nothing reads settings or the clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache

__all__ = [
    "PARTS_OF_DAY",
    "When",
    "format_date",
    "format_day",
    "format_day_dated",
    "format_local",
    "format_local_dated",
    "format_time",
    "parse_iso",
    "parse_when",
    "part_of_day",
    "to_datetime",
]

DEFAULT_TZ = "Asia/Kolkata"

# Windows for the parts of day (start inclusive, end exclusive; "night" ends at the last minute of the day).
PARTS_OF_DAY: dict[str, tuple[time, time]] = {
    "morning": (time(6), time(12)),
    "afternoon": (time(12), time(16)),
    "evening": (time(16), time(21)),
    "night": (time(21), time(23, 59)),
    "tonight": (time(18), time(23, 59)),
}


@dataclass(frozen=True)
class When:
    """A day and/or time of day found in a message.

    `day` is None when only a time or part of day was given ("at 10:30", "evening"): the caller decides
    which day that means. `start`/`end` is a window ("morning" -> 06:00-12:00); an exact time has
    `end=None`. A multi-day window ("next week") has `day` = its first day and `day_end` = its last.
    """

    day: date | None
    start: time | None
    end: time | None
    text: str
    day_end: date | None = None  # last day of a multi-day window ("next week"), else None
    # the day came from a weekday name alone ("friday", "on friday"): which week was not said
    weekday_only: bool = False

    @property
    def is_exact_time(self) -> bool:
        return self.start is not None and self.end is None

    @property
    def is_window(self) -> bool:
        """True when the caller has to pick (or ask for) a slot: a part of day, no time, or several days."""
        return not self.is_exact_time or self.day_end is not None


# --------------------------------------------------------------------------------------------------------
# time zones


@lru_cache(maxsize=32)
def _tz(name: str) -> tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:  # noqa: BLE001 - no system tz database (slim images): pytz ships its own
        import pytz

        return pytz.timezone(name)


def _localise(dt: datetime, tz: str) -> datetime:
    """Aware datetime in `tz`; a naive one is taken to be in `tz` already."""
    zone = _tz(tz)
    if dt.tzinfo is None:
        if hasattr(zone, "localize"):  # pytz
            return zone.localize(dt)
        return dt.replace(tzinfo=zone)
    return dt.astimezone(zone)


# --------------------------------------------------------------------------------------------------------
# vocabulary

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WEEKDAY_ALIASES = {
    "mon": 0, "monday": 0,
    "tue": 1, "tues": 1, "tuesday": 1,
    "wed": 2, "weds": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3,
    "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5,
    "sun": 6, "sunday": 6,
}  # fmt: skip
_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11,
    "dec": 12, "december": 12,
}  # fmt: skip
_NUMBER_WORDS = {
    "a few": 3, "a couple of": 2, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "couple of": 2, "few": 3,
}  # fmt: skip

# Word-level rewrites applied before matching: typos, chat spellings and common Hinglish words.
# "kal" is "tomorrow" here: nobody books an appointment for yesterday.
_REWRITES = {
    "tmrw": "tomorrow", "tmrow": "tomorrow", "tmr": "tomorrow", "tmw": "tomorrow",
    "tomo": "tomorrow", "tomm": "tomorrow", "tommorow": "tomorrow", "tomorow": "tomorrow",
    "tommorrow": "tomorrow", "tomorro": "tomorrow", "tomoro": "tomorrow", "tommoro": "tomorrow",
    "tomorrw": "tomorrow", "tomrw": "tomorrow", "tomrrow": "tomorrow", "tomorrows": "tomorrow",
    "2moro": "tomorrow", "2morrow": "tomorrow", "2mrw": "tomorrow", "2mro": "tomorrow", "2morow": "tomorrow",
    "kal": "tomorrow", "aaj": "today", "todays": "today", "tday": "today", "tdy": "today", "2day": "today",
    "tody": "today", "todya": "today",
    "parso": "overmorrow", "parson": "overmorrow", "parsoon": "overmorrow",
    "subah": "morning", "subha": "morning", "morng": "morning", "mrng": "morning", "mornin": "morning",
    "dopahar": "afternoon", "dopehar": "afternoon", "dopaher": "afternoon", "aftrnoon": "afternoon",
    "afternon": "afternoon", "noonish": "noon",
    "sham": "evening", "shaam": "evening", "evng": "evening", "eve": "evening", "evening's": "evening",
    "evenin": "evening", "raat": "night", "nite": "night", "tonite": "tonight", "2nite": "tonight",
    "nxt": "next", "nex": "next", "thsi": "this", "ths": "this",
}  # fmt: skip

# Words that must never be "corrected" into a weekday or month by the typo matcher.
_KNOWN_WORDS = set(_REWRITES) | set(_WEEKDAY_ALIASES) | set(_MONTHS) | {
    "today", "tomorrow", "tonight", "morning", "evening", "afternoon", "night", "noon", "someday",
    "sundays", "mondays", "monsoon", "friend", "fridge", "sunny", "tuesdays", "saturn", "sunita", "mother",
    "thirsty", "sundry", "sundae", "monkey", "frida", "monica", "sunder", "thursdays", "fridays", "saturdays",
    "wednesdays",
}  # fmt: skip


def _fix_typo(word: str) -> str | None:
    """A misspelt weekday or 'tomorrow' ('wednesay', 'thrusday', 'tomorow') -> the word, else None."""
    if len(word) < 5 or word in _KNOWN_WORDS or not word.isalpha():
        return None
    from rapidfuzz.distance import DamerauLevenshtein

    targets = _WEEKDAYS + ["tomorrow"]
    limit = 1 if len(word) <= 6 else 2
    scored = sorted((DamerauLevenshtein.distance(word, t), t) for t in targets)
    best_d, best = scored[0]
    if best_d > limit or best_d == scored[1][0] or best[0] != word[0]:
        return None  # too far, a tie between two words, or a different first letter: leave it alone
    return best


def _normalise(text: str) -> tuple[str, list[int]]:
    """Lower-case, rewrite typos; returns the new text and, per character, its index in the original."""
    lowered = text.lower()
    out: list[str] = []
    index: list[int] = []
    pos = 0
    for m in re.finditer(r"[a-z0-9']+", lowered):
        for i in range(pos, m.start()):
            out.append(lowered[i])
            index.append(i)
        word = m.group()
        new = _REWRITES.get(word) or _fix_typo(word) or word
        span = m.end() - m.start()
        for j, ch in enumerate(new):
            out.append(ch)
            index.append(m.start() + min(j * span // max(len(new), 1), span - 1))
        pos = m.end()
    for i in range(pos, len(lowered)):
        out.append(lowered[i])
        index.append(i)
    return "".join(out), index


# --------------------------------------------------------------------------------------------------------
# patterns (on normalised text)

_WD = r"(?P<wd>" + "|".join(sorted(_WEEKDAY_ALIASES, key=len, reverse=True)) + r")"
_MON = r"(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")"
_NUMW = r"(?:\d{1,3}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
_UNIT = r"(?P<unit>days?|weeks?|fortnights?|hours?|hrs?|minutes?|mins?)"
_B = r"(?<![\w/.:-])"  # left boundary that also keeps us out of dates, times and phone numbers
_E = r"(?![\w/:-]|\.\d)"
_AMPM = r"(?:a\.?\s?m\.?|p\.?\s?m\.?)"
_EXPLICIT = ("iso", "numeric", "dotted", "day_month", "month_day", "ordinal")
_WEEKDAY_KINDS = ("weekday", "wd_next_week", "week_wd")
# Short weekday forms that are also English words ("the sun", "I sat"): a day only with a modifier
# ("on sat", "next sun") or when a time follows ("sat 10am", "sun morning").
_WORDLIKE_WEEKDAYS = frozenset({"sun", "sat", "wed"})
_TIME_FOLLOWS = re.compile(r"[\s,]*(?:at\s+|@\s*)?(?:\d|morning|afternoon|evening|night|noon)")

_DAY_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("overmorrow", re.compile(_B + r"(?:(?:the\s+)?day\s+after\s+tomorrow|overmorrow)" + _E)),
    ("today", re.compile(_B + r"(?:today|tonight)" + _E)),
    ("tomorrow", re.compile(_B + r"tomorrow" + _E)),
    ("yesterday", re.compile(_B + r"yesterday" + _E)),
    ("this_part", re.compile(_B + r"this\s+(?P<part>morning|afternoon|evening)" + _E)),
    ("wd_next_week", re.compile(_B + r"(?:on\s+)?" + _WD + r"\s+(?:of\s+)?next\s+week" + _E)),
    ("week_wd", re.compile(_B + r"(?P<which>next|this|coming)\s+week(?:'s)?\s+(?:on\s+)?" + _WD + _E)),
    (
        "weekday",
        re.compile(_B + r"(?:(?P<mod>next|this|coming|upcoming|on|on\s+the\s+coming|this\s+coming)\s+)?" + _WD + _E),
    ),
    (
        "relative",
        re.compile(
            _B
            + r"(?:in|after|within)\s+(?:(?:the\s+)?next\s+)?(?P<n>"
            + _NUMW
            + r")\s+"
            + _UNIT
            + r"(?:\s+(?:from\s+(?:now|today)|later|time|baad))?"
            + _E
        ),
    ),
    (
        "relative",
        re.compile(
            _B + r"(?P<n>" + _NUMW + r")\s+" + _UNIT + r"\s+(?:from\s+(?:now|today)|later|hence|baad|after)" + _E
        ),
    ),
    ("week", re.compile(_B + r"(?P<which>next|this|coming|the\s+coming)\s+(?P<what>week|weekend|month)" + _E)),
    ("weekend", re.compile(_B + r"(?:on\s+the\s+|at\s+the\s+)?weekend" + _E)),
    ("iso", re.compile(_B + r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})" + _E)),
    (
        "numeric",
        re.compile(
            _B
            + r"(?P<d>\d{1,2})\s?(?P<sep>[/-])\s?(?P<m>\d{1,2})(?:(?P=sep)(?P<y>\d{2}|\d{4}))?"
            + _E
            + r"(?!\s*"
            + _AMPM
            + r")"
        ),
    ),
    ("dotted", re.compile(_B + r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{2}|\d{4})" + _E)),
    (
        "day_month",
        re.compile(
            _B
            + r"(?:the\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th)?[\s-]*(?:of\s+)?(?P<mon>"
            + _MON
            + r")\.?(?:[,\s-]*(?P<y>\d{4}))?"
            + _E
        ),
    ),
    (
        "month_day",
        re.compile(
            _B
            + r"(?P<mon>"
            + _MON
            + r")\.?[\s-]+(?:the\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th)?"
            + r"(?:,?\s*(?P<y>\d{4}))?"
            + _E
        ),
    ),
    ("ordinal", re.compile(_B + r"(?:on\s+)?the\s+(?P<d>\d{1,2})(?:st|nd|rd|th)" + _E)),
]

_PART_RE = re.compile(
    _B + r"(?:(?:in\s+the|this|early|late|by|during\s+the)\s+)?"
    r"(?P<part>morning|afternoon|evening|night|tonight|noon|midday|midnight|after\s+lunch)" + _E
)
_CLOCK = (
    r"(?P<h{n}>\d{{1,2}})(?:(?P<sep{n}>[:.])(?P<min{n}>\d{{2}}))?(?:\s*(?P<suf{n}>" + _AMPM + r"|o'?\s?clock|baje))?"
)
_CLOCK_RE = re.compile(
    _B + r"(?P<pre>(?:at|@|by|around|abt|about|arnd|for)\s*)?" + _CLOCK.format(n="") + r"(?![\w/:-]|\.\d)"
)
_HRS_RE = re.compile(_B + r"(?P<h>[01]\d|2[0-3])(?P<min>[0-5]\d)\s*hrs" + _E)  # "1530 hrs"
_RANGE_RE = re.compile(
    _B
    + r"(?P<pre>(?:between|btw|b/w|from|at|around)\s+)?"
    + _CLOCK.format(n="1")
    + r"\s*(?P<join>-|–|to|and|till|until|upto|up\s+to)\s*"
    + _CLOCK.format(n="2")
    + r"(?![\w/:-]|\.\d)"
)
_OPEN_RE = re.compile(
    _B
    + r"(?P<how>after|not\s+before|before|not\s+after|anytime\s+after|any\s+time\s+after)\s+"
    + _CLOCK.format(n="")
    + r"(?![\w/:-]|\.\d)"
)
# Between two parts of one phrase ("tomorrow, at 10", "25th december at 4 pm", "friday - evening").
_GAP_RE = re.compile(r"^[\s,\-]*(?:(?:at|on|by|in|the|around|about|of|for|between|from)[\s,\-]+)*$")
_END_OF_DAY = time(23, 59)


@dataclass
class _Piece:
    start: int
    end: int


def _roll_date(y: int | None, m: int, d: int, today: date) -> date | None:
    """A day/month (no year) in the past means next year; an explicit year is kept as written."""
    try:
        if y is not None:
            if y < 100:
                y += 2000
            return date(y, m, d)
        candidate = date(today.year, m, d)
    except ValueError:
        if y is None and m == 2 and d == 29:  # 29 Feb written in a non-leap year: the next leap year
            yr = today.year + 1
            while yr % 4 or (yr % 100 == 0 and yr % 400):
                yr += 1
            return date(yr, 2, 29)
        return None
    if candidate < today:
        try:
            candidate = date(today.year + 1, m, d)
        except ValueError:
            return None
    return candidate


def _dateparser_day(phrase: str, now_local: datetime, tz: str) -> date | None:
    """Explicit date text ('25th december', 'Dec 25 2026') -> date, read by dateparser (DMY, future)."""
    try:
        import dateparser
    except ImportError:  # pragma: no cover - dateparser is pinned; the regex groups are used instead
        return None
    settings = {
        "DATE_ORDER": "DMY",
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": now_local.replace(tzinfo=None),
        "TIMEZONE": tz,
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    try:
        parsed = dateparser.parse(phrase, languages=["en"], settings=settings)
    except Exception:  # noqa: BLE001 - dateparser raises assorted errors on odd input; an unreadable date is just no date
        return None
    return parsed.date() if parsed else None


def _weekday_day(wd: int, mod: str | None, today: date) -> date:
    if mod and mod.split()[-1] == "next":
        # "next friday" = the friday of next week (Mon-Sun); for a day already past this week that is also
        # the coming one ("next monday" on a Wednesday = in 5 days).
        monday_next_week = today + timedelta(days=7 - today.weekday())
        return monday_next_week + timedelta(days=wd)
    return today + timedelta(days=(wd - today.weekday()) % 7)  # bare/this/coming/on: next such day, today incl.


@dataclass
class _Day:
    kind: str
    piece: _Piece
    day: date
    day_end: date | None = None
    part: str | None = None  # a part of day the word implies ("tonight", "this evening")
    exact: time | None = None  # a time the word implies ("in 2 hours")
    weekday_only: bool = False  # a weekday name with no word for which week ("friday", "on friday")


def _find_day(s: str, now_local: datetime, tz: str) -> _Day | None:
    """The first day phrase in s; a weekday next to an explicit date ("Thursday, 26 Nov") is one phrase."""
    today = now_local.date()
    found: list[_Day] = []
    for kind, rx in _DAY_PATTERNS:
        for m in rx.finditer(s):
            res = _read_day(kind, m, s, today, now_local, tz)
            if res is not None:
                weekday_only = kind == "weekday" and m.group("mod") in (None, "on")
                found.append(_Day(kind, _Piece(m.start(), m.end()), *res, weekday_only=weekday_only))
    if not found:
        return None
    if any(f.kind not in _EXPLICIT for f in found):
        # with "tomorrow" or "friday" in the message, "10-12" is a time range, not 10 December
        found = [
            f
            for f in found
            if not (
                f.kind == "numeric"
                and "-" in s[f.piece.start : f.piece.end]
                and s[f.piece.start : f.piece.end].count("-") == 1
            )
        ]
    found.sort(key=lambda f: (f.piece.start, -(f.piece.end - f.piece.start)))
    first = found[0]
    for other in found[1:]:
        pair = {first.kind in _WEEKDAY_KINDS, other.kind in _WEEKDAY_KINDS}
        explicit = first.kind in _EXPLICIT or other.kind in _EXPLICIT
        if pair == {True, False} and explicit and _gap_ok(s, first.piece, other.piece):
            date_part = first if first.kind in _EXPLICIT else other
            # the written date wins over the weekday name; the reply shows both so a mismatch gets noticed
            return _Day(date_part.kind, _Piece(first.piece.start, max(first.piece.end, other.piece.end)), date_part.day)
    return first


# what a day phrase says: (day, last day of a range, implied part of day, implied time)
_DayReading = tuple[date, date | None, str | None, time | None]


def _weekend(today: date) -> tuple[date, date | None, None, None]:
    """'weekend', 'this/next weekend': the coming Saturday-Sunday (on a Sunday: today)."""
    if today.weekday() == 6:
        return today, None, None, None
    sat = today + timedelta(days=5 - today.weekday())
    return sat, sat + timedelta(days=1), None, None


def _read_day(kind: str, m: re.Match[str], s: str, today: date, now_local: datetime, tz: str) -> _DayReading | None:
    """A day-pattern match -> (day, day_end, implied part of day, implied time), or None if not a day."""
    g = m.groupdict()
    if kind == "overmorrow":
        return today + timedelta(days=2), None, None, None
    if kind == "today":
        return today, None, ("tonight" if "tonight" in m.group() else None), None
    if kind == "tomorrow":
        return today + timedelta(days=1), None, None, None
    if kind == "yesterday":  # never rolled: the caller says it is in the past
        return today - timedelta(days=1), None, None, None
    if kind == "this_part":
        return today, None, g["part"], None
    if kind == "wd_next_week":
        return _weekday_day(_WEEKDAY_ALIASES[g["wd"]], "next", today), None, None, None
    if kind == "week_wd":  # "next week monday", "this week's friday"
        mod = "next" if g["which"] == "next" else None
        return _weekday_day(_WEEKDAY_ALIASES[g["wd"]], mod, today), None, None, None
    if kind == "weekday":
        if g["wd"] in _WORDLIKE_WEEKDAYS and not g.get("mod") and not _TIME_FOLLOWS.match(s, m.end()):
            return None
        return _weekday_day(_WEEKDAY_ALIASES[g["wd"]], g.get("mod"), today), None, None, None
    if kind == "relative":
        raw = g["n"]
        n = int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
        unit = g["unit"]
        if unit.startswith("day"):
            return today + timedelta(days=n), None, None, None
        if unit.startswith("week"):
            return today + timedelta(weeks=n), None, None, None
        if unit.startswith("fortnight"):
            return today + timedelta(weeks=2 * n), None, None, None
        delta = timedelta(hours=n) if unit.startswith("h") else timedelta(minutes=n)
        then = now_local + delta
        return then.date(), None, None, then.time().replace(second=0, microsecond=0)
    if kind == "week":
        if g["what"] == "weekend":
            return _weekend(today)
        if g["what"] == "month":
            first = today.replace(day=1)
            if g["which"] != "this":
                first = (first + timedelta(days=32)).replace(day=1)
            last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            return max(first, today), last, None, None
        monday_next = today + timedelta(days=7 - today.weekday())
        if g["which"] == "this":
            return today, monday_next - timedelta(days=1), None, None
        return monday_next, monday_next + timedelta(days=6), None, None
    if kind == "weekend":
        return _weekend(today)
    if kind in ("iso", "numeric", "dotted"):
        if kind == "numeric" and re.search(r"(?:between|btw|b/w|from)\s*$", s[: m.start()]):
            return None  # "between 2-3" is a time range
        d, mo = int(g["d"]), int(g["m"])
        y = int(g["y"]) if g.get("y") else None
        if not (1 <= mo <= 12 and 1 <= d <= 31):
            return None
        day = _roll_date(y, mo, d, today)
        return (day, None, None, None) if day else None
    if kind in ("day_month", "month_day"):
        d, mo = int(g["d"]), _MONTHS[g["mon"]]
        y = int(g["y"]) if g.get("y") else None
        if not 1 <= d <= 31:
            return None
        day = _dateparser_day(m.group(), now_local, tz)
        if day is not None and ((day.month, day.day) != (mo, d) or (y is not None and day.year != y)):
            day = None  # dateparser read something else; trust the regex groups
        if day is None or y is None:
            day = _roll_date(y, mo, d, today)  # also applies the "past day/month means next year" rule
        return (day, None, None, None) if day else None
    if kind == "ordinal":
        d = int(g["d"])
        for add in range(3):  # this month, or the next month that has that day
            mo = (today.month - 1 + add) % 12 + 1
            yr = today.year + (today.month - 1 + add) // 12
            try:
                cand = date(yr, mo, d)
            except ValueError:
                continue
            if cand >= today:
                return cand, None, None, None
        return None
    return None


def _hour(h: int, minute: int, suf: str | None, part: str | None) -> time | None:
    """Clock numbers -> time. Without am/pm: by the part of day, else clinic hours (8-11 am, 12-7 pm)."""
    suf = (suf or "").replace(".", "").replace(" ", "")
    if minute > 59:
        return None
    if suf in ("am", "pm"):
        if not 1 <= h <= 12:
            return None
        if suf == "pm" and h != 12:
            h += 12
        if suf == "am" and h == 12:
            h = 0
        return time(h, minute)
    if h > 23:
        return None
    if h >= 13 or h == 0:
        return time(h, minute)  # 24-hour clock
    if part in ("afternoon", "evening", "night", "tonight", "after lunch"):
        if h != 12:
            h += 12
    elif part != "morning" and h <= 7:
        h += 12
    return time(h, minute)


def _clock(m: re.Match[str], part: str | None, adjacent: bool) -> time | None:
    """A clock-time match -> time, or None when the number is not plausibly a time."""
    suf, pre = m.group("suf"), (m.group("pre") or "").strip()
    has_min = m.group("min") is not None
    if m.group("sep") == "." and not (suf or pre):
        return None  # "10.30" alone may be a price or a dose; a time says "at 10.30" or "10.30 am"
    if pre == "for" and not (suf or has_min):
        return None  # "for 2" is a count of people, not a time
    if not (suf or pre or has_min or adjacent):
        return None  # a bare number far from any day word is a count, an age, a bed number ...
    return _hour(int(m.group("h")), int(m.group("min") or 0), suf, part)


def _range(m: re.Match[str], part: str | None, adjacent: bool) -> tuple[time, time] | None:
    """'10-12', 'between 4 and 6 pm', '10 am to 1 pm' -> (start, end)."""
    s1, s2 = m.group("suf1"), m.group("suf2")
    pre, join = (m.group("pre") or "").strip(), m.group("join")
    if join == "and" and pre not in ("between", "btw", "b/w"):
        return None
    if not (s1 or s2 or pre or adjacent or m.group("min1") or m.group("min2")):
        return None
    h1, h2 = int(m.group("h1")), int(m.group("h2"))
    m1, m2 = int(m.group("min1") or 0), int(m.group("min2") or 0)

    def ampm(x: str | None) -> str | None:
        x = (x or "").replace(".", "").replace(" ", "")
        return x if x in ("am", "pm") else None

    a1, a2 = ampm(s1), ampm(s2)
    if a2 and not a1 and h1 <= 12:
        # "4-6 pm": both pm; "10-1 pm": 10 am to 1 pm
        t1 = _hour(h1, m1, a2, part)
        end = _hour(h2, m2, a2, part)
        if t1 and end and t1 >= end:
            t1 = _hour(h1, m1, "am" if a2 == "pm" else "pm", part)
    elif a1 and not a2 and h2 <= 12:
        t1 = _hour(h1, m1, a1, part)
        end = _hour(h2, m2, a1, part)
        if t1 and end and end <= t1:
            end = _hour(h2, m2, "pm" if a1 == "am" else "am", part)
    else:
        t1, end = _hour(h1, m1, s1, part), _hour(h2, m2, s2, part)
        if t1 and end and end <= t1 and not (a1 or a2) and end.hour < 12:
            end = time(end.hour + 12, end.minute)  # "11-2": 11 am to 2 pm
    if t1 is None or end is None or end <= t1:
        return None
    return t1, end


def _open(m: re.Match[str], part: str | None) -> tuple[time, time] | None:
    """'after 4pm' / 'before 11' -> a window open on one side (to the end of the part of day or the day)."""
    t = _hour(int(m.group("h")), int(m.group("min") or 0), m.group("suf"), part)
    if t is None:
        return None
    lo, hi = PARTS_OF_DAY.get(part or "", (time(0), _END_OF_DAY))
    if "after" in m.group("how"):
        return (t, hi) if t < hi else (t, _END_OF_DAY)
    return (lo, t) if lo < t else (time(0), t)


def _gap_ok(s: str, a: _Piece, b: _Piece) -> bool:
    lo, hi = (a, b) if a.start <= b.start else (b, a)
    return lo.end <= hi.start and bool(_GAP_RE.match(s[lo.end : hi.start]))


def _mask(s: str, p: _Piece) -> str:
    return s[: p.start] + " " * (p.end - p.start) + s[p.end :]


def parse_when(text: str, now: datetime, tz: str = DEFAULT_TZ) -> When | None:
    """Find the day/time phrase in a message ("book Ravi with Dr. Asha tomorrow at 10").

    Relative to `now` (aware, or naive in `tz`). Returns None when the text names no day and no time.
    Rules: a weekday name means the next such day, today included unless its time has passed ("friday
    11am" said on a Friday afternoon = next Friday; "this friday 11am" stays today; "next friday" = the
    friday of next week); a day/month in the past means next year unless the year is written; "25/12" is
    day/month; a clock hour without am/pm is read by the part of day ("evening at 6" = 18:00), else as clinic
    hours (8-11 am, 12-7 pm); "10-12", "between 4 and 6 pm", "after 4pm" are windows; "next week" is a window of days.
    """
    if not text or not text.strip():
        return None
    now_local = _localise(now, tz)
    s, index = _normalise(text)

    pieces: list[_Piece] = []
    day = day_end = None
    part: str | None = None
    exact: time | None = None
    found = _find_day(s, now_local, tz)
    day_piece = None
    masked = s
    if found:
        day_piece, day, day_end, part, exact = found.piece, found.day, found.day_end, found.part, found.exact
        pieces.append(day_piece)
        masked = _mask(masked, day_piece)  # so "25/12" or "in 3 days" is not read as a clock time

    part_piece = None
    pm = _PART_RE.search(masked)
    if pm:
        word = re.sub(r"\s+", " ", pm.group("part"))
        if part is None:
            part = word
        part_piece = _Piece(pm.start(), pm.end())
        pieces.append(part_piece)
        masked = _mask(masked, part_piece)
    if part in ("noon", "midday"):
        exact, part = time(12), None
    elif part == "midnight":
        exact, part = time(0), None
    elif part == "after lunch":
        part = "afternoon"

    def after_anchor(p: _Piece) -> bool:
        # a bare number right after the day or part of day is a time ("tomorrow 10", "evening 6")
        return any(a.end <= p.start and _gap_ok(s, a, p) for a in (day_piece, part_piece) if a)

    def next_to_anchor(p: _Piece) -> bool:
        # a range of numbers is a time on either side ("10-12 tomorrow"); a single one only after
        return any(_gap_ok(s, a, p) for a in (day_piece, part_piece) if a)

    window: tuple[time, time] | None = None
    if exact is None:
        readers: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], bool], tuple[time, time] | None]], ...] = (
            (_RANGE_RE, lambda m, adj: _range(m, part, adj)),
            (_OPEN_RE, lambda m, adj: _open(m, part)),
        )
        for rx, read in readers:
            for m in rx.finditer(masked):
                p = _Piece(m.start(), m.end())
                window = read(m, next_to_anchor(p))
                if window:
                    pieces.append(p)
                    masked = _mask(masked, p)
                    break
            if window:
                break
    if exact is None and window is None:
        hm = _HRS_RE.search(masked)
        if hm:
            exact = time(int(hm.group("h")), int(hm.group("min")))
            pieces.append(_Piece(hm.start(), hm.end()))
        else:
            for cm in _CLOCK_RE.finditer(masked):
                cp = _Piece(cm.start(), cm.end())
                t = _clock(cm, part, after_anchor(cp))
                if t is not None:
                    exact = t
                    pieces.append(cp)
                    break

    if day is None and exact is None and part is None and window is None:
        return None
    start = end = None
    if exact is not None:
        start = exact
    elif window is not None:
        start, end = window
    elif part is not None:
        start, end = PARTS_OF_DAY[part]
    weekday_only = found is not None and found.weekday_only
    if (
        weekday_only
        and day == now_local.date()
        and start is not None
        and (end or start) <= now_local.time().replace(tzinfo=None)
    ):
        day = day + timedelta(days=7)  # "friday 11am" said on a Friday at noon: next Friday's, not a past hour
    return When(
        day=day,
        start=start,
        end=end,
        text=_span_text(text, s, index, pieces),
        day_end=day_end,
        weekday_only=weekday_only,
    )


def _span_text(original: str, s: str, index: list[int], pieces: list[_Piece]) -> str:
    """The original words of the matched pieces: one stretch when they sit together, else joined."""
    groups: list[list[int]] = []
    for p in sorted(pieces, key=lambda p: p.start):
        a, b = p.start, p.end
        while a < b and s[a].isspace():
            a += 1
        while b > a and s[b - 1].isspace():
            b -= 1
        if a >= b:
            continue
        if groups and (a <= groups[-1][1] or _GAP_RE.match(s[groups[-1][1] : a])):
            groups[-1][1] = max(groups[-1][1], b)
        else:
            groups.append([a, b])
    return " ".join(original[index[a] : index[b - 1] + 1].strip() for a, b in groups)


def to_datetime(when: When, tz: str = DEFAULT_TZ) -> datetime | None:
    """An exact day + time -> aware datetime in `tz` (None when either is missing)."""
    if when.day is None or when.start is None:
        return None
    return _localise(datetime.combine(when.day, when.start), tz)


# --------------------------------------------------------------------------------------------------------
# formatting


def format_day(d: date, today: date) -> str:
    """'today', 'tomorrow', 'Friday 27 Nov', 'Friday 1 Jan 2027' (year only when not this year)."""
    if d == today:
        return "today"
    if d == today + timedelta(days=1):
        return "tomorrow"
    if d == today - timedelta(days=1):
        return "yesterday"
    text = f"{d.strftime('%A')} {d.day} {d.strftime('%b')}"
    return text if d.year == today.year else f"{text} {d.year}"


def format_time(t: time) -> str:
    """'10:30 am', '4 pm', '12 pm' (noon), '12 am' (midnight)."""
    h12 = t.hour % 12 or 12
    suffix = "am" if t.hour < 12 else "pm"
    return f"{h12}:{t.minute:02d} {suffix}" if t.minute else f"{h12} {suffix}"


def format_local(dt: datetime, tz: str = DEFAULT_TZ, today: date | None = None) -> str:
    """An aware (UTC) datetime -> local text: 'Fri 27 Nov, 10:30 am', or 'tomorrow, 10:30 am' when
    `today` is given and the day is today/tomorrow. A naive datetime is taken as UTC (CARE's zone)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    local = dt.astimezone(_tz(tz))
    d = local.date()
    if today is not None and d in (today, today + timedelta(days=1)):
        day_text = format_day(d, today)
    else:
        day_text = f"{local.strftime('%a')} {d.day} {local.strftime('%b')}"
        if today is not None and d.year != today.year:
            day_text += f" {d.year}"
    return f"{day_text}, {format_time(local.time())}"


def format_date(d: date, today: date | None = None) -> str:
    """'Wed 2 Dec'; 'Fri 1 Jan 2027' when `today` is given and the year is another one."""
    text = f"{d.strftime('%a')} {d.day} {d.strftime('%b')}"
    return text if today is None or d.year == today.year else f"{text} {d.year}"


def format_day_dated(d: date, today: date) -> str:
    """A day for a sentence, never a bare 'tomorrow': 'today (Wed 2 Dec)', 'tomorrow (Thu 3 Dec)',
    'yesterday (Tue 1 Dec)', else format_day's 'Friday 4 Dec'."""
    said = format_day(d, today)
    return f"{said} ({format_date(d, today)})" if said in ("today", "tomorrow", "yesterday") else said


def format_local_dated(dt: datetime, tz: str = DEFAULT_TZ, today: date | None = None) -> str:
    """format_local with the date always there (for confirmations): 'tomorrow, Thu 3 Dec, 9:30 am',
    'today, Wed 2 Dec, 4 pm', 'Fri 4 Dec, 9 am'. A naive datetime is taken as UTC (CARE's zone)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    local = dt.astimezone(_tz(tz))
    d = local.date()
    dated = f"{format_date(d, today)}, {format_time(local.time())}"
    if today is not None and d in (today, today + timedelta(days=1)):
        return f"{format_day(d, today)}, {dated}"
    return dated


def part_of_day(t: time) -> str | None:
    """'morning', 'afternoon', 'evening' or 'night' (PARTS_OF_DAY; 'tonight' overlaps them and is left
    out); None before 6 am."""
    for name in ("morning", "afternoon", "evening", "night"):
        start, end = PARTS_OF_DAY[name]
        if start <= t.replace(tzinfo=None) < end or (name == "night" and t.replace(tzinfo=None) >= end):
            return name
    return None


def parse_iso(value: str) -> datetime:
    """CARE timestamps ('2026-11-26T03:30:00Z', '...+05:30', fractions) -> aware datetime in UTC.

    A value without an offset is taken as UTC. Raises ValueError on anything else.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"not an ISO datetime: {value!r}")
    from dateutil.parser import isoparse

    try:
        dt = isoparse(value.strip())
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not an ISO datetime: {value!r}") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)

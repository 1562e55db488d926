"""What a message about reminders says, read from its words (pure, no I/O): which reminders (medications,
appointments, both or unclear) and which clock times ("at 8 am and 9 pm", "8 baje raat", "morning and night").

Times come back as "HH:MM" (24-hour, the hospital's clock), sorted and unique: the medication times a patient
chose. A bare number counts as a time only when it looks like one ("8 am", "20:30", "9 baje", "at 8"), so "2
tablets" or "twice a day" set no time.
"""

from __future__ import annotations

import re

MEDICATIONS, APPOINTMENTS = "medications", "appointments"

_MEDICATION_WORDS = re.compile(
    r"\b(medicines?|medications?|meds?|tablets?|tabs?|pills?|doses?|dosage|capsules?|drugs?|insulin|syrup|"
    r"injections?|inhaler|dawa|dawai|davai|goli|golis)\b",
    re.IGNORECASE,
)
_APPOINTMENT_WORDS = re.compile(
    r"\b(appointments?|appt|appts|appoinments?|apointments?|visits?|reviews?|check ?ups?|follow ?ups?|opd|"
    r"consultations?|bookings?)\b",
    re.IGNORECASE,
)

# a number that is a time: with minutes, am/pm, baje, o'clock, or after "at" / "@"
_CLOCK = re.compile(
    r"(?P<at>\b(?:at|@)\s*)?\b(?P<hour>\d{1,2})(?:\s*[:.]\s*(?P<minute>\d{2}))?\s*"
    r"(?P<suffix>a\.?\s?m\b\.?|p\.?\s?m\b\.?|baje\b|bje\b|o'?\s?clock\b|hrs\b|h\b)?",
    re.IGNORECASE,
)
_AFTERNOON_AFTER = re.compile(
    r"^\W{0,3}(?:in the |at |baje |bje )?(evening|night|raat|rat|shaam|sham|afternoon|dopahar)\b", re.I
)
_AFTERNOON_BEFORE = re.compile(r"\b(evening|night|raat|rat|shaam|sham|afternoon|dopahar)\s*(?:at\s*)?$", re.I)

# a part of the day said instead of a clock time
_PARTS_OF_DAY = (
    (re.compile(r"\b(morning|mornings|subah|subha|breakfast)\b", re.I), "08:00"),
    (re.compile(r"\b(noon|midday|lunch|lunchtime|dopahar)\b", re.I), "13:00"),
    (re.compile(r"\b(afternoon)\b", re.I), "14:00"),
    (re.compile(r"\b(evening|evenings|shaam|sham)\b", re.I), "18:00"),
    (re.compile(r"\b(night|nights|bedtime|bed time|raat|dinner)\b", re.I), "21:00"),
)


def purposes_in(text: str) -> tuple[str, ...]:
    """The reminders the words are about: (medications,), (appointments,), both, or () when unclear."""
    found = []
    if _MEDICATION_WORDS.search(text or ""):
        found.append(MEDICATIONS)
    if _APPOINTMENT_WORDS.search(text or ""):
        found.append(APPOINTMENTS)
    return tuple(found)


def _clock_times(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    times: list[str] = []
    spans: list[tuple[int, int]] = []
    for m in _CLOCK.finditer(text):
        hour, minute, suffix = int(m.group("hour")), m.group("minute"), (m.group("suffix") or "").lower()
        if not (m.group("at") or minute or suffix):
            continue  # "2 tablets", "3 days": a number, not a time
        if (
            m.group("at")
            and not (minute or suffix)
            and re.match(r"\s*(days?|weeks?|hours?|mins?|minutes?)\b", text[m.end() :], re.I)
        ):
            continue
        mins = int(minute) if minute else 0
        if hour > 23 or mins > 59:
            continue
        compact = suffix.replace(".", "").replace(" ", "")
        if compact.startswith("p") and hour < 12:
            hour += 12
        elif compact.startswith("a") and hour == 12:
            hour = 0
        elif not compact.startswith(("a", "p")) and hour < 12:
            after, before = text[m.end() : m.end() + 30], text[max(0, m.start() - 20) : m.start()]
            if _AFTERNOON_AFTER.search(after) or _AFTERNOON_BEFORE.search(before):
                hour += 12  # "9 baje raat", "night at 9", "8 in the evening"
        times.append(f"{hour:02d}:{mins:02d}")
        spans.append((m.start(), m.end()))
    return times, spans


def times_in(text: str) -> list[str]:
    """The clock times the words name, as sorted unique "HH:MM"; a part of the day (morning 08:00, noon 13:00,
    afternoon 14:00, evening 18:00, night 21:00) counts when no clock time stands next to it."""
    text = text or ""
    times, spans = _clock_times(text)
    for pattern, default in _PARTS_OF_DAY:
        for m in pattern.finditer(text):
            near = any(start - 25 <= m.start() and m.end() <= end + 30 for start, end in spans)
            if not near:
                times.append(default)
    return sorted(set(times))

"""When reminders are due: clock times from a CARE medication request, due times before an appointment, and the
unique key of each reminder.

Pure: callers pass the hospital's time zone (a `zoneinfo.ZoneInfo`, settings.care_timezone), the offsets, the
quiet hours and the patient's chosen times; nothing here reads settings or the clock. Times are worked out in
the hospital's zone and returned in UTC, as the store keeps them.

Medication reminders follow the first dosage instruction (what the assistant shows, actions/care/models.py):
- `frequency` per `period` `period_unit` becomes doses a day, reminded in awake hours: 1 a day at 08:00, 2 at
  08:00 and 20:00, 3 at 08:00, 14:00 and 20:00, 4 (or every 6 h) at 08:00, 12:00, 16:00 and 20:00; 5 or 6
  spread between 08:00 and 20:00; more than 6 a day gets no automatic reminders (only times the patient
  chose). "At bedtime" (HS) is 21:00. Every other day, weekly, monthly: 08:00 on the days counted from the
  day it was prescribed;
- as-needed and not-active requests get none; the last dose is before `authored_on` + `bounds_duration`;
- times the patient chose replace the nearest default times (see `apply_chosen_times`), and only they may
  fall in the quiet hours.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

APPOINTMENTS = "appointments"
MEDICATIONS = "medications"
PURPOSES = (APPOINTMENTS, MEDICATIONS)
APPOINTMENT_REMINDER = "appointment_reminder"
MEDICATION_REMINDER = "medication_reminder"

DAILY_TIMES: dict[int, tuple[str, ...]] = {
    1: ("08:00",),
    2: ("08:00", "20:00"),
    3: ("08:00", "14:00", "20:00"),
    4: ("08:00", "12:00", "16:00", "20:00"),
}
AWAKE_FROM, AWAKE_UNTIL = dt.time(8, 0), dt.time(20, 0)
BEDTIME = dt.time(21, 0)
# Beyond this a reminder per dose is noise a patient mutes (and blocks): only the times they chose are sent
MAX_REMINDERS_A_DAY = 6

UTC = dt.timezone.utc
# a request without authored_on still needs a fixed day to count "every other day" or "weekly" from
_EPOCH = dt.date(2000, 1, 3)
_UNIT_HOURS = {"s": 1 / 3600, "min": 1 / 60, "h": 1.0, "d": 24.0, "wk": 168.0, "mo": 720.0, "a": 8760.0}
# HL7 GTS abbreviations (timing.code) for a request whose `repeat` is missing: (frequency, period, unit)
_GTS_CODES: dict[str, tuple[int, float, str]] = {
    "QD": (1, 1, "d"),
    "AM": (1, 1, "d"),
    "PM": (1, 1, "d"),
    "HS": (1, 1, "d"),
    "BED": (1, 1, "d"),
    "BID": (2, 1, "d"),
    "TID": (3, 1, "d"),
    "QID": (4, 1, "d"),
    "QOD": (1, 2, "d"),
    "Q1H": (1, 1, "h"),
    "Q2H": (1, 2, "h"),
    "Q3H": (1, 3, "h"),
    "Q4H": (1, 4, "h"),
    "Q6H": (1, 6, "h"),
    "Q8H": (1, 8, "h"),
    "WK": (1, 1, "wk"),
    "MO": (1, 1, "mo"),
}
_BEDTIME_CODES = ("HS", "BED")
_CLOCK = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")


def zone(name: str) -> ZoneInfo:
    """The hospital's zone from its name (settings.care_timezone)."""
    return ZoneInfo(name)


def parse_clock(text: str) -> dt.time:
    """ "8:00" / "08:00" / "20:30" -> a time; anything else is a ValueError."""
    m = _CLOCK.match(text or "")
    if not m:
        raise ValueError(f"not a clock time HH:MM: {text!r}")
    return dt.time(int(m.group(1)), int(m.group(2)))


def format_clock(value: dt.time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def normalise_times(times: Sequence[str]) -> list[str]:
    """Chosen times as stored: "HH:MM", sorted, each once."""
    return sorted({format_clock(parse_clock(t)) for t in times})


@dataclass(frozen=True)
class QuietHours:
    """A window of local clock time, [start, end); it may wrap past midnight (22:00-07:00)."""

    start: dt.time
    end: dt.time

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """ "22:00-07:00" -> QuietHours; "" (the setting's "off") -> None."""
        if not text.strip():
            return None
        start, _, end = text.replace(" ", "").partition("-")
        return cls(parse_clock(start), parse_clock(end))

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, dt.time):
            return False
        t = value.replace(second=0, microsecond=0, tzinfo=None)
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end


def in_quiet_hours(moment: dt.datetime, tz: dt.tzinfo, quiet: QuietHours | None) -> bool:
    """Is `moment` (aware) in the quiet hours of the hospital's clock? For the check just before a send."""
    return quiet is not None and moment.astimezone(tz).time() in quiet


@dataclass(frozen=True)
class Reminder:
    """One reminder to schedule: its unique key, when it is due (UTC) and what to fetch at send time (ids and
    times only: never a name, a drug or a diagnosis)."""

    key: str
    purpose: str
    kind: str
    due_at: dt.datetime
    params: dict[str, Any] = field(default_factory=dict, hash=False)


# ---- appointments ---------------------------------------------------------------------------------------------


def _utc_iso(moment: dt.datetime) -> str:
    return _aware(moment).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _offset_label(hours: float) -> str:
    minutes = _round(hours * 60)
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def appointment_key(appointment_id: str, slot_start: dt.datetime, offset_hours: float) -> str:
    """`appt:{id}:{slot start, UTC}:{offset}`: a moved appointment has new keys, so a row with an old one is
    recognisably stale at send time."""
    return f"appt:{appointment_id}:{_utc_iso(slot_start)}:{_offset_label(offset_hours)}"


def appointment_reminders(
    appointment_id: str,
    slot_start: dt.datetime,
    *,
    offsets_hours: Sequence[float],
    booked_at: dt.datetime | None = None,
) -> list[Reminder]:
    """A reminder `offset` hours before the slot for each offset, earliest first; one that was already due when
    the appointment was booked is skipped (a booking 3 h ahead gets only the 2 h reminder)."""
    start = _aware(slot_start).astimezone(UTC)
    booked = _aware(booked_at).astimezone(UTC) if booked_at else None
    reminders = []
    for hours in sorted({h for h in offsets_hours if h > 0}, reverse=True):
        due = start - dt.timedelta(hours=hours)
        if booked is not None and due < booked:
            continue
        reminders.append(
            Reminder(
                key=appointment_key(appointment_id, start, hours),
                purpose=APPOINTMENTS,
                kind=APPOINTMENT_REMINDER,
                due_at=due,
                params={"appointment_id": appointment_id, "slot_start": _utc_iso(start), "offset_hours": float(hours)},
            )
        )
    return reminders


def appointment_reminders_for(appointment: Mapping[str, Any], *, offsets_hours: Sequence[float]) -> list[Reminder]:
    """The reminders of a CARE appointment (`id`, `status`, `token_slot.start_datetime`, `booked_on`); none
    unless it is booked."""
    if appointment.get("status") != "booked":
        return []
    slot = appointment.get("token_slot")
    start = parse_instant(slot.get("start_datetime") if isinstance(slot, Mapping) else None)
    appointment_id = str(appointment.get("id") or "")
    if start is None or not appointment_id:
        return []
    return appointment_reminders(
        appointment_id, start, offsets_hours=offsets_hours, booked_at=parse_instant(appointment.get("booked_on"))
    )


# ---- medications ----------------------------------------------------------------------------------------------


def medication_key(request_id: str, local_date: dt.date, local_time: dt.time) -> str:
    """`med:{request id}:{local date}:{HH:MM}`: one reminder per dose, whichever scan scheduled it."""
    return f"med:{request_id}:{local_date.isoformat()}:{format_clock(local_time)}"


@dataclass(frozen=True)
class DoseTime:
    time: dt.time
    chosen: bool = False  # the patient chose it: it may fall in the quiet hours


@dataclass(frozen=True)
class MedicationPlan:
    """The rhythm of one medication request: which days, at which local times, between which moments."""

    request_id: str
    times: tuple[DoseTime, ...]
    anchor: dt.date  # the day the rhythm counts from (authored_on's local date)
    starts: dt.datetime | None = None  # no reminder before (authored_on)
    ends: dt.datetime | None = None  # no reminder at or after (authored_on + bounds_duration)
    every_days: int = 1
    day_offsets: tuple[int, ...] = (0,)  # the due days within each `every_days`
    every_months: int = 0  # > 0: on the anchor's day of the month, every so many months

    def is_due_on(self, day: dt.date) -> bool:
        if day < self.anchor:
            return False
        if self.every_months:
            months = (day.year - self.anchor.year) * 12 + day.month - self.anchor.month
            last_day = calendar.monthrange(day.year, day.month)[1]
            return months % self.every_months == 0 and day.day == min(self.anchor.day, last_day)
        return (day - self.anchor).days % self.every_days in self.day_offsets


@dataclass(frozen=True)
class _Rhythm:
    doses_a_day: int = 1  # on a day it is due
    every_days: int = 1
    day_offsets: tuple[int, ...] = (0,)
    every_months: int = 0


def _round(x: float) -> int:
    return math.floor(x + 0.5)  # half up: round() rounds 2.5 to 2


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number > 0 and math.isfinite(number) else None


def _rhythm(timing: Mapping[str, Any]) -> _Rhythm | None:
    repeat = _mapping(timing.get("repeat"))
    frequency, period, unit = _number(repeat.get("frequency")), _number(repeat.get("period")), repeat.get("period_unit")
    if frequency is None or period is None or unit not in _UNIT_HOURS:
        known = _GTS_CODES.get(_timing_code(timing))
        if known is None:
            return None
        frequency, period, unit = float(known[0]), known[1], known[2]
    doses = max(1, _round(frequency))
    if unit in ("mo", "a") and doses == 1 and (months := period * (12 if unit == "a" else 1)) == int(months):
        return _Rhythm(every_months=int(months))  # monthly on the same date, not every 30 days
    hours = period * _UNIT_HOURS[unit]
    per_day = doses * 24 / hours
    if per_day >= 1:
        return _Rhythm(doses_a_day=max(1, _round(per_day)))
    every_days = max(1, _round(hours / 24))
    offsets = tuple(sorted({i * every_days // doses for i in range(doses)}))
    return _Rhythm(every_days=every_days, day_offsets=offsets)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _timing_code(timing: Mapping[str, Any]) -> str:
    code = timing.get("code")
    return str(code.get("code") or "").upper() if isinstance(code, Mapping) else ""


def default_times(doses_a_day: int, *, bedtime: bool = False) -> tuple[dt.time, ...]:
    """The awake-hours clock times of `doses_a_day` doses; () when there are too many to remind each."""
    if doses_a_day == 1 and bedtime:
        return (BEDTIME,)
    if doses_a_day in DAILY_TIMES:
        return tuple(parse_clock(t) for t in DAILY_TIMES[doses_a_day])
    if doses_a_day > MAX_REMINDERS_A_DAY or doses_a_day < 1:
        return ()
    first = AWAKE_FROM.hour * 60 + AWAKE_FROM.minute
    span = AWAKE_UNTIL.hour * 60 + AWAKE_UNTIL.minute - first
    # evenly spread, on quarter hours (people take tablets at 10:30, not at 10:24)
    minutes = [first + _round(span * i / (doses_a_day - 1) / 15) * 15 for i in range(doses_a_day)]
    return tuple(dt.time(m // 60, m % 60) for m in minutes)


def _clock_distance(a: dt.time, b: dt.time) -> int:
    diff = abs((a.hour * 60 + a.minute) - (b.hour * 60 + b.minute))
    return min(diff, 24 * 60 - diff)


def apply_chosen_times(defaults: Sequence[dt.time], chosen: Sequence[dt.time]) -> tuple[DoseTime, ...]:
    """The patient's times replace the default times nearest to them, one for one: 2 a day with "8:00, 21:00"
    -> 08:00 and 21:00; 3 a day (08, 14, 20) with "9:00, 21:00" -> 09:00, 14:00, 21:00; once a day with
    "8:00, 21:00" -> 08:00. With no default times (too many doses a day) the chosen ones are the times."""
    if not chosen:
        return tuple(DoseTime(t) for t in sorted(set(defaults)))
    if not defaults:
        return tuple(DoseTime(t, chosen=True) for t in sorted(set(chosen)))
    pairs = sorted((_clock_distance(d, c), i, j) for i, d in enumerate(defaults) for j, c in enumerate(chosen))
    matched: dict[int, dt.time] = {}
    used: set[int] = set()
    for _, i, j in pairs:
        if i not in matched and j not in used:
            matched[i] = chosen[j]
            used.add(j)
    doses = {t: DoseTime(t) for i, t in enumerate(defaults) if i not in matched}
    doses.update({t: DoseTime(t, chosen=True) for t in matched.values()})  # a chosen time wins a tie
    return tuple(doses[t] for t in sorted(doses))


def parse_instant(value: Any) -> dt.datetime | None:
    """CARE's ISO datetimes ("...Z", "...+05:30") in UTC; a naive one is UTC, as CARE sends; anything else None."""
    if isinstance(value, dt.datetime):
        return _aware(value).astimezone(UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"  # Python 3.10's fromisoformat does not read "Z"
    try:
        return _aware(dt.datetime.fromisoformat(text)).astimezone(UTC)
    except ValueError:
        return None


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _duration(value: Any) -> dt.timedelta | None:
    if not isinstance(value, Mapping):
        return None
    amount, unit = _number(value.get("value")), value.get("unit") or value.get("code")
    if amount is None or unit not in _UNIT_HOURS:
        return None
    return dt.timedelta(hours=amount * _UNIT_HOURS[unit])


def _first_instruction(request: Mapping[str, Any]) -> Mapping[str, Any] | None:
    instructions = request.get("dosage_instruction")
    if isinstance(instructions, Sequence) and instructions and isinstance(instructions[0], Mapping):
        return instructions[0]
    return None


def _plan(
    request: Mapping[str, Any], tz: dt.tzinfo, chosen_times: Sequence[str] | None
) -> tuple[MedicationPlan | None, str]:
    if request.get("status") != "active":
        return None, "not_active"
    instruction = _first_instruction(request)
    if instruction is None:
        return None, "no_timing"
    if instruction.get("as_needed_boolean") or instruction.get("as_needed_for"):
        return None, "as_needed"
    timing = _mapping(instruction.get("timing"))
    rhythm = _rhythm(timing)
    if rhythm is None:
        return None, "no_timing"
    bedtime = _timing_code(timing) in _BEDTIME_CODES
    chosen = [parse_clock(t) for t in chosen_times or ()]
    times = apply_chosen_times(default_times(rhythm.doses_a_day, bedtime=bedtime), chosen)
    if not times:
        return None, "too_frequent"
    starts = parse_instant(request.get("authored_on"))
    repeat = _mapping(timing.get("repeat"))
    length = _duration(repeat.get("bounds_duration"))
    period = _mapping(repeat.get("bounds_period"))
    ends = parse_instant(period.get("end")) or (starts + length if starts and length else None)
    plan = MedicationPlan(
        request_id=str(request.get("id") or ""),
        times=times,
        anchor=starts.astimezone(tz).date() if starts else _EPOCH,
        starts=starts,
        ends=ends,
        every_days=rhythm.every_days,
        day_offsets=rhythm.day_offsets,
        every_months=rhythm.every_months,
    )
    return plan, ""


def medication_plan(
    request: Mapping[str, Any], tz: dt.tzinfo, chosen_times: Sequence[str] | None = None
) -> MedicationPlan | None:
    """The plan of a CARE medication request, or None when it gets no reminders (`no_reminder_reason` says
    why)."""
    return _plan(request, tz, chosen_times)[0]


def no_reminder_reason(
    request: Mapping[str, Any], tz: dt.tzinfo, chosen_times: Sequence[str] | None = None
) -> str | None:
    """Why a request gets no reminders: "not_active", "as_needed", "no_timing" or "too_frequent"; None when it
    gets some (it may still have ended: see MedicationPlan.ends)."""
    plan, reason = _plan(request, tz, chosen_times)
    return None if plan else reason


def plan_reminders(
    plan: MedicationPlan,
    *,
    start: dt.datetime,
    end: dt.datetime,
    tz: dt.tzinfo,
    quiet: QuietHours | None = None,
) -> list[Reminder]:
    """The plan's reminders due in [start, end), in order; a default time in the quiet hours is left out."""
    start, end = _aware(start), _aware(end)
    reminders = []
    day, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    while day <= last:
        if plan.is_due_on(day):
            for dose in plan.times:
                due = dt.datetime.combine(day, dose.time, tzinfo=tz).astimezone(UTC)
                if not start <= due < end or (plan.starts and due < plan.starts) or (plan.ends and due >= plan.ends):
                    continue
                if quiet is not None and not dose.chosen and dose.time in quiet:
                    continue
                reminders.append(
                    Reminder(
                        key=medication_key(plan.request_id, day, dose.time),
                        purpose=MEDICATIONS,
                        kind=MEDICATION_REMINDER,
                        due_at=due,
                        params={
                            "request_id": plan.request_id,
                            "local_date": day.isoformat(),
                            "local_time": format_clock(dose.time),
                            "chosen": dose.chosen,
                        },
                    )
                )
        day += dt.timedelta(days=1)
    return reminders


def medication_reminders(
    request: Mapping[str, Any],
    *,
    start: dt.datetime,
    end: dt.datetime,
    tz: dt.tzinfo,
    chosen_times: Sequence[str] | None = None,
    quiet: QuietHours | None = None,
) -> list[Reminder]:
    """The reminders of a CARE medication request due in [start, end) (aware datetimes), in order."""
    plan = medication_plan(request, tz, chosen_times)
    return plan_reminders(plan, start=start, end=end, tz=tz, quiet=quiet) if plan else []

"""common.dates: the day/time phrases people write on WhatsApp when they book."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timezone

import pytest

from common.dates import When, format_day, format_local, format_time, parse_iso, parse_when, to_datetime

# Wednesday 25 Nov 2026, 09:00 in India
NOW = datetime(2026, 11, 25, 9, 0)
TODAY = date(2026, 11, 25)
TOMORROW = date(2026, 11, 26)
FRI = date(2026, 11, 27)
MON = date(2026, 11, 30)

MORNING = (time(6), time(12))
AFTERNOON = (time(12), time(16))
EVENING = (time(16), time(21))


def exact(h: int, m: int = 0) -> tuple[time, None]:
    return (time(h, m), None)


NO_TIME = (None, None)

CASES = [
    # phrase, day, (start, end)
    ("today", TODAY, NO_TIME),
    ("tomorrow", TOMORROW, NO_TIME),
    ("tmrw", TOMORROW, NO_TIME),
    ("Tomorrow", TOMORROW, NO_TIME),
    ("tommorow", TOMORROW, NO_TIME),
    ("tomorow", TOMORROW, NO_TIME),
    ("tommorrow", TOMORROW, NO_TIME),
    ("2moro", TOMORROW, NO_TIME),
    ("day after tomorrow", date(2026, 11, 27), NO_TIME),
    ("day after tmrw", date(2026, 11, 27), NO_TIME),
    ("tomorrow morning", TOMORROW, MORNING),
    ("tomorrow at 10", TOMORROW, exact(10)),
    ("tomorrow 10am", TOMORROW, exact(10)),
    ("tomorrow 10 am", TOMORROW, exact(10)),
    ("tomorrow 10", TOMORROW, exact(10)),
    ("tomorrow at 4", TOMORROW, exact(16)),  # no am/pm: clinic hours
    ("tomorrow 4 p.m.", TOMORROW, exact(16)),
    ("tomorrow, 11:45", TOMORROW, exact(11, 45)),
    ("tomorrow evening at 6", TOMORROW, exact(18)),
    ("tomorrow morning 9:30", TOMORROW, exact(9, 30)),
    ("at 10:30", None, exact(10, 30)),
    ("at 10.30", None, exact(10, 30)),
    ("10:30 am", None, exact(10, 30)),
    ("3 pm", None, exact(15)),
    ("15:00", None, exact(15)),
    ("at 12", None, exact(12)),
    ("12 am", None, exact(0)),
    ("next Monday", MON, NO_TIME),
    ("next monday 5pm", MON, exact(17)),
    ("next Monday morning", MON, MORNING),
    ("next friday", date(2026, 12, 4), NO_TIME),  # the friday of next week
    ("this friday", FRI, NO_TIME),
    ("coming friday", FRI, NO_TIME),
    ("on Friday morning", FRI, MORNING),
    ("friday evening", FRI, EVENING),
    ("Friday afternoon", FRI, AFTERNOON),
    ("monday 3pm", MON, exact(15)),
    ("mon 3pm", MON, exact(15)),
    ("wednesday", TODAY, NO_TIME),  # today's weekday name: today
    ("tuesday", date(2026, 12, 1), NO_TIME),
    ("thrusday 4pm", TOMORROW, exact(16)),  # typo
    ("wensday", TODAY, NO_TIME),
    ("saturday next week", date(2026, 12, 5), NO_TIME),
    ("25/12", date(2026, 12, 25), NO_TIME),
    ("25-12", date(2026, 12, 25), NO_TIME),
    ("25/12/2026", date(2026, 12, 25), NO_TIME),
    ("25/12/26", date(2026, 12, 25), NO_TIME),
    ("25.12.2026", date(2026, 12, 25), NO_TIME),
    ("2026-12-25", date(2026, 12, 25), NO_TIME),
    ("5/1", date(2027, 1, 5), NO_TIME),  # 5 Jan, already next year
    ("25 Dec", date(2026, 12, 25), NO_TIME),
    ("25 december", date(2026, 12, 25), NO_TIME),
    ("Dec 25", date(2026, 12, 25), NO_TIME),
    ("December 25th, 2026", date(2026, 12, 25), NO_TIME),
    ("25th december at 4 pm", date(2026, 12, 25), exact(16)),
    ("25th of December 10am", date(2026, 12, 25), exact(10)),
    ("1st jan", date(2027, 1, 1), NO_TIME),
    ("the 28th", date(2026, 11, 28), NO_TIME),
    ("in 3 days", date(2026, 11, 28), NO_TIME),
    ("after 2 days", date(2026, 11, 27), NO_TIME),
    ("in a week", date(2026, 12, 2), NO_TIME),
    ("in two weeks", date(2026, 12, 9), NO_TIME),
    ("in 2 hours", TODAY, exact(11)),
    ("evening", None, EVENING),
    ("morning", None, MORNING),
    ("afternoon", None, AFTERNOON),
    ("in the afternoon", None, AFTERNOON),
    ("noon", None, exact(12)),
    ("night", None, (time(21), time(23, 59))),
    ("this evening", TODAY, EVENING),
    ("tonight", TODAY, (time(18), time(23, 59))),
    ("tonight at 8", TODAY, exact(20)),
    ("tomorrow noon", TOMORROW, exact(12)),
    ("kal subah 10 baje", TOMORROW, exact(10)),  # Hinglish: tomorrow morning at 10
    ("parso shaam", date(2026, 11, 27), EVENING),  # day after tomorrow, evening
]


@pytest.mark.parametrize("phrase, day, times", CASES, ids=[c[0] for c in CASES])
def test_phrasings(phrase, day, times):
    when = parse_when(phrase, NOW)
    assert when is not None, phrase
    assert (when.day, when.start, when.end) == (day, *times)


def test_table_is_large():
    assert len(CASES) >= 40


@pytest.mark.parametrize(
    "sentence, day, start, text",
    [
        ("book Ravi with Dr. Asha tomorrow at 10", TOMORROW, time(10), "tomorrow at 10"),
        ("Can I see the doctor next Monday morning please?", MON, time(6), "next Monday morning"),
        ("I want an appointment on 25/12 at 4pm for my mother", date(2026, 12, 25), time(16), "25/12 at 4pm"),
        ("pls book tommorow evening", TOMORROW, time(16), "tommorow evening"),
        ("Meera ko kal subah dikhana hai", TOMORROW, time(6), "kal subah"),
        ("reschedule to friday, 11:30 am", FRI, time(11, 30), "friday, 11:30 am"),
        ("bed 12, tomorrow", TOMORROW, None, "tomorrow"),  # a bed number is not a time
    ],
)
def test_phrase_inside_a_sentence(sentence, day, start, text):
    when = parse_when(sentence, NOW)
    assert when is not None
    assert when.day == day and when.start == start
    assert when.text == text


def test_text_keeps_the_words_as_typed():
    assert parse_when("Tmrw 10AM", NOW).text == "Tmrw 10AM"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "hello",
        "book an appointment",
        "show Meera's medications",
        "my number is 9876543210",
        "bed 12",
        "2 patients",
        "cancel",
        "asdfgh qwerty",
        "Dr. Asha Menon",
        "thank you so much",
    ],
)
def test_nonsense_and_no_date_give_none(text):
    assert parse_when(text, NOW) is None


def test_indian_day_month_order():
    when = parse_when("25/12", NOW)
    assert when.day == date(2026, 12, 25)
    assert parse_when("3/4", NOW).day == date(2027, 4, 3)  # 3 April, not 4 March
    assert parse_when("12/11", NOW).day == date(2027, 11, 12)  # 12 Nov is past: next year, not 11 Dec


def test_invalid_dates_are_not_dates():
    assert parse_when("31/02", NOW) is None
    assert parse_when("13/13", NOW) is None


def test_past_dates_roll_to_the_future_unless_the_year_is_written():
    assert parse_when("1/11", NOW).day == date(2027, 11, 1)
    assert parse_when("20 Nov", NOW).day == date(2027, 11, 20)
    assert parse_when("25 Nov", NOW).day == TODAY  # today is not in the past
    assert parse_when("1/11/2026", NOW).day == date(2026, 11, 1)  # explicit year kept, even in the past
    assert parse_when("29/02", NOW).day == date(2028, 2, 29)


def test_weekday_names_mean_the_next_such_day():
    assert parse_when("monday", NOW).day == MON
    assert parse_when("this monday", NOW).day == MON  # this week's monday is past
    assert parse_when("friday", NOW).day == FRI
    assert parse_when("next wednesday", NOW).day == date(2026, 12, 2)


def test_todays_weekday_with_a_time_already_past_means_next_week():
    noon = datetime(2026, 11, 25, 12, 20)  # a Wednesday, 12:20
    assert parse_when("wednesday 11am", noon).day == date(2026, 12, 2)
    assert parse_when("on wednesday morning", noon).day == date(2026, 12, 2)  # the morning is over
    assert parse_when("wednesday 4pm", noon).day == date(2026, 11, 25)  # still ahead today
    assert parse_when("wednesday", noon).day == date(2026, 11, 25)  # no time: today
    assert parse_when("this wednesday 11am", noon).day == date(2026, 11, 25)  # "this" is said on purpose
    assert [parse_when(t, noon).weekday_only for t in ("on friday", "next friday", "this friday", "3 dec")] == [
        True,
        False,
        False,
        False,
    ]


def test_next_week_is_a_window_of_days():
    when = parse_when("next week", NOW)
    assert (when.day, when.day_end) == (MON, date(2026, 12, 6))
    assert when.is_window and not when.is_exact_time
    this_week = parse_when("sometime this week", NOW)
    assert (this_week.day, this_week.day_end) == (TODAY, date(2026, 11, 29))
    weekend = parse_when("this weekend", NOW)
    assert (weekend.day, weekend.day_end) == (date(2026, 11, 28), date(2026, 11, 29))


def test_exact_time_and_window_flags():
    assert parse_when("tomorrow at 10", NOW).is_exact_time
    assert not parse_when("tomorrow morning", NOW).is_exact_time
    assert not parse_when("tomorrow", NOW).is_exact_time


def test_now_may_be_aware_in_any_zone():
    # 20:00 UTC on the 25th is 01:30 on the 26th in India: "tomorrow" is then the 27th
    now_utc = datetime(2026, 11, 25, 20, 0, tzinfo=timezone.utc)
    assert parse_when("tomorrow", now_utc).day == date(2026, 11, 27)
    assert parse_when("tomorrow", now_utc, tz="UTC").day == TOMORROW


def test_to_datetime_gives_an_aware_local_datetime():
    dt = to_datetime(parse_when("tomorrow at 10", NOW))
    assert dt.utcoffset().total_seconds() == 5.5 * 3600
    assert dt.astimezone(timezone.utc) == datetime(2026, 11, 26, 4, 30, tzinfo=timezone.utc)
    assert to_datetime(parse_when("tomorrow", NOW)) is None


# ---- formatting


@pytest.mark.parametrize(
    "d, expected",
    [
        (TODAY, "today"),
        (TOMORROW, "tomorrow"),
        (FRI, "Friday 27 Nov"),
        (date(2027, 1, 1), "Friday 1 Jan 2027"),
    ],
)
def test_format_day(d, expected):
    assert format_day(d, TODAY) == expected


@pytest.mark.parametrize(
    "t, expected",
    [
        (time(10, 30), "10:30 am"),
        (time(16), "4 pm"),
        (time(12), "12 pm"),
        (time(0, 5), "12:05 am"),
        (time(9), "9 am"),
        (time(23, 59), "11:59 pm"),
    ],
)
def test_format_time(t, expected):
    assert format_time(t) == expected


def test_format_local():
    dt = datetime(2026, 11, 27, 5, 0, tzinfo=timezone.utc)  # 10:30 am in India
    assert format_local(dt) == "Fri 27 Nov, 10:30 am"
    assert format_local(datetime(2026, 11, 26, 5, 0, tzinfo=timezone.utc), today=TODAY) == "tomorrow, 10:30 am"
    assert format_local(datetime(2026, 11, 25, 10, 30, tzinfo=timezone.utc), today=TODAY) == "today, 4 pm"
    assert format_local(datetime(2027, 1, 4, 3, 30, tzinfo=timezone.utc), today=TODAY) == "Mon 4 Jan 2027, 9 am"
    assert format_local(dt, tz="UTC") == "Fri 27 Nov, 5 am"


def test_parse_iso_reads_care_timestamps():
    expected = datetime(2026, 11, 26, 3, 30, tzinfo=timezone.utc)
    assert parse_iso("2026-11-26T03:30:00Z") == expected
    assert parse_iso("2026-11-26T09:00:00+05:30") == expected
    assert parse_iso("2026-11-26T03:30:00.123456Z") == expected.replace(microsecond=123456)
    assert parse_iso("2026-11-26T03:30:00") == expected  # no offset: UTC
    assert parse_iso("2026-11-26T03:30:00Z").tzinfo is not None
    assert format_local(parse_iso("2026-11-26T03:30:00Z")) == "Thu 26 Nov, 9 am"


@pytest.mark.parametrize("bad", ["", "tomorrow", "26/11/2026", None])
def test_parse_iso_rejects_other_text(bad):
    with pytest.raises(ValueError):
        parse_iso(bad)


def test_when_is_frozen():
    w = When(day=TODAY, start=None, end=None, text="today")
    with pytest.raises(dataclasses.FrozenInstanceError):
        w.day = TOMORROW  # type: ignore[misc]


# ---- beyond the basics: windows of time, more ways of writing a day


@pytest.mark.parametrize(
    "phrase, day, start, end",
    [
        ("tomorrow 10-12", TOMORROW, time(10), time(12)),
        ("10-12 tomorrow", TOMORROW, time(10), time(12)),  # not 10 December
        ("between 4 and 6 pm", None, time(16), time(18)),
        ("between 2-3", None, time(14), time(15)),
        ("friday 10 am to 1 pm", FRI, time(10), time(13)),
        ("10-1 pm", None, time(10), time(13)),
        ("tomorrow 11-2", TOMORROW, time(11), time(14)),
        ("tomorrow after 5", TOMORROW, time(17), time(23, 59)),
        ("after 4pm", None, time(16), time(23, 59)),
        ("morning before 10", None, time(6), time(10)),
        ("fri after lunch", FRI, time(12), time(16)),
    ],
)
def test_time_windows(phrase, day, start, end):
    when = parse_when(phrase, NOW)
    assert (when.day, when.start, when.end) == (day, start, end)
    assert not when.is_exact_time


@pytest.mark.parametrize(
    "phrase, day, day_end",
    [
        ("next week monday", MON, None),
        ("this week friday", FRI, None),
        ("next month", date(2026, 12, 1), date(2026, 12, 31)),
        ("in a fortnight", date(2026, 12, 9), None),
        ("2 weeks from now", date(2026, 12, 9), None),
        ("a week from today", date(2026, 12, 2), None),
        ("3 days later", date(2026, 11, 28), None),
        ("2026/12/25", date(2026, 12, 25), None),
        ("26-Nov-2026", TOMORROW, None),
        ("Thursday, 26 November 2026", TOMORROW, None),
        ("Monday 30/11", MON, None),
        ("yesterday", date(2026, 11, 24), None),  # reported as it is; the caller says it has passed
    ],
)
def test_more_days(phrase, day, day_end):
    when = parse_when(phrase, NOW)
    assert (when.day, when.day_end) == (day, day_end)


def test_weekday_next_to_a_date_is_one_phrase_and_the_date_wins():
    when = parse_when("Friday 26/11 at 10", NOW)  # 26 Nov is a Thursday: the written date is kept
    assert (when.day, when.start, when.text) == (TOMORROW, time(10), "Friday 26/11 at 10")


@pytest.mark.parametrize(
    "text",
    [
        "the sun is hot",
        "I sat there 2 hours",
        "we got wed last year",
        "dose 2.5",
        "call 9876543210",
        "ravi age 45",
        "2 to 3 patients",
    ],
)
def test_words_and_numbers_that_are_not_days(text):
    assert parse_when(text, NOW) is None


def test_short_weekday_forms_count_with_context():
    assert parse_when("sat 10am", NOW).day == date(2026, 11, 28)
    assert parse_when("on sun", NOW).day == date(2026, 11, 29)


def test_time_before_the_day():
    when = parse_when("book at 5 tomorrow", NOW)
    assert (when.day, when.start, when.text) == (TOMORROW, time(17), "at 5 tomorrow")
    assert parse_when("5pm next monday", NOW).start == time(17)
    assert parse_when("tomorrow 1530 hrs", NOW).start == time(15, 30)


def test_bare_numbers_near_a_day_that_are_not_times():
    assert parse_when("tomorrow for 2 people", NOW).start is None
    assert parse_when("dose 2.5 tomorrow", NOW).start is None
    assert parse_when("call 9876543210 tomorrow 4pm", NOW).start == time(16)


def test_around_the_new_year():
    now = datetime(2026, 12, 30, 18, 0)  # a Wednesday evening
    assert parse_when("1/1", now).day == date(2027, 1, 1)
    assert parse_when("30/12", now).day == date(2026, 12, 30)
    assert parse_when("day after tomorrow", now).day == date(2027, 1, 1)
    assert parse_when("next week", now).day_end == date(2027, 1, 10)
    assert format_day(date(2027, 1, 1), date(2026, 12, 30)) == "Friday 1 Jan 2027"


@pytest.mark.parametrize("offset", range(7))
def test_weekday_names_on_every_day_of_the_week(offset):
    now = datetime(2026, 11, 23 + offset, 9, 0)  # Monday 23 Nov .. Sunday 29 Nov
    today = now.date()
    for name in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"):
        plain = parse_when(name, now).day
        nxt = parse_when(f"next {name}", now).day
        assert 0 <= (plain - today).days <= 6 and plain.strftime("%A").lower() == name
        assert 1 <= (nxt - today).days <= 13 and nxt.strftime("%A").lower() == name
        assert nxt >= date(2026, 11, 30)  # always in the next Mon-Sun week


def test_dated_days_and_times_never_say_only_tomorrow():
    from common.dates import format_date, format_day_dated, format_local_dated

    assert format_date(TOMORROW) == "Thu 26 Nov" and format_date(date(2027, 1, 1), TODAY) == "Fri 1 Jan 2027"
    assert format_day_dated(TODAY, TODAY) == "today (Wed 25 Nov)"
    assert format_day_dated(TOMORROW, TODAY) == "tomorrow (Thu 26 Nov)"
    assert format_day_dated(date(2026, 11, 24), TODAY) == "yesterday (Tue 24 Nov)"
    assert format_day_dated(FRI, TODAY) == "Friday 27 Nov"
    tomorrow_10_30 = datetime(2026, 11, 26, 5, 0, tzinfo=timezone.utc)  # 10:30 am in India
    assert format_local_dated(tomorrow_10_30, today=TODAY) == "tomorrow, Thu 26 Nov, 10:30 am"
    assert (
        format_local_dated(datetime(2026, 11, 25, 10, 30, tzinfo=timezone.utc), today=TODAY)
        == "today, Wed 25 Nov, 4 pm"
    )
    assert format_local_dated(datetime(2026, 11, 27, 5, 0, tzinfo=timezone.utc), today=TODAY) == "Fri 27 Nov, 10:30 am"
    assert format_local_dated(datetime(2027, 1, 4, 3, 30, tzinfo=timezone.utc), today=TODAY) == "Mon 4 Jan 2027, 9 am"
    # late at night in India is the next day there, whatever the UTC date says
    assert format_local_dated(datetime(2026, 11, 25, 19, 0), today=TODAY) == "tomorrow, Thu 26 Nov, 12:30 am"


@pytest.mark.parametrize(
    "t, part",
    [
        (time(5, 59), None),
        (time(6), "morning"),
        (time(9, 30), "morning"),
        (time(12), "afternoon"),
        (time(16), "evening"),
        (time(21), "night"),
        (time(23, 59), "night"),
    ],
)
def test_part_of_day(t, part):
    from common.dates import part_of_day

    assert part_of_day(t) == part

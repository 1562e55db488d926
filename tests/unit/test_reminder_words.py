"""Reminder words: which reminders a message asks about, and the clock times it names."""

from __future__ import annotations

import pytest

from common.reminder_words import APPOINTMENTS, MEDICATIONS, purposes_in, times_in


@pytest.mark.parametrize(
    "text, times",
    [
        ("send me medicine reminders at 8 am and 9 pm", ["08:00", "21:00"]),
        ("remind me at 8am & 9pm", ["08:00", "21:00"]),
        ("remind me at 8 p.m.", ["20:00"]),
        ("at 20:30 please", ["20:30"]),
        ("tablet reminder at 7.30 am", ["07:30"]),
        ("remind me at 12 am", ["00:00"]),
        ("remind me at 12 pm", ["12:00"]),
        ("8 baje", ["08:00"]),
        ("9 baje raat", ["21:00"]),
        ("raat 9 baje", ["21:00"]),
        ("subah 8 baje aur raat 9 baje", ["08:00", "21:00"]),
        ("8 in the morning and 9 at night", ["08:00", "21:00"]),
        ("at 8 in the evening", ["20:00"]),
        ("morning and night", ["08:00", "21:00"]),
        ("remind me every morning", ["08:00"]),
        ("at 9 o'clock", ["09:00"]),
        ("at 8", ["08:00"]),
        ("8 pm and 8 pm again", ["20:00"]),
    ],
)
def test_times_in_words(text, times):
    assert times_in(text) == times


@pytest.mark.parametrize(
    "text",
    [
        "remind me to take my tablets",
        "i take 2 tablets a day",
        "twice a day for 3 days",
        "remind me 1 day before my appointment",
        "at 25:00",
        "at 9:75",
        "",
    ],
)
def test_numbers_that_are_not_times_set_none(text):
    assert times_in(text) == []


@pytest.mark.parametrize(
    "text, purposes",
    [
        ("remind me about my tablets", (MEDICATIONS,)),
        ("no more medicine messages", (MEDICATIONS,)),
        ("dawai ka reminder", (MEDICATIONS,)),
        ("remind me about my appointment", (APPOINTMENTS,)),
        ("remind me before my review visit", (APPOINTMENTS,)),
        ("remind me about my pills and my appointments", (MEDICATIONS, APPOINTMENTS)),
        ("remind me", ()),
        ("STOP", ()),
    ],
)
def test_purposes_in_words(text, purposes):
    assert purposes_in(text) == purposes

"""common/text.py: splitting replies and fitting titles into WhatsApp's limits."""

from __future__ import annotations

import pytest

from common.text import split_text, split_title, truncate


def _words(chunks: list[str]) -> list[str]:
    return " ".join(chunks).split()


def test_short_text_is_one_chunk():
    assert split_text("  Hello Asha  ", 4096) == ["Hello Asha"]


def test_empty_text_is_no_chunk():
    assert split_text("", 10) == [] and split_text("   \n ", 10) == []


def test_prefers_a_paragraph_break():
    first = "Your appointments:\n" + "\n".join(f"- slot {n}" for n in range(5))
    second = "Reply with a number to book."
    chunks = split_text(f"{first}\n\n{second}", len(first) + 10)
    assert chunks == [first, second]


def test_falls_back_to_a_line_break():
    lines = [f"line {n} of the list" for n in range(10)]
    chunks = split_text("\n".join(lines), 60)
    assert all(len(c) <= 60 for c in chunks)
    assert all(c.split("\n")[-1] in lines for c in chunks)  # every chunk ends at a whole line


def test_falls_back_to_a_sentence_end():
    text = "The clinic opens at nine. Please bring your card. Parking is free on Sundays."
    chunks = split_text(text, 55)
    assert chunks == ["The clinic opens at nine. Please bring your card.", "Parking is free on Sundays."]


def test_hindi_sentences_end_at_the_danda():
    text = "आपकी अपॉइंटमेंट कल है। कृपया समय पर आएं।"
    assert split_text(text, 25) == ["आपकी अपॉइंटमेंट कल है।", "कृपया समय पर आएं।"]


def test_falls_back_to_a_word_boundary():
    text = "alpha beta gamma delta epsilon zeta eta theta"
    chunks = split_text(text, 12)
    assert all(len(c) <= 12 for c in chunks)
    assert _words(chunks) == text.split()


def test_a_word_longer_than_the_limit_is_cut_hard():
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


@pytest.mark.parametrize("limit", [20, 100, 1024, 4096])
def test_no_chunk_exceeds_the_limit_and_no_word_is_lost(limit):
    text = "\n\n".join(
        "\n".join(f"Sentence {p}.{s} about medicines. Take one tablet daily." for s in range(7)) for p in range(40)
    )
    chunks = split_text(text, limit)
    assert all(0 < len(c) <= limit for c in chunks)
    assert _words(chunks) == text.split()


def test_invalid_limit():
    with pytest.raises(ValueError):
        split_text("x", 0)


def test_truncate():
    assert truncate("short", 10) == "short"
    assert truncate("General Medicine Outpatient", 20) == "General Medicine…"
    assert truncate("Supercalifragilistic", 10) == "Supercali…"
    assert len(truncate("word " * 50, 72)) <= 72


def test_split_title_at_a_word():
    assert split_title("Dr. Meera Nair, General Medicine", 24) == ("Dr. Meera Nair, General", "Medicine")
    assert split_title("Cardiology", 24) == ("Cardiology", "")
    assert split_title("Pneumonoultramicroscopicsilicovolcano", 24) == ("Pneumonoultramicroscopic", "silicovolcano")


def test_split_title_keeps_joined_parts_whole():
    # a cancel list row: the time is the title, the doctor the description (not "... · Dr." + "Asha Menon")
    assert split_title("Mon 30 Nov, 9 am · Dr. Asha Menon", 24) == ("Mon 30 Nov, 9 am", "Dr. Asha Menon")
    assert split_title("Mon 30 Nov, 9:30 am · Dr. Asha Menon", 24) == ("Mon 30 Nov, 9:30 am", "Dr. Asha Menon")
    assert split_title("a · " + "b" * 30, 24) == ("a", "b" * 30)

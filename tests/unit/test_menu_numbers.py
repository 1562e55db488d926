"""A bare number after a menu picks that item (connectors/whatsapp/numbers.py)."""

from __future__ import annotations

import pytest

from connectors.whatsapp.numbers import last_offered, menu_number, pick

MENU = {
    "event": "bot",
    "text": "What would you like to do?",
    "data": {
        "buttons": [
            {"title": "My records", "payload": "/get_records"},
            {"title": "My medications", "payload": "/get_medications"},
            {"title": "My appointments", "payload": "/get_appointments"},
        ]
    },
}


@pytest.mark.parametrize(
    "text, number",
    [
        ("2", 2),
        (" 2 ", 2),
        ("2.", 2),
        ("2)", 2),
        ("#3", 3),
        ("no. 1", 1),
        ("45612", None),
        ("2 tablets", None),
        ("", None),
        ("two", None),
    ],
)
def test_what_counts_as_a_bare_number(text, number):
    assert menu_number(text) == number


def test_the_number_picks_from_the_last_menu_in_the_order_shown():
    events = [
        {"event": "user", "text": "hi"},
        {"event": "bot", "text": "Hello!"},
        MENU,
        {"event": "action", "name": "action_listen"},
    ]
    assert pick("2", events) == "/get_medications"
    assert pick("3", events) == "/get_appointments"
    assert pick("4", events) is None and pick("0", events) is None


def test_a_menu_from_before_the_users_last_message_is_not_used():
    events = [MENU, {"event": "user", "text": "thanks"}, {"event": "bot", "text": "You're welcome!"}]
    assert last_offered(events) == []
    assert pick("2", events) is None


def test_duplicate_and_link_buttons_are_left_out_as_the_user_never_saw_them_numbered():
    menu = {
        "event": "bot",
        "data": {
            "buttons": [
                {"title": "A", "payload": "/a"},
                {"title": "A again", "payload": "/a"},
                {"title": "Site", "url": "https://x"},
                {"title": "B", "payload": "/b"},
            ]
        },
    }
    assert last_offered([menu]) == ["/a", "/b"]


def test_a_list_of_times_is_not_numbered_as_a_typed_three_means_three_oclock():
    times = {
        "event": "bot",
        "data": {
            "buttons": [
                {"title": "9 am", "payload": '/choose{"choice":"a"}'},
                {"title": "3 pm", "payload": '/choose{"choice":"b"}'},
            ]
        },
    }
    assert last_offered([times]) == [] and pick("2", [times]) is None

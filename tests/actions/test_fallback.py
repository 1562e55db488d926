"""The fallback that helps (actions/fallback.py): an unsure message gets its likeliest meanings as buttons, a
second miss the helpdesk and the menu, and a tapped choice is that request."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rasa_sdk import Tracker

from actions.fallback import ACTION_NAME, CHOICE_TITLES, NEVER_OFFERED, SOMETHING_ELSE
from connectors.whatsapp.output import REPLY_TITLE_MAX, button_messages
from tests.actions.harness import (
    action,
    active_loop_of,
    buttons,
    fresh_sender,
    make_tracker,
    responses,
    run,
    slots_set,
    texts,
)

FALLBACK = "nlu_fallback"
HELPDESK = "+91 177 265 2011"


@pytest.fixture(autouse=True)
def hospital(monkeypatch: pytest.MonkeyPatch) -> Any:
    import settings

    monkeypatch.setenv("HOSPITAL_HELPDESK_NUMBER", HELPDESK)
    monkeypatch.delenv("NATIONAL_AMBULANCE_NUMBER", raising=False)
    settings.get_settings.cache_clear()
    yield
    settings.get_settings.cache_clear()


def ranking(*pairs: tuple[str, float]) -> list[dict[str, Any]]:
    """An intent ranking as FallbackClassifier leaves it: nlu_fallback first, then the classifier's own."""
    return [{"name": FALLBACK, "confidence": 0.45}, *({"name": n, "confidence": c} for n, c in pairs)]


def unsure(
    text: str,
    ranked: list[dict[str, Any]],
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    **latest: Any,
) -> Tracker:
    tracker = make_tracker(fresh_sender(), slots, text=text, intent=FALLBACK, entities=entities, confidence=0.45)
    tracker.latest_message["intent_ranking"] = ranked
    tracker.latest_message.update(latest)
    return tracker


def fallback(tracker: Tracker, domain: dict[str, Any]) -> tuple[Any, list[dict[str, Any]]]:
    return run(action(ACTION_NAME), tracker, domain)


def pairs(said: Any, domain: dict[str, Any], slots: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    return [(b["title"], b["payload"]) for b in buttons(said, domain, slots)]


MIXED = ranking(
    ("get_medications", 0.38),
    ("emergency", 0.30),  # the keyword net did not fire: still never a button
    ("search_patient", 0.2),
    ("affirm", 0.15),
    ("login", 0.14),
    ("get_appointments", 0.12),
    ("get_records", 0.05),  # too unlikely
)


def test_an_unsure_message_offers_its_likeliest_meanings_with_its_names(domain):
    said, events = fallback(unsure("ravi tablets pls", MIXED, entities=[{"entity": "person", "value": "Ravi"}]), domain)
    assert responses(said) == ["utter_fallback_choices"] and events == []
    assert pairs(said, domain) == [
        ("My medications", '/get_medications{"person":"Ravi"}'),
        ("Log in", "/login"),  # reads no name
        ("My appointments", '/get_appointments{"person":"Ravi"}'),
        ("Something else", "/menu"),
    ]
    reply = texts(said, domain)
    assert "didn't understand" in reply and "Something else" in reply and "medications" in reply
    assert "🚨 In an emergency, call *108* now." in reply  # whatever the keyword net missed


def test_staff_get_staff_choices_and_no_patient_login(domain):
    slots = {"role": "staff", "staff_access": "full"}
    said, _ = fallback(unsure("meera stuff", MIXED, slots, entities=[{"entity": "person", "value": "Meera"}]), domain)
    assert pairs(said, domain, slots) == [
        ("Medications", '/get_medications{"person":"Meera"}'),
        ("Find a patient", '/search_patient{"person":"Meera"}'),
        ("Appointments", '/get_appointments{"person":"Meera"}'),
        ("Something else", "/menu"),
    ]
    assert "In an emergency, call *108*" in texts(said, domain, slots)


def test_logout_is_offered_only_to_someone_logged_in(domain):
    ranked = ranking(("logout", 0.4), ("staff_login", 0.3))
    anonymous, _ = fallback(unsure("log me", ranked), domain)
    patient, _ = fallback(unsure("log me", ranked, {"role": "patient"}), domain)
    staff, _ = fallback(unsure("log me", ranked, {"role": "staff"}), domain)
    assert [t for t, _ in pairs(anonymous, domain)] == ["Staff login", "Something else"]
    assert [t for t, _ in pairs(patient, domain)] == ["Log out", "Staff login", "Something else"]
    assert [t for t, _ in pairs(staff, domain, {"role": "staff"})] == ["Log out", "Something else"]


def test_at_most_three_meanings_are_offered(domain):
    ranked = ranking(*((i, 0.2) for i in ("get_records", "get_medications", "get_appointments", "get_procedures")))
    said, _ = fallback(unsure("my stuff", ranked), domain)
    assert [p for _, p in pairs(said, domain)] == ["/get_records", "/get_medications", "/get_appointments", "/menu"]


def test_nothing_worth_offering_gets_the_menu_in_one_message(domain):
    ranked = ranking(("emergency", 0.4), ("affirm", 0.3), ("greet", 0.2), ("secret_provided", 0.1), ("help", 0.05))
    said, _ = fallback(unsure("blorp fnord wibble", ranked), domain)
    assert responses(said) == ["utter_fallback_menu"]
    menu = domain["responses"]["utter_menu"][0]["buttons"]
    assert buttons(said, domain) == menu
    reply = texts(said, domain)
    assert "didn't understand" in reply and "menu" in reply and "In an emergency, call *108*" in reply

    slots = {"role": "staff", "staff_access": "basic"}
    said, _ = fallback(unsure("blorp", ranked, slots), domain)
    assert buttons(said, domain, slots) == domain["responses"]["utter_staff_menu_basic"][0]["buttons"]


def test_an_intent_the_safety_net_overruled_is_not_offered(domain):
    """A bare code typed out of turn: the net made the classifier's staff_login a fallback."""
    ranked = [{"name": FALLBACK, "confidence": 1.0}, {"name": "staff_login", "confidence": 0.6}]
    ranked.append({"name": "resend_code", "confidence": 0.2})
    tracker = unsure("45612", ranked, classified_as={"name": "staff_login", "confidence": 0.6})
    said, _ = fallback(tracker, domain)
    assert [p for _, p in pairs(said, domain)] == ["/resend_code", "/menu"]


def second_miss(slots: dict[str, Any] | None = None, between: str | None = None) -> Tracker:
    """A tracker whose previous message got the fallback (and, with `between`, a recognised request since)."""
    tracker = unsure("zzz blorp", MIXED, slots)
    earlier: list[dict[str, Any]] = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "asdf qwer", "parse_data": {"intent": {"name": FALLBACK}}},
        {"event": "action", "name": ACTION_NAME},
        {"event": "bot", "text": "Sorry, I didn't understand that."},
    ]
    if between:
        earlier += [
            {"event": "action", "name": "action_listen"},
            {"event": "user", "text": "help", "parse_data": {"intent": {"name": between}}},
            {"event": "action", "name": f"utter_{between}"},
        ]
    tracker.events = earlier + tracker.events
    return tracker


def test_a_second_miss_in_a_row_gets_the_helpdesk_then_the_menu(domain):
    said, events = fallback(second_miss(), domain)
    assert responses(said) == ["utter_fallback_again", "utter_menu"] and events == []
    reply = texts(said, domain)
    assert "still didn't understand" in reply and HELPDESK in reply and "In an emergency, call *108*" in reply
    assert ("Talk to a person", "/talk_to_human") in pairs(said[:1], domain)

    staff = {"role": "staff", "staff_access": "desk"}
    said, _ = fallback(second_miss(staff), domain)
    assert responses(said) == ["utter_fallback_again", "utter_staff_menu_desk"]


def test_a_second_miss_without_a_helpdesk_number_still_offers_a_person(domain, monkeypatch):
    import settings

    monkeypatch.setenv("HOSPITAL_HELPDESK_NUMBER", "")
    settings.get_settings.cache_clear()
    said, _ = fallback(second_miss(), domain)
    assert responses(said) == ["utter_fallback_again_without_number", "utter_menu"]
    assert ("Talk to a person", "/talk_to_human") in pairs(said, domain)
    assert "{" not in texts(said, domain)


def test_a_recognised_request_in_between_starts_counting_again(domain):
    said, _ = fallback(second_miss(between="help"), domain)
    assert responses(said) == ["utter_fallback_choices"]


def test_in_an_open_form_the_answer_is_todays_and_the_form_goes_on(domain):
    tracker = unsure("/something", MIXED, {"requested_slot": "booking_day"})
    tracker.active_loop = {"name": "book_appointment_form"}
    said, events = fallback(tracker, domain)
    assert responses(said) == ["utter_default"] and buttons(said, domain) == []
    assert events == [] and active_loop_of(events) is False


def test_every_choice_has_a_short_title_and_is_an_intent_of_the_domain(domain):
    for intent, title in [*CHOICE_TITLES.items(), ("menu", SOMETHING_ELSE)]:
        assert intent in domain["intents"] or any(intent in i for i in domain["intents"] if isinstance(i, dict))
        assert intent not in NEVER_OFFERED
        for variation in domain["responses"][title["response"]]:
            assert len(variation["text"]) <= REPLY_TITLE_MAX, variation["text"]


def test_the_choices_reach_whatsapp_as_one_message_with_every_option(domain):
    said, _ = fallback(unsure("ravi tablets pls", MIXED, entities=[{"entity": "person", "value": "Ravi"}]), domain)
    offered = buttons(said, domain)
    [sent] = button_messages("919876543210", texts(said, domain), offered)
    rows = [r for s in sent["interactive"]["action"]["sections"] for r in s["rows"]]
    assert [r["id"] for r in rows] == [b["payload"] for b in offered]  # 4 options: a list, nothing left out


def test_a_pressed_choice_is_that_request_with_its_name(domain, care_env):
    """The payload reads back (as Rasa's payload parser reads it) as the request, and the request is answered:
    a stranger is asked to log in first, the request waiting."""
    from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler
    from rasa.shared.nlu.training_data.message import Message

    said, _ = fallback(unsure("ravi tablets pls", MIXED, entities=[{"entity": "person", "value": "Ravi"}]), domain)
    payload = pairs(said, domain)[0][1]
    [parsed] = RegexMessageHandler().process([Message(data={"text": payload})])
    assert parsed.get("intent")["name"] == "get_medications"
    assert [(e["entity"], e["value"]) for e in parsed.get("entities")] == [("person", "Ravi")]
    assert json.loads(payload.removeprefix("/get_medications")) == {"person": "Ravi"}

    tapped = make_tracker(fresh_sender(), text=payload, intent="get_medications", entities=parsed.get("entities"))
    _, events = run(action("action_get_medications"), tapped, domain)
    assert slots_set(events).get("pending_request") == "medications"
    assert active_loop_of(events) == "patient_login_form"

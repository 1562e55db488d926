"""The shared layer (actions/shared) that the patient and staff parts both stand on: one clock and time zone,
one reader of the latest message, one explainer of CARE errors."""

from __future__ import annotations

import datetime as dt

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.care.errors import CareForbidden, CareInvalid, CareNotFound, CareUnauthenticated, CareUnavailable
from actions.shared import clock, errors, turn


@pytest.fixture
def hospital_in(monkeypatch):
    def set_zone(tz: str) -> None:
        monkeypatch.setenv("CARE_TIMEZONE", tz)
        from settings import get_settings

        get_settings.cache_clear()
        clock.zone.cache_clear()

    yield set_zone
    from settings import get_settings

    get_settings.cache_clear()


def tracker(
    text: str = "",
    intent: str = "",
    entities: list[dict] | None = None,
    slots: dict | None = None,
    sender: str = "test-sender",
) -> Tracker:
    latest = {"text": text, "intent": {"name": intent}, "entities": entities or []}
    return Tracker(sender, dict(slots or {}), latest, [], False, None, {}, "action_listen")


# ------------------------------------------------------------------ one clock, one time zone


def test_now_is_the_hospitals_local_time_not_the_servers(hospital_in):
    hospital_in("Asia/Kolkata")
    now = clock.now()
    assert now.utcoffset() == dt.timedelta(hours=5, minutes=30)
    assert clock.today() == now.date()


def test_today_turns_over_at_the_hospitals_midnight(hospital_in, monkeypatch):
    hospital_in("Asia/Kolkata")
    # 20:00 UTC on 1 Dec is 01:30 on 2 Dec in Kochi: the patient's "today" is the 2nd
    late = dt.datetime(2026, 12, 1, 20, 0, tzinfo=dt.timezone.utc)
    assert clock.to_local(late).date() == dt.date(2026, 12, 2)
    hospital_in("Europe/London")
    assert clock.to_local(late).date() == dt.date(2026, 12, 1)


def test_care_times_without_a_zone_are_utc():
    naive = dt.datetime(2026, 12, 1, 4, 30)
    assert clock.to_local(naive, "Asia/Kolkata").time() == dt.time(10, 0)


# ------------------------------------------------------------------ one reader of the message


def test_split_name_pieces_are_read_as_typed():
    t = tracker(
        "book with Dr. Asha tomorrow",
        entities=[
            {"entity": "practitioner", "value": "dr", "start": 10, "end": 13},
            {"entity": "practitioner", "value": "asha", "start": 14, "end": 18},
        ],
    )
    assert turn.entity(t, "practitioner") == "Dr. Asha"


def test_pieces_far_apart_are_not_joined():
    t = tracker(
        "Asha or maybe Rahul",
        entities=[
            {"entity": "practitioner", "value": "Asha", "start": 0, "end": 4},
            {"entity": "practitioner", "value": "Rahul", "start": 14, "end": 19},
        ],
    )
    assert turn.entity(t, "practitioner") == "Asha"


def test_a_tapped_payload_gives_its_exact_value():
    text = '/staff_choose{"staff_choice":"p:123"}'
    t = tracker(text, "staff_choose", [{"entity": "staff_choice", "value": "p:123", "start": 0, "end": len(text)}])
    assert turn.entity(t, "staff_choice") == "p:123" and turn.is_tap(text)
    assert turn.entity(t, "person") is None


# ------------------------------------------------------------------ one explainer


@pytest.mark.parametrize(
    "exc, patient, staff",
    [
        (CareForbidden("no"), "utter_care_forbidden", "utter_staff_forbidden"),
        (errors.AccessDenied("x"), "utter_care_forbidden", "utter_staff_forbidden"),
        (CareNotFound("gone"), "utter_care_not_found", "utter_staff_patient_gone"),
        (CareUnavailable("down"), "utter_care_unavailable", "utter_staff_care_unavailable"),
        (RuntimeError("surprise"), "utter_care_unavailable", "utter_staff_care_unavailable"),
    ],
)
def test_each_failure_is_told_in_the_words_of_its_audience(exc, patient, staff, monkeypatch, tmp_path):
    monkeypatch.setenv("SESSION_STORE_URL", f"sqlite:///{tmp_path / 's.db'}")
    from sessions.store import get_session_store

    get_session_store.cache_clear()
    for audience, response in (("patient", patient), ("staff", staff)):
        d = CollectingDispatcher()
        errors.explain(d, tracker(slots={"role": audience}), exc)
        assert [m["response"] for m in d.messages] == [response]
    get_session_store.cache_clear()


def test_cares_refusal_is_shown_without_field_paths():
    d = CollectingDispatcher()
    errors.explain(d, tracker(), CareInvalid(["otp: Invalid OTP.", "phone_number: Invalid OTP"]), "patient")
    assert d.messages[0]["reason"] == "Invalid OTP"


def test_a_refused_token_ends_the_login_and_empties_its_slots(monkeypatch, tmp_path):
    import time

    monkeypatch.setenv("SESSION_STORE_URL", f"sqlite:///{tmp_path / 's.db'}")
    from sessions.store import Login, get_session_store

    get_session_store.cache_clear()
    get_session_store().save_login("s1", Login(kind="staff", access_token="a", expires_at=time.time() + 600))
    d = CollectingDispatcher()
    events = errors.explain(d, tracker(sender="s1"), CareUnauthenticated("expired"))
    assert d.messages[0]["response"] == "utter_staff_session_ended"  # staff, from the login itself
    assert get_session_store().login("s1") is None
    assert {e["name"] for e in events} >= {"role", "staff_patient_id", "staff_access", "patient_name"}
    assert all(e["value"] is None for e in events)
    get_session_store.cache_clear()

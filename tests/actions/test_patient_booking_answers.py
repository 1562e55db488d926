"""The booking form lets go of a message that is another request: a question, or words that name no doctor,
is not taken as the answer to "which doctor?"."""

from __future__ import annotations

import pytest

from tests.actions.harness import slots_set
from tests.actions.test_patient_booking import ASHA_MENON, sunita, validate_booking  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("care_env")


@pytest.mark.parametrize(
    "text, intent",
    [
        ("on which date is my review", "get_appointments"),
        ("when is my review?", "get_appointments"),
        ("what is it", "get_records"),
        ("my review", "get_appointments"),
        ("show my tablets", "get_medications"),
    ],
)
def test_another_request_is_not_read_as_the_doctor(sunita, domain, text, intent):
    d, events = validate_booking(sunita, "booking_practitioner", text, domain, {}, intent=intent)
    assert "booking_practitioner" not in slots_set(events)  # the form is left for the request's rule
    assert "utter_practitioner_not_found" not in [m.get("response") for m in d]


@pytest.mark.parametrize("text", ["Dr. Asha Menon", "asha menon pls", "Asha"])
def test_a_doctors_name_is_still_an_answer_whatever_nlu_heard(sunita, domain, text):
    _said, events = validate_booking(sunita, "booking_practitioner", text, domain, {}, intent="book_appointment")
    slots = slots_set(events)
    # one Asha is taken; two fit "Asha", and the form asks which (it read the answer either way)
    assert slots.get("booking_practitioner") == ASHA_MENON or slots.get("booking_doctor_query") == "Asha"

"""The WhatsApp template registry: what a locked phone shows is safe, every reminder can be stopped, the
registry keeps within the Cloud API's limits, and template sends are rendered and validated against it."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml

from connectors.whatsapp.parse import message_text
from notifications.templates import (
    BUTTON_TEXT_MAX,
    BUTTONS_MAX,
    CODE_INVALID,
    CODE_INVALID_VALUE,
    CODE_NO_TEMPLATE,
    CODE_PARAM_COUNT,
    CODE_PARAM_TEXT,
    REGISTRY_PATH,
    STOP_INTENT,
    TemplateRegistryError,
    button_payload,
    creation_payload,
    load_registry,
    registry,
    render,
    validate,
)

CARE = Path(__file__).resolve().parents[1] / "fixtures" / "care-api"
APPOINTMENT = {"hospital_name": "Shimla District Hospital", "date": "Tue 8 Dec", "time": "9:15 am"}


def recorded_drug_names() -> set[str]:
    """Every medicine name in the CARE recordings: none may appear in a template."""
    names = set()
    for path in CARE.glob("*medication*.json"):
        body = json.loads(path.read_text())["response"]["body"]
        for item in body.get("results", [body]) if isinstance(body, dict) else []:
            display = (item.get("medication") or {}).get("display") if isinstance(item, dict) else None
            if display:
                names.update(w.lower() for w in re.findall(r"[A-Za-z]{5,}", display))
    return names


def test_the_registry_has_both_reminders_in_english_as_utility_templates():
    templates = {t.name: t for t in registry()}
    assert set(templates) == {"appointment_reminder", "medication_reminder"}
    assert {(t.language, t.category) for t in templates.values()} == {("en", "UTILITY")}
    assert [b.text for b in templates["appointment_reminder"].buttons] == [
        "Confirm",
        "Cancel",
        "Reschedule",
        "Stop reminders",
    ]
    assert [b.text for b in templates["medication_reminder"].buttons] == [
        "Taken",
        "Snooze 30 min",
        "Skip",
        "Stop reminders",
    ]
    assert templates["appointment_reminder"].params == ("hospital_name", "date", "time")
    assert templates["medication_reminder"].params == ("time",)


def test_every_reminder_can_be_stopped_within_whatsapps_button_limits():
    for template in registry():
        assert template.buttons[-1].intent == STOP_INTENT
        assert len(template.buttons) <= BUTTONS_MAX
        assert all(b.type == "QUICK_REPLY" and len(b.text) <= BUTTON_TEXT_MAX for b in template.buttons)


def test_nothing_a_locked_phone_shows_names_a_drug_a_diagnosis_or_a_doctor():
    drugs = recorded_drug_names()
    assert {"paracetamol", "metformin"} <= drugs  # the recordings were read
    for template in registry():
        shown = " ".join([template.body, *(b.text for b in template.buttons)]).lower()
        assert not {w for w in re.findall(r"[a-z]+", shown) if w in drugs}
        assert not re.search(r"diagnos|doctor|\bdr\b|disease|condition|result", shown)
        filled = template.text(template.examples)
        assert "{{" not in filled and len(filled) <= 1024


def test_a_rendered_send_carries_the_notification_id_and_passes_the_validator():
    body = render("appointment_reminder", to="+919876543210", params=APPOINTMENT, notification_id=42)
    assert validate(body, ours=True) == []
    assert body["to"] == "919876543210" and body["type"] == "template"
    assert body["biz_opaque_callback_data"] == "42"
    assert body["template"]["name"] == "appointment_reminder" and body["template"]["language"] == {"code": "en"}
    first, *buttons = body["template"]["components"]
    assert [p["text"] for p in first["parameters"]] == ["Shimla District Hospital", "Tue 8 Dec", "9:15 am"]
    assert [(b["sub_type"], b["index"]) for b in buttons] == [("quick_reply", str(i)) for i in range(4)]
    payloads = [b["parameters"][0]["payload"] for b in buttons]
    assert payloads[0] == '/reminder_confirm{"notification_id":"42"}'
    assert payloads[-1] == '/reminder_stop{"notification_id":"42"}'


def test_a_tap_on_a_reminder_button_reaches_rasa_as_its_intent_with_the_notification():
    payload = button_payload("reminder_taken", 7)
    assert message_text({"type": "button", "button": {"payload": payload, "text": "Taken"}}) == payload
    intent, entities = payload[1:].split("{", 1)
    assert intent == "reminder_taken" and json.loads("{" + entities) == {"notification_id": "7"}


def test_parameters_are_kept_on_one_line_as_meta_requires():
    body = render("medication_reminder", to="919876543210", params={"time": "8:00\n  pm"}, notification_id=1)
    assert body["template"]["components"][0]["parameters"][0]["text"] == "8:00 pm"


def test_render_refuses_missing_or_unknown_params_and_unknown_templates():
    with pytest.raises(ValueError, match="missing"):
        render("appointment_reminder", to="91", params={"date": "x", "time": "y"}, notification_id=1)
    with pytest.raises(ValueError, match="extra"):
        render("medication_reminder", to="91", params={"time": "8 pm", "drug": "Metformin"}, notification_id=1)
    with pytest.raises(KeyError):
        render("medication_reminder", to="91", params={"time": "8 pm"}, notification_id=1, language="hi")


def _good() -> dict:
    return render("medication_reminder", to="919876543210", params={"time": "8:00 pm"}, notification_id=42)


def _codes(body: dict, **kwargs) -> list[int]:
    return [p.code for p in validate(body, **kwargs)]


def test_the_validator_answers_with_the_code_graph_would():
    wrong_count = _good()
    wrong_count["template"]["components"][0]["parameters"].append({"type": "text", "text": "extra"})
    assert _codes(wrong_count) == [CODE_PARAM_COUNT]

    no_body = _good()
    del no_body["template"]["components"][0]
    assert _codes(no_body) == [CODE_PARAM_COUNT]

    unknown = _good()
    unknown["template"]["name"] = "medicine_reminder"
    assert _codes(unknown) == [CODE_NO_TEMPLATE]

    other_language = _good()
    other_language["template"]["language"] = {"code": "hi"}
    assert _codes(other_language) == [CODE_NO_TEMPLATE]

    new_line = _good()
    new_line["template"]["components"][0]["parameters"][0]["text"] = "8:00\npm"
    assert _codes(new_line) == [CODE_PARAM_TEXT]

    fifth_button = _good()
    fifth_button["template"]["components"].append(copy.deepcopy(fifth_button["template"]["components"][1]))
    fifth_button["template"]["components"][-1]["index"] = "4"
    assert _codes(fifth_button) == [CODE_INVALID_VALUE]

    twice = _good()
    twice["template"]["components"][2]["index"] = "0"
    assert _codes(twice) == [CODE_INVALID_VALUE]

    assert _codes({"type": "text", "text": {"body": "hi"}}) == [CODE_INVALID]


def test_our_own_sends_must_carry_the_notification_id_in_the_callback_data_and_every_button():
    missing = _good()
    del missing["biz_opaque_callback_data"]
    assert _codes(missing) == [] and _codes(missing, ours=True) == [CODE_INVALID]

    crossed = _good()
    buttons = crossed["template"]["components"]
    buttons[1]["parameters"][0]["payload"], buttons[3]["parameters"][0]["payload"] = (
        buttons[3]["parameters"][0]["payload"],
        buttons[1]["parameters"][0]["payload"],
    )
    assert _codes(crossed) == [] and _codes(crossed, ours=True) == [CODE_INVALID_VALUE, CODE_INVALID_VALUE]

    other_id = _good()
    other_id["biz_opaque_callback_data"] = "43"
    assert _codes(other_id, ours=True) == [CODE_INVALID_VALUE] * 4


def _write(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(REGISTRY_PATH.read_text())
    change(data["templates"][1])  # the medication reminder
    path = tmp_path / "templates.yml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    "change, complaint",
    [
        (lambda t: t.update(params=["drug_name"]), "not safe on a locked phone"),
        (lambda t: t.update(buttons=t["buttons"][:-1]), "a way to stop"),
        (
            lambda t: t.update(buttons=[{**t["buttons"][0], "text": f"B{i}"} for i in range(10)] + t["buttons"][-1:]),
            "at most 10",
        ),
        (lambda t: t["buttons"][0].update(text="I have taken all my medicines"), "1 to 25 characters"),
        (lambda t: t.update(body="{{1}} is the time for your medicine."), "start or end with a parameter"),
        (lambda t: t.update(body="Reminder at {{1}} {{2}} today.", params=["time", "date"]), "next to each other"),
        (lambda t: t.update(body="Reminder: your dose at {{2}} is due."), "{{1}}"),
        (lambda t: t.update(category="marketing"), "category"),
        (lambda t: t.update(name="Medication Reminder"), "lowercase"),
        (lambda t: t["buttons"][0].update(type="URL"), "type must be"),
    ],
)
def test_a_registry_that_breaks_a_rule_does_not_load(tmp_path, change, complaint):
    with pytest.raises(TemplateRegistryError, match=re.escape(complaint)):
        load_registry(_write(tmp_path, change))


def test_the_registry_file_loads_as_it_is():
    assert len(load_registry(REGISTRY_PATH)) == 2


def test_the_creation_request_for_the_business_account_matches_the_registry():
    template = registry().get("appointment_reminder", "en")
    created = creation_payload(template)
    assert (created["name"], created["language"], created["category"]) == ("appointment_reminder", "en", "UTILITY")
    body, buttons = created["components"]
    assert body == {
        "type": "BODY",
        "text": template.body,
        "example": {"body_text": [["Shimla District Hospital", "Tue 8 Dec", "9:15 am"]]},
    }
    assert buttons["type"] == "BUTTONS"
    assert [b["text"] for b in buttons["buttons"]] == ["Confirm", "Cancel", "Reschedule", "Stop reminders"]

"""The WhatsApp template registry (`notifications/templates.yml`): loaded and checked against the Cloud API's
limits, template sends rendered for the Graph API, and sends validated against the registry (the WhatsApp
simulator answers a bad send with the Graph code Meta would use).

A send carries the notification id twice: in `biz_opaque_callback_data` (status webhooks bring it back, so a
send whose answer was lost is still settled) and in each quick-reply button's payload, a Rasa payload such as
`/reminder_taken{"notification_id":"42"}` that the connector passes to Rasa as it is.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REGISTRY_PATH = Path(__file__).resolve().parent / "templates.yml"

# Cloud API limits (Meta's template and send rules)
NAME_PATTERN = re.compile(r"^[a-z0-9_]{1,512}$")
CATEGORIES = ("UTILITY", "MARKETING", "AUTHENTICATION")
BODY_MAX = 1024
BUTTONS_MAX = 10  # all types together; QUICK_REPLY alone is also limited to 10
BUTTON_TEXT_MAX = 25
CALLBACK_DATA_MAX = 512
BUTTON_TYPES = ("QUICK_REPLY",)  # the only kind the reminders use (a tap must come back to the assistant)
# What a reminder may show on a locked phone: never a name, a drug, a diagnosis or a doctor
SAFE_PARAMS = frozenset({"hospital_name", "date", "time"})
STOP_INTENT = "reminder_stop"

_VARIABLE = re.compile(r"\{\{(\d+)\}\}")
# Meta refuses parameters with a new line, a tab or more than 4 spaces in a row
_BAD_PARAM_TEXT = re.compile(r"[\n\t]| {5,}")

# Graph error codes a send against the registry can earn
CODE_INVALID = 100
CODE_PARAM_COUNT = 132000
CODE_NO_TEMPLATE = 132001
CODE_TOO_LONG = 132005
CODE_PARAM_FORMAT = 132012
CODE_PARAM_TEXT = 132018
CODE_INVALID_VALUE = 131009


class TemplateRegistryError(ValueError):
    """templates.yml breaks a rule: Meta would refuse the template, or it could show what a locked phone must
    not."""


@dataclass(frozen=True)
class Button:
    text: str
    intent: str
    type: str = "QUICK_REPLY"


@dataclass(frozen=True)
class Template:
    name: str
    language: str
    category: str
    purpose: str
    body: str
    params: tuple[str, ...]
    examples: tuple[str, ...]
    buttons: tuple[Button, ...]

    def text(self, values: Sequence[str]) -> str:
        """The body as the phone shows it, {{n}} replaced by the n-th value."""
        return _VARIABLE.sub(lambda m: values[int(m.group(1)) - 1], self.body)


@dataclass(frozen=True)
class Problem:
    """Why Graph would refuse a send: its error code and the detail it gives."""

    code: int
    details: str


class Registry:
    def __init__(self, templates: Sequence[Template]) -> None:
        self._by_key = {(t.name, t.language): t for t in templates}
        if len(self._by_key) != len(templates):
            raise TemplateRegistryError("a template name and language appear twice")

    def get(self, name: str, language: str) -> Template | None:
        return self._by_key.get((name, language))

    def __iter__(self) -> Iterator[Template]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)


def check_template(t: Template) -> list[str]:
    """What Meta would refuse in a template, or what the assistant must not show; [] when it is fine."""
    problems = []
    if not NAME_PATTERN.match(t.name):
        problems.append("the name must be lowercase letters, digits and underscores (at most 512)")
    if t.category not in CATEGORIES:
        problems.append(f"category must be one of {CATEGORIES}")
    if not t.language:
        problems.append("a language code is needed (en, hi, ml, ...)")
    if len(t.body) > BODY_MAX:
        problems.append(f"the body is longer than {BODY_MAX} characters")
    numbers = [int(n) for n in _VARIABLE.findall(t.body)]
    if sorted(set(numbers)) != list(range(1, len(t.params) + 1)):
        problems.append(f"the body must use {{{{1}}}}..{{{{{len(t.params)}}}}} for its {len(t.params)} params")
    stripped = t.body.strip()
    if _VARIABLE.match(stripped) or re.search(r"\{\{\d+\}\}$", stripped):
        problems.append("the body may not start or end with a parameter")
    if re.search(r"\}\}\s*\{\{", t.body):
        problems.append("two parameters may not be next to each other")
    unsafe = sorted(set(t.params) - SAFE_PARAMS)
    if unsafe:
        problems.append(f"params {unsafe} are not safe on a locked phone (allowed: {sorted(SAFE_PARAMS)})")
    if len(t.examples) != len(t.params):
        problems.append("one example per param (Meta reviews the template with them)")
    if len(t.buttons) > BUTTONS_MAX:
        problems.append(f"at most {BUTTONS_MAX} buttons")
    for b in t.buttons:
        if b.type not in BUTTON_TYPES:
            problems.append(f"button {b.text!r}: type must be one of {BUTTON_TYPES}")
        if not b.text or len(b.text) > BUTTON_TEXT_MAX:
            problems.append(f"button {b.text!r}: text of 1 to {BUTTON_TEXT_MAX} characters")
        if not re.fullmatch(r"[a-z_]+", b.intent):
            problems.append(f"button {b.text!r}: intent must be an intent name")
    if len({b.text for b in t.buttons}) != len(t.buttons):
        problems.append("two buttons with the same text")
    if t.purpose and STOP_INTENT not in {b.intent for b in t.buttons}:
        problems.append(f"a reminder must carry a way to stop: a button with intent {STOP_INTENT}")
    return problems


def _template(raw: Mapping[str, Any]) -> Template:
    buttons = tuple(
        Button(text=str(b.get("text") or ""), intent=str(b.get("intent") or ""), type=str(b.get("type") or ""))
        for b in raw.get("buttons") or ()
    )
    return Template(
        name=str(raw.get("name") or ""),
        language=str(raw.get("language") or ""),
        category=str(raw.get("category") or ""),
        purpose=str(raw.get("purpose") or ""),
        body=" ".join(str(raw.get("body") or "").split()),
        params=tuple(str(p) for p in raw.get("params") or ()),
        examples=tuple(str(e) for e in raw.get("examples") or ()),
        buttons=buttons,
    )


def load_registry(path: Path = REGISTRY_PATH) -> Registry:
    """Reads and checks a registry file; a template that breaks a rule is a TemplateRegistryError naming it."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    templates = [_template(raw) for raw in data.get("templates") or ()]
    errors = [f"{t.name or '?'} ({t.language or '?'}): {p}" for t in templates for p in check_template(t)]
    if errors:
        raise TemplateRegistryError(f"{path.name}: " + "; ".join(errors))
    return Registry(templates)


@functools.lru_cache(maxsize=1)
def registry() -> Registry:
    return load_registry()


def button_payload(intent: str, notification_id: int | str) -> str:
    """`/reminder_taken{"notification_id":"42"}`: a Rasa payload, so a tap reaches Rasa as the intent with the
    notification as an entity (connectors/whatsapp/parse.py passes such payloads through)."""
    return f"/{intent}" + json.dumps({"notification_id": str(notification_id)}, separators=(",", ":"))


def _clean(value: str) -> str:
    return " ".join(str(value).split())  # no new line, tab or run of spaces: Meta refuses them


def render(
    name: str,
    *,
    to: str,
    params: Mapping[str, str],
    notification_id: int | str,
    language: str = "en",
    templates: Registry | None = None,
) -> dict[str, Any]:
    """The Graph API `/messages` body that sends template `name` to `to` (E.164 or wa_id) with `params` by name
    (e.g. {"time": "8:00 pm"}); every button's payload and biz_opaque_callback_data carry the notification id."""
    template = (templates or registry()).get(name, language)
    if template is None:
        raise KeyError(f"no template {name!r} in language {language!r}")
    missing, extra = set(template.params) - set(params), set(params) - set(template.params)
    if missing or extra:
        raise ValueError(
            f"{name}: params {list(template.params)} expected; missing {sorted(missing)}, extra {sorted(extra)}"
        )
    components: list[dict[str, Any]] = []
    if template.params:
        components.append(
            {"type": "body", "parameters": [{"type": "text", "text": _clean(params[p])} for p in template.params]}
        )
    components.extend(
        {
            "type": "button",
            "sub_type": button.type.lower(),
            "index": str(index),
            "parameters": [{"type": "payload", "payload": button_payload(button.intent, notification_id)}],
        }
        for index, button in enumerate(template.buttons)
    )
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to.lstrip("+"),
        "type": "template",
        "biz_opaque_callback_data": str(notification_id),
        "template": {"name": template.name, "language": {"code": template.language}, "components": components},
    }


def validate(body: Any, templates: Registry | None = None, *, ours: bool = False) -> list[Problem]:
    """Why Graph would refuse this template send, by the registry: [] when it would take it. `ours=True` also
    checks what the assistant's own sends promise: biz_opaque_callback_data set, and each button's payload
    the registry's intent with that notification id."""
    if not isinstance(body, Mapping) or body.get("type") != "template" or not isinstance(body.get("template"), Mapping):
        return [Problem(CODE_INVALID, "not a template send: type must be template, with a template object")]
    content = body["template"]
    language = content.get("language")
    code = language.get("code") if isinstance(language, Mapping) else None
    name = content.get("name")
    template = (templates or registry()).get(name, code) if isinstance(name, str) and isinstance(code, str) else None
    if template is None:
        return [Problem(CODE_NO_TEMPLATE, f"template name ({name}) does not exist in {code}")]
    problems: list[Problem] = []
    callback = body.get("biz_opaque_callback_data")
    if callback is not None and (not isinstance(callback, str) or len(callback) > CALLBACK_DATA_MAX):
        problems.append(Problem(CODE_INVALID_VALUE, f"biz_opaque_callback_data: text of at most {CALLBACK_DATA_MAX}"))
    if ours and not callback:
        problems.append(Problem(CODE_INVALID, "our sends carry the notification id in biz_opaque_callback_data"))
    components = content.get("components") or []
    if not isinstance(components, list) or not all(isinstance(c, Mapping) for c in components):
        return [*problems, Problem(CODE_INVALID, "template['components'] must be a list of objects")]
    bodies = [c for c in components if str(c.get("type", "")).lower() == "body"]
    buttons = [c for c in components if str(c.get("type", "")).lower() == "button"]
    others = [c for c in components if c not in bodies and c not in buttons]
    if others or len(bodies) > 1:
        problems.append(Problem(CODE_PARAM_COUNT, f"{template.name} has one body and buttons only"))
    problems += _body_problems(template, bodies[0].get("parameters") if bodies else [])
    problems += _button_problems(template, buttons, callback if ours else None)
    return problems


def _body_problems(template: Template, parameters: Any) -> list[Problem]:
    if not isinstance(parameters, list) or len(parameters) != len(template.params):
        got = len(parameters) if isinstance(parameters, list) else 0
        return [
            Problem(
                CODE_PARAM_COUNT,
                f"body: number of localizable_params ({got}) does not match the expected number of params "
                f"({len(template.params)})",
            )
        ]
    problems = []
    values = []
    for index, parameter in enumerate(parameters, start=1):
        if not isinstance(parameter, Mapping) or parameter.get("type") != "text":
            problems.append(Problem(CODE_PARAM_FORMAT, f"body parameter {index} must be of type text"))
            continue
        text = parameter.get("text")
        if not isinstance(text, str) or not text.strip():
            problems.append(Problem(CODE_PARAM_TEXT, f"body parameter {index} is empty"))
        elif _BAD_PARAM_TEXT.search(text):
            problems.append(Problem(CODE_PARAM_TEXT, f"body parameter {index} has a new line, a tab or 5 spaces"))
        values.append(text if isinstance(text, str) else "")
    if not problems and len(template.text(values)) > BODY_MAX:
        problems.append(Problem(CODE_TOO_LONG, f"the body with its parameters is longer than {BODY_MAX}"))
    return problems


def _button_problems(template: Template, buttons: list[Mapping[str, Any]], notification_id: Any) -> list[Problem]:
    problems = []
    seen: set[int] = set()
    for component in buttons:
        raw_index = component.get("index")
        index = int(raw_index) if isinstance(raw_index, (int, str)) and str(raw_index).isdigit() else -1
        if not 0 <= index < len(template.buttons) or index in seen:
            problems.append(Problem(CODE_INVALID_VALUE, f"button index {raw_index!r}: no such button, or given twice"))
            continue
        seen.add(index)
        button = template.buttons[index]
        if str(component.get("sub_type", "")).upper() != button.type:
            problems.append(Problem(CODE_INVALID_VALUE, f"button {index}: sub_type must be {button.type.lower()}"))
            continue
        parameters = component.get("parameters")
        parameter = parameters[0] if isinstance(parameters, list) and len(parameters) == 1 else None
        payload = parameter.get("payload") if isinstance(parameter, Mapping) else None
        if not isinstance(payload, str) or not payload or _mapping(parameter).get("type") != "payload":
            problems.append(Problem(CODE_INVALID_VALUE, f"button {index}: one parameter of type payload"))
        elif notification_id is not None and payload != button_payload(button.intent, notification_id):
            problems.append(
                Problem(CODE_INVALID_VALUE, f"button {index} ({button.text}): payload is not {button.intent} for it")
            )
    return problems


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def creation_payload(template: Template) -> dict[str, Any]:
    """The body that creates `template` in the WhatsApp Business Account (POST /{WABA_ID}/message_templates)."""
    body: dict[str, Any] = {"type": "BODY", "text": template.body}
    if template.examples:
        body["example"] = {"body_text": [list(template.examples)]}
    components: list[dict[str, Any]] = [body]
    if template.buttons:
        components.append({"type": "BUTTONS", "buttons": [{"type": b.type, "text": b.text} for b in template.buttons]})
    return {
        "name": template.name,
        "language": template.language,
        "category": template.category,
        "components": components,
    }


if __name__ == "__main__":  # python -m notifications.templates create|sync
    import sys

    from notifications.template_admin import main

    sys.exit(main())

"""Check an outbound `/messages` body against the Cloud API limits that break real sends.

Only the limits a bot is likely to hit are checked, with Graph's codes: 100 for missing/malformed
parameters and over-long text, 131009 for values outside the interactive-message limits. A template send
is checked against the assistant's template registry (notifications/templates.yml), as Meta checks it
against the approved templates: 132001 for an unknown name or language, 132000 for the wrong number of
parameters, 132012 / 132018 for parameters of the wrong form, 131009 for buttons it has not got. A body that
passes here may still be refused by Meta for other reasons; one that fails here would fail there too.
"""

from __future__ import annotations

from typing import Any

from notifications import templates

from .graph_errors import GraphError, invalid_parameter, invalid_value

TEXT_MAX = 4096
INTERACTIVE_BODY_MAX = 1024
HEADER_FOOTER_MAX = 60
MAX_BUTTONS = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
LIST_BUTTON_MAX = 20
LIST_ROWS_MAX = 10
LIST_SECTIONS_MAX = 10
SECTION_TITLE_MAX = 24
ROW_TITLE_MAX = 24
ROW_ID_MAX = 200
ROW_DESCRIPTION_MAX = 72

SEND_TYPES = (
    "text",
    "interactive",
    "template",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "reaction",
)
MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")


def is_read_receipt(body: Any) -> bool:
    return isinstance(body, dict) and body.get("status") == "read"


def recipient(body: Any) -> str | None:
    """Digits of the `to` field (Graph accepts `+91…` and `91…` alike)."""
    to = body.get("to") if isinstance(body, dict) else None
    if not isinstance(to, str) or not to.strip():
        return None
    return "".join(ch for ch in to if ch.isdigit()) or to


def validate(body: Any) -> GraphError | None:
    """None when Graph would accept `body`, else the error it would answer with."""
    if not isinstance(body, dict):
        return invalid_parameter("The request body must be a JSON object.")
    if body.get("messaging_product") != "whatsapp":
        return invalid_parameter("The parameter messaging_product is required.")
    if is_read_receipt(body):
        if not isinstance(body.get("message_id"), str) or not body["message_id"]:
            return invalid_parameter("The parameter message_id is required.")
        return None
    if recipient(body) is None and not body.get("recipient"):
        return invalid_parameter("The parameter to is required.")
    kind = body.get("type", "text")  # Graph defaults a missing type to text
    if kind not in SEND_TYPES:
        return invalid_parameter(f'Param type must be one of {{{", ".join(SEND_TYPES).upper()}}} - got "{kind}".')
    content = body.get(kind)
    if not isinstance(content, dict):
        return invalid_parameter(f"The parameter {kind} is required.")
    if kind == "text":
        return _text(content)
    if kind == "interactive":
        return _interactive(content)
    if kind == "template":
        return _template(body, content)
    if kind in MEDIA_TYPES and not (content.get("id") or content.get("link")):
        return invalid_parameter(f"Param {kind} must have either id or link.")
    return None


def _text(content: dict[str, Any]) -> GraphError | None:
    text = content.get("body")
    if not isinstance(text, str) or not text:
        return invalid_parameter("The parameter text['body'] is required.")
    if len(text) > TEXT_MAX:
        return invalid_parameter(f"Param text['body'] must be at most {TEXT_MAX} characters long.")
    return None


# Graph's titles for the template errors a send can earn (the details come from notifications/templates.py)
TEMPLATE_ERRORS = {
    templates.CODE_PARAM_COUNT: ("(#132000) Number of parameters does not match the expected number of params", 400),
    templates.CODE_NO_TEMPLATE: ("(#132001) Template name does not exist in the translation", 404),
    templates.CODE_TOO_LONG: ("(#132005) Translated text too long", 400),
    templates.CODE_PARAM_FORMAT: ("(#132012) Parameter format does not match format in the created template", 400),
    templates.CODE_PARAM_TEXT: ("(#132018) There was an issue with the parameters in your template.", 400),
}


def _template(body: dict[str, Any], content: dict[str, Any]) -> GraphError | None:
    if not content.get("name"):
        return invalid_parameter("The parameter template['name'] is required.")
    language = content.get("language")
    if not isinstance(language, dict) or not language.get("code"):
        return invalid_parameter("The parameter template['language']['code'] is required.")
    problems = templates.validate(body)
    if not problems:
        return None
    first = problems[0]
    if first.code == templates.CODE_INVALID_VALUE:
        return invalid_value(first.details)
    if first.code in TEMPLATE_ERRORS:
        message, status = TEMPLATE_ERRORS[first.code]
        return GraphError(first.code, message, status, details=first.details)
    return invalid_parameter(first.details)


def _length_error(value: Any, limit: int, what: str, *, code100: bool = False) -> GraphError | None:
    if not isinstance(value, str) or not value:
        return invalid_parameter(f"The parameter {what} is required.")
    if len(value) > limit:
        detail = f"{what} is too long. Max length is {limit}."
        return invalid_parameter(detail) if code100 else invalid_value(detail)
    return None


def _interactive(content: dict[str, Any]) -> GraphError | None:
    itype = content.get("type")
    if itype not in ("button", "list", "cta_url", "product", "product_list", "flow", "location_request_message"):
        return invalid_parameter(f"Param interactive['type'] is invalid: {itype!r}.")
    body = content.get("body")
    err = _length_error(
        body.get("text") if isinstance(body, dict) else None,
        INTERACTIVE_BODY_MAX,
        "interactive['body']['text']",
        code100=True,
    )
    if err:
        return err
    header, footer = content.get("header"), content.get("footer")
    if (
        isinstance(header, dict)
        and header.get("type") == "text"
        and (err := _length_error(header.get("text"), HEADER_FOOTER_MAX, "Header text"))
    ):
        return err
    if (
        isinstance(footer, dict)
        and "text" in footer
        and (err := _length_error(footer.get("text"), HEADER_FOOTER_MAX, "Footer text"))
    ):
        return err
    action = content.get("action")
    if not isinstance(action, dict):
        return invalid_parameter("The parameter interactive['action'] is required.")
    if itype == "button":
        return _buttons(action)
    if itype == "list":
        return _list(action)
    return None


def _buttons(action: dict[str, Any]) -> GraphError | None:
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        count = len(buttons) if isinstance(buttons, list) else 0
        return invalid_value(
            f"Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: {MAX_BUTTONS}. Got: {count}",
            subcode=2494009,
        )
    ids: set[str] = set()
    titles: set[str] = set()
    for button in buttons:
        reply = button.get("reply") if isinstance(button, dict) else None
        if not isinstance(button, dict) or button.get("type") != "reply" or not isinstance(reply, dict):
            return invalid_parameter("Each button must be {type: 'reply', reply: {id, title}}.")
        if err := _length_error(reply.get("title"), BUTTON_TITLE_MAX, "Button title"):
            return err
        if err := _length_error(reply.get("id"), BUTTON_ID_MAX, "Button id"):
            return err
        if reply["id"] in ids or reply["title"] in titles:
            return invalid_value("Buttons must have unique ids and titles.")
        ids.add(reply["id"])
        titles.add(reply["title"])
    return None


def _list(action: dict[str, Any]) -> GraphError | None:
    if err := _length_error(action.get("button"), LIST_BUTTON_MAX, "Button label"):
        return err
    sections = action.get("sections")
    if not isinstance(sections, list) or not 1 <= len(sections) <= LIST_SECTIONS_MAX:
        return invalid_value(f"Invalid sections count. Min: 1, Max: {LIST_SECTIONS_MAX}.")
    rows = [r for s in sections if isinstance(s, dict) for r in (s.get("rows") or [])]
    if not 1 <= len(rows) <= LIST_ROWS_MAX:
        return invalid_value(f"Total row count exceed max allowed count: {LIST_ROWS_MAX}. Got: {len(rows)}")
    for section in sections:
        # a title is required once there are several sections
        if (len(sections) > 1 or "title" in section) and (
            err := _length_error(section.get("title"), SECTION_TITLE_MAX, "Section title")
        ):
            return err
    ids: set[str] = set()
    for row in rows:
        if not isinstance(row, dict):
            return invalid_parameter("Each row must be an object {id, title, description?}.")
        if err := _length_error(row.get("title"), ROW_TITLE_MAX, "Row title"):
            return err
        if err := _length_error(row.get("id"), ROW_ID_MAX, "Row id"):
            return err
        description = row.get("description")
        if description is not None and (not isinstance(description, str) or len(description) > ROW_DESCRIPTION_MAX):
            return invalid_value(f"Row description is too long. Max length is {ROW_DESCRIPTION_MAX}.")
        if row["id"] in ids:
            return invalid_value("Row ids must be unique.")
        ids.add(row["id"])
    return None

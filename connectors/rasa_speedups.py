"""Per-message costs of Rasa 3.6 that need not be paid on every message, removed without changing behaviour.

Found with py-spy on `bench/run.py` (one Rasa process, the conversation thread):
- `RemoteAction._validate_action_result` calls `jsonschema.validate()`, which first checks the (constant)
  response schema against the draft 2020-12 metaschema, then builds a validator: 40 % of the thread's CPU
  when new senders start sessions (`action_session_start` is a custom action). Here the schema is checked
  and the validator built once; every action result is still validated, with Rasa's own error message.
- `Event.resolve_by_type` walks every Event subclass (with `inspect.isabstract` on each) for each event
  read back from the tracker store. Here the type names are looked up in a table built once; an unknown
  name falls back to Rasa's walk (a subclass imported later is still found).

`install()` is called where `rasa run` creates the WhatsApp channel (`WhatsAppInput.from_credentials`),
so it runs in the Rasa server process only, before the first message. It is idempotent.
"""
from __future__ import annotations

import functools
from typing import Any, Optional, Type

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    _patch_action_result_validation()
    _patch_event_type_lookup()
    _installed = True


@functools.lru_cache(maxsize=None)
def _response_validator() -> Any:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # what jsonschema.validate() did on every call, now once
    return cls(schema)


def validate_action_result(result: dict) -> bool:
    """Same contract as Rasa's `_validate_action_result`: True, or `ValidationError` with Rasa's hint."""
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

    error = best_match(_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the Action "
        f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    assert isinstance(error, ValidationError)
    raise error


def _patch_action_result_validation() -> None:
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = lambda self, result: validate_action_result(result)  # type: ignore


def _patch_event_type_lookup() -> None:
    from rasa.shared.core.events import Event

    original = Event.resolve_by_type  # a staticmethod: the plain function
    table: dict[str, Type[Event]] = {}

    def resolve_by_type(type_name: str, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
        if not table:
            from rasa.shared.utils.common import all_subclasses

            for cls in all_subclasses(Event):
                table.setdefault(cls.type_name, cls)  # Rasa returns the first match: keep the first
        found = table.get(type_name)
        if found is not None:
            return found
        return original(type_name, default)

    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[assignment]

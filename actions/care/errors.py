"""Typed errors of the CARE client.

Every failure of a CARE call surfaces as one of these, so actions can answer the user without
knowing HTTP. Messages never carry tokens, OTPs, passwords or record content: only CARE's own
validation texts (which describe the request, not the patient) and the path template.
"""

from __future__ import annotations

from typing import Any


class CareError(Exception):
    """Base of every CARE client error. `status` is the HTTP status, None when no answer came."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class CareUnavailable(CareError):
    """CARE could not be reached in time: refused connection, timeout, 5xx, or a body that is not JSON."""


class CareUnauthenticated(CareError):
    """The credentials or token were refused: 401, or CARE's 403 with `code: token_not_valid`."""


class CareForbidden(CareError):
    """The user is known but may not do this (403 with a `detail`)."""


class CareNotFound(CareError):
    """404: no such record (or route)."""


class CareInvalid(CareError):
    """400: CARE refused the request; `messages` are CARE's own texts as plain strings."""

    def __init__(self, messages: list[str], *, status: int | None = 400, code: str | None = None) -> None:
        super().__init__("; ".join(messages) or "invalid request", status=status, code=code)
        self.messages = messages


def error_messages(body: Any) -> list[str]:
    """Flatten CARE's error bodies into plain strings.

    Shapes seen on a real CARE: pydantic `{"errors":[{"type","loc","msg",...}]}`, DRF
    `{"errors":[{"type":"validation_error","msg": str | {field: str}}]}`, `{"detail": str}` and plain
    DRF `{field: [str]}`. The offending `input` is never copied (it may be a phone number or an OTP).
    """
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        out: list[str] = []
        for err in body["errors"]:
            out.extend(_one_error(err))
        return out
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return [body["detail"]]
    if isinstance(body, dict):
        return [f"{k}: {_text(v)}" for k, v in body.items()]
    if isinstance(body, list):
        return [_text(v) for v in body]
    return []


def _one_error(err: Any) -> list[str]:
    if not isinstance(err, dict):
        return [_text(err)]
    msg = err.get("msg", err.get("detail", ""))
    if isinstance(msg, dict):
        return [f"{k}: {_text(v)}" for k, v in msg.items()]
    loc = err.get("loc")
    if isinstance(loc, list) and loc:
        return [f"{'.'.join(str(p) for p in loc)}: {_text(msg)}"]
    return [_text(msg)]


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return str(value)

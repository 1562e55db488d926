"""Graph API error bodies, in the exact shape the Cloud API answers with.

    {"error": {"message", "type", "code", "error_subcode"?, "error_data"?: {"messaging_product", "details"},
               "is_transient"?, "fbtrace_id"}}

The HTTP status follows the code (401 for 190, 429 for rate limits, 400 for request errors, 500/503 for
server errors) and can be overridden, because a connector must key on the code, not only on the status.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class GraphError:
    code: int
    message: str
    http_status: int = 400
    type: str = "OAuthException"
    subcode: int | None = None
    details: str | None = None
    is_transient: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            err["error_subcode"] = self.subcode
        if self.details is not None:
            err["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        if self.is_transient is not None:
            err["is_transient"] = self.is_transient
        err.update(self.extra)
        # Graph gives every response a trace id; support staff ask for it
        err["fbtrace_id"] = "A" + secrets.token_urlsafe(16)
        return {"error": err}

    def with_status(self, http_status: int | None) -> GraphError:
        if http_status is None:
            return self
        return GraphError(
            self.code, self.message, http_status, self.type, self.subcode, self.details, self.is_transient, self.extra
        )


def invalid_parameter(details: str) -> GraphError:
    """Code 100: a missing or malformed parameter (e.g. text body over 4096 characters)."""
    return GraphError(100, "(#100) Invalid parameter", details=details)


def invalid_value(details: str, subcode: int = 2494010) -> GraphError:
    """Code 131009: a parameter value out of WhatsApp's limits (buttons, list rows, titles)."""
    return GraphError(131009, "(#131009) Parameter value is not valid", subcode=subcode, details=details)


def bad_token(missing: bool) -> GraphError:
    message = (
        "An active access token must be used to query information about the current user."
        if missing
        else "Invalid OAuth access token - Cannot parse access token"
    )
    return GraphError(190, message, 401)


def unknown_object(phone_number_id: str) -> GraphError:
    return GraphError(
        100,
        f"Unsupported post request. Object with ID '{phone_number_id}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation.",
        subcode=33,
        type="GraphMethodException",
    )


_KNOWN: dict[int, GraphError] = {
    190: GraphError(190, "Error validating access token: Session has expired.", 401, subcode=463),
    4: GraphError(4, "(#4) Application request limit reached", 429, is_transient=True),
    80007: GraphError(80007, "(#80007) Rate limit issues", 429),
    130429: GraphError(
        130429, "(#130429) Rate limit hit", 429, details="Cloud API message throughput has been reached."
    ),
    131056: GraphError(
        131056,
        "(#131056) (Business Account, Consumer Account) pair rate limit hit",
        429,
        details="Message failed to send because there were too many messages sent from this "
        "phone number to the same phone number in a short period of time.",
    ),
    131047: GraphError(
        131047,
        "(#131047) Re-engagement message",
        400,
        details="Message failed to send because more than 24 hours have passed since the "
        "customer last replied to this number.",
    ),
    131026: GraphError(131026, "(#131026) Message undeliverable", 400, details="Message undeliverable."),
    131051: GraphError(
        131051, "(#131051) Unsupported message type", 400, details="Message type is not currently supported."
    ),
    132001: GraphError(
        132001,
        "(#132001) Template name does not exist in the translation",
        404,
        details="template name does not exist in the language",
    ),
    131000: GraphError(
        131000, "(#131000) Something went wrong", 500, details="Something went wrong.", is_transient=True
    ),
    131016: GraphError(131016, "(#131016) Service unavailable", 503, is_transient=True),
    1: GraphError(1, "An unknown error occurred", 500, is_transient=True, subcode=99),
    2: GraphError(2, "Service temporarily unavailable", 503, is_transient=True),
}


def error_for_code(code: int, http_status: int | None = None) -> GraphError:
    """The Graph error for a failure mode asked for by `POST /_sim/fail`.

    `code` is a Graph/WhatsApp error code (131056, 130429, 131047, 131026, 190, ...) or a plain HTTP
    server status (500, 502, 503, 504), which Graph answers with its generic codes 1 and 2.
    """
    if code in (500, 502):
        return _KNOWN[1].with_status(http_status or code)
    if code in (503, 504):
        return _KNOWN[2].with_status(http_status or code)
    known = _KNOWN.get(code)
    if known is not None:
        return known.with_status(http_status)
    return GraphError(
        code, f"(#{code}) Simulated error", http_status or 400, details="Simulated by the WhatsApp sandbox."
    )

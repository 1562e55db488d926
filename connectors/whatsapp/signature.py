"""Webhook signature check: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`."""

from __future__ import annotations

import enum
import hashlib
import hmac

PREFIX = "sha256="


class SignatureCheck(enum.Enum):
    VALID = "valid"
    MISSING = "missing"  # -> 401: the caller did not sign at all
    INVALID = "invalid"  # -> 403: signed, but not with our secret (or not parseable)


def sign(secret: str, body: bytes) -> str:
    """The header value Meta would send for `body` (used by tests and the simulator)."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_signature(secret: str, body: bytes, header: str | None) -> SignatureCheck:
    if not header:
        return SignatureCheck.MISSING
    # An empty secret would let anyone compute a valid signature: never accept one.
    if not secret or not header.startswith(PREFIX):
        return SignatureCheck.INVALID
    expected = sign(secret, body)
    given = PREFIX + header[len(PREFIX) :].strip().lower()  # hex digits in either case
    # compare bytes: compare_digest refuses non-ASCII str, and a forged header may contain anything
    if hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        return SignatureCheck.VALID
    return SignatureCheck.INVALID

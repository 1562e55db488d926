"""Who is calling, with CARE's quirks (README of the recordings):

- staff endpoints: no token -> 403 "Authentication credentials were not provided."; a bad, expired,
  refresh, MFA temp or patient token -> **403** `code: token_not_valid` (59, 62, 50, 112, 153); a
  logged-out access token -> 403 "Invalid Token" without `messages` (148);
- `/otp/*` endpoints: anything but a live patient token -> **401** "not provided" (53, 61).
"""

from __future__ import annotations

from aiohttp import web

from sandbox.care.records import User
from sandbox.care.tokens import ACCESS, PATIENT, TokenError
from sandbox.care.web import CareHTTPError, ctx

NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}


def token_not_valid(reason: str) -> CareHTTPError:
    return CareHTTPError(
        403,
        {
            "detail": "Invalid Token, please relogin to continue",
            "code": "token_not_valid",
            "messages": [{"token_class": "AccessToken", "token_type": "access", "message": reason}],
        },
    )


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def staff(request: web.Request) -> User:
    token = _bearer(request)
    if token is None:
        raise CareHTTPError(403, NOT_PROVIDED)
    c = ctx(request)
    try:
        claims = c.tokens.read(token, ACCESS)
    except TokenError as exc:
        raise token_not_valid(exc.reason) from exc
    if c.store.is_revoked(token):
        raise CareHTTPError(403, {"detail": "Invalid Token", "code": "token_not_valid"})
    user = c.store.users.get(str(claims.get("user_id")))
    if user is None:
        raise token_not_valid("Token contained no recognizable user identification")
    return user


def patient_phone(request: web.Request) -> str:
    token = _bearer(request)
    if token is None:
        raise CareHTTPError(401, NOT_PROVIDED)
    try:
        claims = ctx(request).tokens.read(token, PATIENT)
    except TokenError as exc:
        raise CareHTTPError(401, NOT_PROVIDED) from exc
    return str(claims.get("phone_number", ""))

"""MFA: TOTP setup and verify with a staff Bearer (107-109), and the second login step (114-122).

- setup answers `{uri, secret_key}`; the authenticator (or a test) computes codes from `secret_key`;
- verify with a current code turns MFA on and answers 10 single-use 8-digit backup codes; a wrong code is
  400 `{"error": "Invalid code"}`, not CARE's usual `errors` list (108);
- `/mfa/login/` takes `{method, code, temp_token}` without a Bearer. The temp_token is a refresh token
  with `temp_token: true`, valid 5 minutes and **not** single-use (120); a backup code works once (122).

Not recorded, so only plausible: setup for a user whose MFA is already on, or with a wrong password,
and verify before setup, answer 400 `{"error": ...}` like the other TOTP errors.
"""

from __future__ import annotations

import hmac
from urllib.parse import quote

from aiohttp import web

from sandbox.care.auth import staff
from sandbox.care.store import utcnow
from sandbox.care.tokens import REFRESH, TokenError, new_backup_codes, new_totp_secret, totp_ok
from sandbox.care.web import (
    CareHTTPError,
    Context,
    ctx,
    enum_error,
    invalid,
    json_body,
    missing_fields,
    ok,
    pydantic_invalid,
)

routes = web.RouteTableDef()
METHODS = ("totp", "backup")


def _totp_error(message: str) -> CareHTTPError:
    return CareHTTPError(400, {"error": message})


@routes.post("/api/v1/mfa/totp/setup/")
async def totp_setup(request: web.Request) -> web.Response:
    user = staff(request)
    body = await json_body(request)
    c = ctx(request)
    if user.mfa_enabled:
        raise _totp_error("TOTP is already enabled")
    if "password" in body and not hmac.compare_digest(str(body["password"]), c.store.password):
        raise _totp_error("Invalid password")
    user.totp_pending = new_totp_secret()
    uri = f"otpauth://totp/CARE:{quote(user.email, safe='')}?secret={user.totp_pending}&issuer=CARE"
    return ok({"uri": uri, "secret_key": user.totp_pending})


@routes.post("/api/v1/mfa/totp/verify/")
async def totp_verify(request: web.Request) -> web.Response:
    user = staff(request)
    body = await json_body(request)
    errors = missing_fields(body, ("code",))
    if errors:
        raise pydantic_invalid(errors)
    if not user.totp_pending:
        raise _totp_error("TOTP setup not initiated")
    if not totp_ok(user.totp_pending, str(body["code"]).strip()):
        raise _totp_error("Invalid code")  # 108
    user.totp_secret, user.totp_pending = user.totp_pending, None
    user.backup_codes = new_backup_codes()
    return ok({"backup_codes": list(user.backup_codes)})  # tokens issued before stay valid (110)


def _temp_token_user_id(c: Context, token: str) -> str:
    """CARE's validate_temp_token: not a live refresh token -> "Temp token is invalid or expired" (115);
    a refresh token without `temp_token` -> "Invalid token" (116)."""
    try:
        claims = c.tokens.read(token, REFRESH)
    except TokenError as exc:
        raise CareHTTPError(403, {"detail": "Temp token is invalid or expired", "code": "token_not_valid"}) from exc
    if not claims.get("temp_token"):
        raise CareHTTPError(403, {"detail": "Invalid token", "code": "token_not_valid"})
    return str(claims.get("user_id"))


@routes.post("/api/v1/mfa/login/")
async def mfa_login(request: web.Request) -> web.Response:
    body = await json_body(request)
    errors = missing_fields(body, ("method", "code", "temp_token"))
    if body.get("method") and body["method"] not in METHODS:
        errors.append(enum_error("method", body["method"], METHODS))  # 117
    if errors:
        raise pydantic_invalid(errors)
    c = ctx(request)
    user = c.store.users.get(_temp_token_user_id(c, str(body["temp_token"])))
    if user is None:
        raise CareHTTPError(403, {"detail": "Invalid token", "code": "token_not_valid"})
    code = str(body["code"]).strip()
    if body["method"] == "totp":
        if not (user.totp_secret and totp_ok(user.totp_secret, code)):
            raise invalid("Invalid TOTP code")  # 114
    elif code in user.backup_codes:
        user.backup_codes.remove(code)  # each backup code works once (121, 122)
    else:
        raise invalid("Invalid or already used backup code")
    user.last_login = utcnow()
    return ok(c.tokens.pair(user.id))

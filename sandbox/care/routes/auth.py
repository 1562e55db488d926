"""Staff login (with the MFA second step), rotating refresh, and the current user."""
from __future__ import annotations

import hmac

from aiohttp import web

from sandbox.care.auth import staff
from sandbox.care.store import utcnow
from sandbox.care.tokens import MFA, REFRESH, TokenError, totp_ok
from sandbox.care.web import CareHTTPError, ctx, enum_error, invalid, json_body, missing_fields, ok, pydantic_invalid

routes = web.RouteTableDef()

NO_ACCOUNT = {"detail": "No active account found with the given credentials", "code": "no_active_account"}


@routes.post("/api/v1/auth/login/")
async def login(request: web.Request) -> web.Response:
    body = await json_body(request)
    missing = {k: ["This field is required."] for k in ("username", "password") if not body.get(k)}
    if missing:
        raise CareHTTPError(400, missing)
    c = ctx(request)
    user = c.store.user_by_name(str(body["username"]))
    if user is None or not hmac.compare_digest(str(body["password"]), c.store.password):
        raise CareHTTPError(401, NO_ACCOUNT)
    if user.mfa_enabled:
        return ok({"temp_token": c.tokens.issue(MFA, user_id=user.id)})
    user.last_login = utcnow()
    return ok(c.tokens.pair(user.id))


@routes.post("/api/v1/mfa/login/")
async def mfa_login(request: web.Request) -> web.Response:
    body = await json_body(request)
    errors = missing_fields(body, ("method", "code", "temp_token"))
    if not errors and body["method"] not in ("totp", "backup"):
        errors = [enum_error("method", body["method"], ("totp", "backup"))]
    if errors:
        raise pydantic_invalid(errors)
    c = ctx(request)
    try:
        claims = c.tokens.read(str(body["temp_token"]), MFA)
    except TokenError as exc:
        raise CareHTTPError(403, {"detail": "Invalid or expired temporary token"}) from exc
    user = c.store.users.get(str(claims.get("user_id")))
    if user is None or claims["jti"] in c.store.revoked_jti:
        raise CareHTTPError(403, {"detail": "Invalid or expired temporary token"})
    code = str(body["code"]).strip()
    if body["method"] == "totp":
        if not (user.totp_secret and totp_ok(user.totp_secret, code)):
            raise invalid("Invalid TOTP code")
    elif code in user.backup_codes:
        user.backup_codes.remove(code)  # each backup code works once
    else:
        raise invalid("Invalid backup code")
    c.store.revoked_jti.add(claims["jti"])
    user.last_login = utcnow()
    return ok(c.tokens.pair(user.id))


@routes.post("/api/v1/auth/token/refresh/")
async def refresh(request: web.Request) -> web.Response:
    body = await json_body(request)
    if not body.get("refresh"):
        raise CareHTTPError(400, {"refresh": ["This field is required."]})
    c = ctx(request)
    try:
        claims = c.tokens.read(str(body["refresh"]), REFRESH)
    except TokenError as exc:
        raise CareHTTPError(401, {"detail": "Token is invalid or expired", "code": "token_not_valid"}) from exc
    if claims["jti"] in c.store.revoked_jti or claims.get("user_id") not in c.store.users:
        raise CareHTTPError(401, {"detail": "Token is blacklisted", "code": "token_not_valid"})
    c.store.revoked_jti.add(claims["jti"])  # rotation: the old refresh token is spent
    return ok(c.tokens.pair(str(claims["user_id"])))


@routes.get("/api/v1/users/getcurrentuser/")
async def current_user(request: web.Request) -> web.Response:
    return ok(ctx(request).shapes.current_user(staff(request)))

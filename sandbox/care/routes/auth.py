"""Staff login (01, 63; 111 for a user with MFA), refresh (64, 113, 145-150, 154), logout (142-152)
and the current user (02, 110, 119, 151). The MFA endpoints are in `mfa.py`.

As in CARE: refresh rotates without revoking the refresh token it was given (146); logout revokes
exactly the access and refresh token named in its body, for 30 minutes (147-152).
"""

from __future__ import annotations

import hmac

from aiohttp import web

from sandbox.care.auth import staff
from sandbox.care.store import utcnow
from sandbox.care.tokens import ACCESS, REFRESH, TokenError
from sandbox.care.web import CareHTTPError, ctx, json_body, ok

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
        return ok({"temp_token": c.tokens.temp(user.id)})  # nothing else (111)
    user.last_login = utcnow()
    return ok(c.tokens.pair(user.id))


@routes.post("/api/v1/auth/token/refresh/")
async def refresh(request: web.Request) -> web.Response:
    body = await json_body(request)
    if not body.get("refresh"):
        raise CareHTTPError(400, {"refresh": ["This field is required."]})
    c = ctx(request)
    token = str(body["refresh"])
    try:
        claims = c.tokens.read(token, REFRESH)
    except TokenError as exc:  # simplejwt's InvalidToken: 401 (154)
        raise CareHTTPError(401, {"detail": exc.reason, "code": "token_not_valid"}) from exc
    if claims.get("temp_token"):
        raise CareHTTPError(403, {"detail": "Temporary tokens cannot be used to refresh"})  # 113
    if c.store.is_revoked(token):
        raise CareHTTPError(403, {"detail": "Invalid Token"})  # logged out (149)
    user = c.store.users.get(str(claims.get("user_id")))
    if user is None:
        raise CareHTTPError(401, {"detail": "Token is invalid", "code": "token_not_valid"})
    user.last_login = utcnow()
    return ok(c.tokens.pair(user.id))  # the old refresh token keeps working (146, 150)


@routes.post("/api/v1/auth/logout/")
async def logout(request: web.Request) -> web.Response:
    user = staff(request)  # no Bearer: 403 (144)
    body = await json_body(request)
    if "access" not in body or "refresh" not in body:
        raise CareHTTPError(400, {"detail": "Missing access or refresh token"})  # 142
    c = ctx(request)
    try:
        for name, kind in (("refresh", REFRESH), ("access", ACCESS)):
            if str(c.tokens.read(str(body[name]), kind).get("user_id")) != user.id:
                raise TokenError("Token of another user")
    except TokenError:
        raise CareHTTPError(400, {}) from None  # another user's, expired or not a token (143)
    c.store.revoke(str(body["access"]), str(body["refresh"]))  # already revoked: 200 again (152)
    return ok({})


@routes.get("/api/v1/users/getcurrentuser/")
async def current_user(request: web.Request) -> web.Response:
    return ok(ctx(request).shapes.current_user(staff(request)))

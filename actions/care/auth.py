"""The three ways the assistant authenticates to CARE.

- `ServiceAccountAuth`: the assistant's own account (CARE_USERNAME/CARE_PASSWORD). Logs in lazily,
  refreshes (rotating) before the access token expires, and on a refusal logs in afresh once.
- `StaffTokenAuth`: a staff member's own tokens, so CARE enforces that person's roles. The password
  is never kept: the tokens are refreshed, and every new pair goes to `on_refresh` so the
  session store can keep it. When the refresh token is gone too, the staff member logs in again.
- `PatientTokenAuth`: the OTP `patient_login` token (1 h, no refresh).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from actions.care.errors import CareUnauthenticated
from actions.care.models import MfaChallenge, PatientToken, TokenPair, jwt_expiry

if TYPE_CHECKING:
    from actions.care.transport import CareHttp

EXPIRY_MARGIN = dt.timedelta(seconds=30)  # refresh a little early: a token can expire in flight

LOGIN = "/api/v1/auth/login/"
REFRESH = "/api/v1/auth/token/refresh/"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def expired(token: str, now: dt.datetime | None = None) -> bool:
    exp = jwt_expiry(token)
    return exp is not None and exp - EXPIRY_MARGIN <= (now or dt.datetime.now(dt.timezone.utc))


def password_login(http: CareHttp, username: str, password: str) -> TokenPair | MfaChallenge:
    body = http.call("POST", LOGIN, json={"username": username, "password": password}, idempotent=False)
    body = body if isinstance(body, dict) else {}
    if body.get("temp_token") and not body.get("access"):
        return MfaChallenge.from_api(body)
    return TokenPair.from_api(body)


def refresh_pair(http: CareHttp, refresh: str) -> TokenPair:
    # Rotating refresh: CARE answers a new refresh token too; keep the old one if it ever doesn't.
    body = http.call("POST", REFRESH, json={"refresh": refresh}, idempotent=False)
    body = body if isinstance(body, dict) else {}
    return TokenPair(access=str(body.get("access", "")), refresh=str(body.get("refresh") or refresh))


class ServiceAccountAuth:
    def __init__(self, username: str, password: str) -> None:
        self._username = username
        self._password = password
        self._tokens: TokenPair | None = None
        self._lock = threading.Lock()  # actions run in threads; log in once, not once per thread

    def header(self, http: CareHttp) -> dict[str, str]:
        with self._lock:
            if self._tokens is None:
                self._tokens = self._login(http)
            elif expired(self._tokens.access):
                self._tokens = self._refresh_or_login(http, self._tokens)
            return bearer(self._tokens.access)

    def recover(self, http: CareHttp, refused: dict[str, str]) -> bool:
        with self._lock:
            if self._tokens is not None and bearer(self._tokens.access) != refused:
                return True  # another thread already logged in again
            self._tokens = self._login(http)
            return True

    def _refresh_or_login(self, http: CareHttp, tokens: TokenPair) -> TokenPair:
        if not expired(tokens.refresh):
            try:
                return refresh_pair(http, tokens.refresh)
            except CareUnauthenticated:
                pass  # blacklisted or rotated away: a password login still works
        return self._login(http)

    def _login(self, http: CareHttp) -> TokenPair:
        if not self._username or not self._password:
            raise CareUnauthenticated("CARE_USERNAME / CARE_PASSWORD are not set")
        result = password_login(http, self._username, self._password)
        if isinstance(result, MfaChallenge):
            raise CareUnauthenticated("the CARE service account has MFA enabled; use an account without it")
        return result


class StaffTokenAuth:
    def __init__(self, tokens: TokenPair, on_refresh: Callable[[TokenPair], None] | None = None) -> None:
        self._tokens = tokens
        self._on_refresh = on_refresh
        self._lock = threading.Lock()

    @property
    def tokens(self) -> TokenPair:
        return self._tokens

    def header(self, http: CareHttp) -> dict[str, str]:
        with self._lock:
            if expired(self._tokens.access) and not expired(self._tokens.refresh):
                self._refresh(http)
            return bearer(self._tokens.access)

    def recover(self, http: CareHttp, refused: dict[str, str]) -> bool:
        with self._lock:
            if bearer(self._tokens.access) != refused:
                return True
            if expired(self._tokens.refresh):
                return False
            try:
                self._refresh(http)
            except CareUnauthenticated:
                return False
            return True

    def _refresh(self, http: CareHttp) -> None:
        self._tokens = refresh_pair(http, self._tokens.refresh)
        if self._on_refresh is not None:
            self._on_refresh(self._tokens)


class PatientTokenAuth:
    def __init__(self, token: PatientToken) -> None:
        self._token = token

    def header(self, http: CareHttp) -> dict[str, str]:
        return bearer(self._token.access)

    def recover(self, http: CareHttp, refused: dict[str, str]) -> bool:
        return False  # no refresh for patient tokens: the patient asks for a new OTP

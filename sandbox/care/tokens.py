"""Real-looking JWTs (HS256, claims as CARE's simplejwt sets them) and RFC 6238 TOTP for MFA users.

CARE's MFA `temp_token` is not a type of its own: it is a *refresh* token carrying `temp_token: true`
that lives 5 minutes (recording 111), so `read(temp, ACCESS)` fails with "Token has wrong type" (112).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import struct
import time
import uuid
from typing import Any

import jwt

ACCESS, REFRESH, PATIENT = "access", "refresh", "patient_login"
MFA = "mfa_temp"  # only the key of the temp_token's lifetime: on the wire it is a REFRESH token


class TokenError(Exception):
    """`reason` is simplejwt's message: "Token is invalid", "Token is expired" or "Token has wrong type"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Tokens:
    def __init__(
        self, secret: str, access: dt.timedelta, refresh: dt.timedelta, patient: dt.timedelta, mfa: dt.timedelta
    ) -> None:
        self._secret = secret
        self._life = {ACCESS: access, REFRESH: refresh, PATIENT: patient, MFA: mfa}

    def issue(self, token_type: str, lifetime: str | None = None, **claims: Any) -> str:
        now = dt.datetime.now(dt.timezone.utc)
        payload = {
            "token_type": token_type,
            "exp": now + self._life[lifetime or token_type],
            "iat": now,
            "jti": uuid.uuid4().hex,
            **claims,
        }
        return jwt.encode(payload, self._secret, algorithm="HS256")

    def temp(self, user_id: str) -> str:
        """The MFA `temp_token` of a password login (111): a 5-minute refresh token with `temp_token`."""
        return self.issue(REFRESH, lifetime=MFA, user_id=user_id, temp_token=True)

    def pair(self, user_id: str) -> dict[str, str]:
        return {"refresh": self.issue(REFRESH, user_id=user_id), "access": self.issue(ACCESS, user_id=user_id)}

    def read(self, token: str, expected_type: str) -> dict[str, Any]:
        try:
            claims = jwt.decode(token, self._secret, algorithms=["HS256"])
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("Token is expired") from exc
        except jwt.PyJWTError as exc:
            raise TokenError("Token is invalid") from exc
        if claims.get("token_type") != expected_type:
            raise TokenError("Token has wrong type")
        return claims


def totp(secret_b32: str, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 code for a base32 secret (what an authenticator app shows)."""
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return str(code).zfill(digits)


def totp_ok(secret_b32: str, code: str, window: int = 1) -> bool:
    now = time.time()
    return any(hmac.compare_digest(totp(secret_b32, now + k * 30), code) for k in range(-window, window + 1))


def new_totp_secret() -> str:
    """32 base32 characters (160 bits), like pyotp.random_base32()."""
    return base64.b32encode(secrets.token_bytes(20)).decode()


def new_backup_codes(count: int = 10) -> list[str]:
    """CARE's backup codes: 10 strings of 8 digits (109)."""
    return [f"{secrets.randbelow(10**8):08d}" for _ in range(count)]

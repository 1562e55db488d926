"""Sealing data at rest and pseudonyms for senders, from one secret (ASSISTANT_SECRET_KEY).

- `seal` / `unseal`: Fernet (AES-128-CBC + HMAC-SHA256, from the `cryptography` package that Rasa already
  pins), for the few things the hospital must be able to read back (a call-back number, a user's note).
- `pseudonym`: HMAC-SHA256 of a WhatsApp id, so records can be grouped by person without naming them.
Both keys are derived from the secret with HKDF (different `info`), so one setting serves both and leaking a
pseudonym tells nothing about the sealing key. With no secret set (the embedded default only), a random one is
made once and kept in `.run/secret.key` (mode 600); production refuses to start without it (settings check).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import hmac
import os
import secrets
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["InvalidToken", "Keys", "keys"]


def _derive(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"care-whatsapp-assistant", info=info).derive(secret)


class Keys:
    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("an empty secret cannot key anything")
        raw = secret.encode()
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(raw, b"seal")))
        self._pseudonym_key = _derive(raw, b"pseudonym")

    def seal(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    def unseal(self, token: str) -> str:
        return self._fernet.decrypt(token.encode()).decode()

    def pseudonym(self, sender: str) -> str:
        return hmac.new(self._pseudonym_key, sender.encode(), hashlib.sha256).hexdigest()[:32]


def _local_secret(path: Path) -> str:
    """The embedded default's secret: made once, kept beside the other run data. Written to a temporary file
    and linked into place, so a process never reads a half-written (empty) key while another makes it."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret-")
    try:
        with os.fdopen(fd, "w") as handle:  # mkstemp makes it 0600
            handle.write(secrets.token_urlsafe(32))
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)  # fails if another process was first: then its key is the key
    finally:
        os.unlink(temporary)
    return path.read_text().strip()


@functools.lru_cache(maxsize=1)
def keys() -> Keys:
    from settings import ROOT, get_settings

    secret = get_settings().assistant_secret_key
    return Keys(secret or _local_secret(ROOT / ".run" / "secret.key"))

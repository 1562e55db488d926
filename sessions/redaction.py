"""Secrets never reach Rasa: when the assistant has asked for a code or a password, the sender's next text
is kept in the session store and Rasa only sees the intent `/secret_provided{"secret_kind": "otp"}`.

Called by the WhatsApp connector before a message is handed to Rasa (so before the tracker store, the
lock store, analytics or any log line sees it). The action that asked takes the secret with
`SessionStore.take_secret(sender, kind)`.
"""

from __future__ import annotations

import json
import re

from common.phone import PRIVATE_PHONE_DIGITS, bare_number_digits
from common.safety import is_emergency
from sessions.store import EXPECTATION_TTL_SECONDS, LINGERING, SessionStore

# What still counts as a normal message while a secret is expected: the user changing their mind.
ESCAPE_WORDS = {"cancel", "stop", "menu", "back", "exit", "help", "logout", "log out", "quit"}
# A code inside other words ("my code is 45612", "45612."): four or more digits, maybe spaced or dashed.
# The form still refuses such a message as a code, but it must not reach Rasa's tracker in clear.
_CODE_INSIDE_RE = re.compile(r"\d(?:[\s\-]?\d){3,}")


# A note for the helpdesk may be skipped with the button (or these words); actions/safety.py reads them too.
SKIP_WORDS = frozenset({"skip", "no note", "nothing", "no", "no thanks", "none", "ok"})


def _shaped_like(kind: str, text: str) -> bool:
    """Text with exactly the shape of the secret asked for is that secret, whatever words it resembles: a
    code or number of digits only, maybe spaced or dashed, of any length so that a mistyped code is not passed
    on in clear either ("108234" is a code, not the ambulance); a password of one token with a digit or a
    symbol ("Care@112")."""
    if kind in ("otp", "totp", "phone"):
        return bare_number_digits(text) > 0
    if kind == "password":
        return not any(c.isspace() for c in text) and any(not c.isalpha() for c in text)
    return False


def looks_like_secret(kind: str, text: str) -> bool:
    stripped = text.strip()
    if not stripped or stripped.lower() in ESCAPE_WORDS:
        return False
    if _shaped_like(kind, stripped):
        return True
    if is_emergency(stripped):  # a cry for help is answered, never kept as a code, password or note
        return False
    if kind == "note":
        return stripped.lower() not in SKIP_WORDS
    if kind in ("otp", "totp"):
        return bool(_CODE_INSIDE_RE.search(stripped))
    if kind == "phone":
        return sum(c.isdigit() for c in stripped) >= PRIVATE_PHONE_DIGITS
    return True  # a password can be anything


# A patient login that stopped on a limit (too many code requests, too many wrong codes) expects no code any
# more, yet the user may still type the one that arrived: a bare number of a code's length right after is kept
# out of Rasa (and dropped: no question takes it), and the rules answer "I wasn't waiting for a code".
CODE_DIGITS = range(4, 9)


def _stopped_key(sender: str) -> str:
    return f"login_stopped:{sender}"


def login_stopped(store: SessionStore, sender: str) -> None:
    """The patient login stopped before a code was taken: a bare code typed after it stays out of Rasa."""
    store.kv.set(_stopped_key(sender), "otp", EXPECTATION_TTL_SECONDS)


def forget_login_stopped(store: SessionStore, sender: str) -> None:
    store.kv.delete(_stopped_key(sender))


def _code_after_stopped_login(store: SessionStore, sender: str, text: str) -> bool:
    if bare_number_digits(text) not in CODE_DIGITS or not store.kv.get(_stopped_key(sender)):
        return False
    forget_login_stopped(store, sender)  # kept once, like a lingering expectation
    return True


def redact_inbound(store: SessionStore, sender: str, text: str) -> str:
    """The text Rasa may see for this message: unchanged, or the secret_provided intent."""
    kind = store.expected_secret(sender)
    if text.startswith("/"):
        return text
    if not kind:
        if _code_after_stopped_login(store, sender, text):
            return _provided("otp")
        return text
    if kind.startswith(LINGERING):  # the question was left: only a secret of exactly its shape is kept
        kind = kind[len(LINGERING) :]
        if not _shaped_like(kind, text.strip()):
            return text
    elif not looks_like_secret(kind, text):
        return text
    store.put_secret(sender, kind, text.strip())
    store.clear_expectation(sender)
    return _provided(kind)


def _provided(kind: str) -> str:
    return "/secret_provided" + json.dumps({"secret_kind": kind}, separators=(",", ":"))

"""Reading a CARE username from a message (pure).

Only a CARE-looking username is ever sent to CARE's login: letters, digits and `. _ -`, no spaces, at least
one letter (e.g. `care-doctor`). A patient who ends up in the staff login by mistake types a code ("45612"),
a name ("Ramesh Kumar"), a phone number or "hi": none of them looks like a username, so none reaches CARE.
"""

from __future__ import annotations

import re

# CARE usernames: letters, digits and . _ - (no spaces); they start and end with a letter or digit
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,148}[A-Za-z0-9]$")
_LETTER = re.compile(r"[A-Za-z]")
# Words that are a greeting, an answer or part of a login request, never a username by themselves
NOT_USERNAMES = frozenset(
    [
        "hi",
        "hii",
        "hiii",
        "hello",
        "helo",
        "hey",
        "hai",
        "namaste",
        "namaskar",
        "hola",
        "good",
        "morning",
        "evening",
        "afternoon",
        "gm",
        "thanks",
        "thank",
        "thankyou",
        "thx",
        "ty",
        "ok",
        "okay",
        "k",
        "yes",
        "yeah",
        "yep",
        "ya",
        "yup",
        "no",
        "nope",
        "nah",
        "sure",
        "please",
        "pls",
        "plz",
        "sorry",
        "help",
        "menu",
        "cancel",
        "stop",
        "quit",
        "exit",
        "back",
        "abort",
        "start",
        "restart",
        "bye",
        "goodbye",
        "login",
        "log",
        "logon",
        "logout",
        "signin",
        "sign",
        "signout",
        "in",
        "out",
        "as",
        "me",
        "my",
        "username",
        "user",
        "name",
        "password",
        "pass",
        "pwd",
        "otp",
        "code",
        "staff",
        "doctor",
        "dr",
        "nurse",
        "patient",
        "volunteer",
        "employee",
        "hospital",
        "care",
        "account",
        "id",
    ]
)
_LOGIN_WORDS = re.compile(r"log-?in|sign-?in|log-?on|password", re.I)
# "staff login care-doctor", "login as care-doctor", "sign in with care-nurse", "staff login: care-doctor"
_AFTER_LOGIN = re.compile(
    r"^(?:(?:staff|doctor|nurse|care|hospital|please|pls)\s+)*(?:log\s*-?\s*in|sign\s*-?\s*in|log\s*-?\s*on)"
    r"(?:\s*[:,-]\s*|\s+)(?:(?:as|with|using|username|user\s*name|user|id|is)(?:\s*[:,-]\s*|\s+))*(?P<u>\S+)$",
    re.I,
)
# "username care-doctor", "my username is care-doctor", "user id: care-doctor"
_NAMED = re.compile(
    r"^(?:my\s+)?(?:care\s+)?(?:username|user\s*name|user\s*id|login\s*id|user)"
    r"(?:\s+is)?(?:\s*[:,-]\s*|\s+)(?P<u>\S+)$",
    re.I,
)


def looks_like_username(text: str) -> bool:
    """A CARE-looking username: `care-doctor` yes; "45612", "Ramesh Kumar", "+91 98765 43210", "hi" no."""
    value = (text or "").strip()
    return bool(_USERNAME.match(value)) and bool(_LETTER.search(value)) and value.lower() not in NOT_USERNAMES


def username_in(text: str) -> str | None:
    """The username a message gives, or None: a message that is only a username ("care-doctor"), or one
    that names it after a login request ("staff login care-doctor", "login as care-nurse",
    "my username is dr-rahul-verma")."""
    value = (text or "").strip()
    if not value or value.startswith("/"):
        return None
    found = _AFTER_LOGIN.match(value) or _NAMED.match(value)
    candidate = found.group("u") if found else (value if len(value.split()) == 1 else None)
    if candidate is None:
        return None
    candidate = candidate.strip("\"'`*_.,!?;:")
    if not looks_like_username(candidate) or _LOGIN_WORDS.search(candidate):
        return None
    return candidate

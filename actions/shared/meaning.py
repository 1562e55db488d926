"""What a message NLU read as a login means, from its words: the login intents are only logins when the words
say so. NLU may hear one in "do we have Anita registered" (a staff search), "exit my account" (a logout) or
"sing a song for me" / "who is the prime minister of india" (nothing the assistant does), and nothing out of
scope may ever start a login. Pure functions: the patient and staff login actions both ask them."""

from __future__ import annotations

import re

from actions.shared.who import STAFF
from common.names import usable_name

LOGIN, STAFF_LOGIN, LOGOUT, SEARCH, OUT_OF_SCOPE = "login", "staff_login", "logout", "search", "out_of_scope"

_LOGIN_WORDS_RE = re.compile(
    r"\b(?:log\s*-?\s*(?:me\s+)?in|lo?gi?n|loging|logon|sign\s*-?\s*(?:me\s+)?in|signin|otp|code|verify|"
    r"verification|authenticat\w*|account|my\s+(?:data|details))\b",
    re.I,
)
_LOGIN_ONLY_RE = re.compile(r"\b(?:log\s*-?\s*(?:me\s+)?in|login|sign\s*-?\s*(?:me\s+)?in|signin|otp)\b", re.I)
_LOGOUT_RE = re.compile(
    r"\b(?:exit|leave|quit|close|sign\s*-?\s*(?:me\s+)?(?:out|off)|signout|log\s*-?\s*(?:me\s+)?(?:out|off)|logout|"
    r"logoff|end\s+(?:my\s+)?session)\b",
    re.I,
)
_PATIENT_WORDS_RE = re.compile(r"\b(?:patients?|pt|registered|admitted)\b", re.I)
# who logs in with a CARE account, and with what: "doctor sign in", "front desk", "my username is ..."
_STAFF_WORDS_RE = re.compile(
    r"\b(?:staff|doctors?|dr|docs?|nurses?|sister|front\s*-?\s*desk|reception\w*|admin\w*|employee|"
    r"user\s*-?\s*(?:name|id)|password|passwd|pwd|credentials?|care\s+(?:account|app|portal|id))\b",
    re.I,
)


# a login said with who logs in: "physician login", "mujhe staff login karna hai", "login as a doctor"
_STAFF_LOGIN_RE = re.compile(
    r"\b(?:(?:staff|doctors?|dr|physician|nurses?|front\s*-?\s*desk|reception\w*)\s+(?:log\s*-?\s*in|login|"
    r"sign\s*-?\s*in|signin|access)|(?:log\s*-?\s*in|login|sign\s*-?\s*in)\s+as\s+(?:an?\s+)?(?:staff|doctor|dr|"
    r"physician|nurse)|user\s*-?\s*(?:name|id)|password)\b",
    re.I,
)


def _is_tap(text: str) -> bool:
    return text.startswith("/")


def login_meaning(text: str, role: str | None, person: str | None = None) -> str:
    """What a message NLU read as `login` (a patient's login) means for who is logged in: STAFF_LOGIN
    ("physician login", "my user id is ..."), LOGOUT ("exit my account", "sign out"), SEARCH (staff
    naming a patient: "do we have Anita registered"), OUT_OF_SCOPE (no word of a login: "sing a song
    for me") or LOGIN. A tap ("/login") is a login."""
    text = (text or "").strip()
    if _is_tap(text):
        return LOGIN
    if _STAFF_LOGIN_RE.search(text):
        return STAFF_LOGIN
    if _LOGOUT_RE.search(text) and not _LOGIN_ONLY_RE.search(text):
        return LOGOUT
    login_words = bool(_LOGIN_WORDS_RE.search(text))
    if (
        role == STAFF
        and not login_words
        and (usable_name(person) or (_PATIENT_WORDS_RE.search(text) and usable_name(text)))
    ):
        return SEARCH
    return LOGIN if login_words else OUT_OF_SCOPE


def staff_login_meaning(text: str, username: str | None = None) -> str:
    """What a message NLU read as `staff_login` means: LOGIN when it is a tap, names a username (`username`,
    found by the caller) or speaks of logging in or of a staff account ("doctor sign in", "front desk",
    "my password"); LOGOUT when it only speaks of leaving ("exit my account"); OUT_OF_SCOPE otherwise ("who is
    the prime minister of india")."""
    text = (text or "").strip()
    if _is_tap(text) or username:
        return LOGIN
    if _LOGOUT_RE.search(text) and not _LOGIN_ONLY_RE.search(text):
        return LOGOUT
    if _LOGIN_WORDS_RE.search(text) or _STAFF_WORDS_RE.search(text):
        return LOGIN
    return OUT_OF_SCOPE

"""Phone numbers: WhatsApp gives `919876543210`, CARE stores `+919876543210`; people type anything.

Parsing and validation come from `phonenumbers` (Google's libphonenumber), not from regexes.
"""

from __future__ import annotations

import re

import phonenumbers

DEFAULT_REGION = "IN"  # a number typed without a country code is read as Indian (CARE's home)
# The shortest number a patient search looks up as a phone (a landline without its area code); shorter bare
# numbers are codes or menu choices.
SEARCHABLE_PHONE_DIGITS = 7
# While a phone number is asked for, text with this many digits is kept out of Rasa's tracker even among words
# ("my number is 98765 43210"): looser than the search on purpose, a partly typed number is still private.
PRIVATE_PHONE_DIGITS = 6

_BARE_NUMBER = re.compile(r"[\d\s+\-().]+")


def bare_number_digits(text: str) -> int:
    """How many digits `text` has when it is only a number ("98765 43210", "+91-98765-43210", "(2)"); 0 when
    it holds anything else (a word, an emoji) or no digit at all."""
    stripped = text.strip()
    if not _BARE_NUMBER.fullmatch(stripped):
        return 0
    return sum(c.isdigit() for c in stripped)


class InvalidPhoneNumber(ValueError):
    """The text is not a valid phone number."""


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str:
    """Any common way of writing a number -> E.164 (`+919876543210`).

    A WhatsApp wa_id (`919876543210`, country code without `+`) is recognised too.
    Raises InvalidPhoneNumber when the text is not a valid number.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhoneNumber("empty phone number")
    digits = re.sub(r"\D", "", text)
    candidates = [text]
    if not text.startswith("+"):
        if text.startswith("00"):
            candidates.insert(0, "+" + digits[2:])
        elif len(digits) > 10:
            # a wa_id or "91 98765 43210": the country code is there, only the + is missing
            candidates.append("+" + digits)
    for cand in candidates:
        try:
            num = phonenumbers.parse(cand, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(num):
            return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    raise InvalidPhoneNumber("not a valid phone number")


def is_phone_number(raw: str, region: str = DEFAULT_REGION) -> bool:
    try:
        to_e164(raw, region)
        return True
    except InvalidPhoneNumber:
        return False


def wa_id(e164: str) -> str:
    """E.164 -> the form WhatsApp uses in `to` and `wa_id` (no `+`)."""
    return e164.lstrip("+")


def mask_phone(raw: str) -> str:
    """`+919876543210` -> `+91 98•••••210`: enough for the owner to recognise, not enough to reuse.

    Works on wa_ids and E.164; anything unparseable keeps only its last 3 characters.
    """
    if not raw:
        return ""
    try:
        num = phonenumbers.parse(to_e164(raw))
        national = str(num.national_number)
        cc = f"+{num.country_code} "
    except (InvalidPhoneNumber, phonenumbers.NumberParseException):
        national, cc = re.sub(r"\s", "", raw), ""
    if len(national) <= 5:
        return cc + "•" * max(len(national) - 2, 0) + national[-2:]
    return cc + national[:2] + "•" * (len(national) - 5) + national[-3:]

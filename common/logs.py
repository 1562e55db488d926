"""Log hygiene: phone numbers are masked in every log line, whoever wrote it (our code or a library's)."""

from __future__ import annotations

import logging
import re

from common.phone import mask_phone

# 10-15 digits, optionally after a +, not inside a longer token (wamid.*, UUIDs, ids in URL paths)
_PHONE_RE = re.compile(r"(?<![\w.\-])\+?\d{10,15}(?![\w\-])")


def mask_phones_in(text: str) -> str:
    return _PHONE_RE.sub(lambda m: mask_phone(m.group(0)), text)


class PhoneMaskingFilter(logging.Filter):
    """Rewrites the formatted message of every record so that phone numbers are masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is the caller's bug; never drop the record for it
            return True
        masked = mask_phones_in(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def install_log_masking(logger: logging.Logger | None = None) -> None:
    """Attach the filter to every handler of the root logger (filters on loggers don't see child records)."""
    target = logger or logging.getLogger()
    flt = PhoneMaskingFilter()
    if not any(isinstance(f, PhoneMaskingFilter) for f in target.filters):
        target.addFilter(flt)
    for handler in target.handlers:
        if not any(isinstance(f, PhoneMaskingFilter) for f in handler.filters):
            handler.addFilter(flt)

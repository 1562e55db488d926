"""Phone numbers as people and WhatsApp write them, and masking in logs."""

from __future__ import annotations

import logging

import pytest

from common.logs import PhoneMaskingFilter, mask_phones_in
from common.phone import InvalidPhoneNumber, mask_phone, to_e164, wa_id


@pytest.mark.parametrize(
    "raw",
    [
        "919876543210",
        "+919876543210",
        "+91 98765 43210",
        "98765 43210",
        "098765-43210",
        "0091 9876543210",
        "(+91) 98765-43210",
    ],
)
def test_common_ways_of_writing_an_indian_mobile(raw):
    assert to_e164(raw) == "+919876543210"


def test_other_countries_keep_their_code():
    assert to_e164("+44 7911 123456") == "+447911123456"
    assert wa_id("+447911123456") == "447911123456"


@pytest.mark.parametrize("raw", ["", "12345", "hello", "+91 12345", "99999999999999999"])
def test_not_a_phone_number(raw):
    with pytest.raises(InvalidPhoneNumber):
        to_e164(raw)


def test_mask_keeps_country_code_first_two_and_last_three():
    assert mask_phone("919876543210") == "+91 98•••••210"
    assert mask_phone("+919876543210") == "+91 98•••••210"
    assert "76543" not in mask_phone("+919876543210")


def test_log_lines_mask_phones_but_not_ids():
    line = "sent to 919876543210 (wamid.HBgMOTE5ODc2NTQzMjEwFQ) for patient ee456dc9-7f58-47ed-bded-123456789012"
    masked = mask_phones_in(line)
    assert "919876543210" not in masked and "+91 98•••••210" in masked
    assert "ee456dc9-7f58-47ed-bded-123456789012" in masked
    assert "wamid.HBgMOTE5ODc2NTQzMjEwFQ" in masked


def test_filter_masks_arguments_of_a_log_record(caplog):
    logger = logging.getLogger("test.masking")
    logger.addFilter(PhoneMaskingFilter())
    with caplog.at_level(logging.INFO, logger="test.masking"):
        logger.info("conversation %s started", "919876543210")
    assert "919876543210" not in caplog.text and "+91 98•••••210" in caplog.text

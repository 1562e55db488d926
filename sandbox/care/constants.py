"""Instance-level configuration a real CARE sends inside records (not patient data): patient identifier
configs and the facility's billing codes, as in the recordings (85, 70)."""

from __future__ import annotations

from typing import Any

_RETRIEVE_NAME = {
    "retrieve_with_dob": False,
    "retrieve_with_otp": False,
    "retrieve_partial_search": True,
    "retrieve_with_year_of_birth": False,
}
_RETRIEVE_PHONE = {
    "retrieve_with_dob": False,
    "retrieve_with_otp": False,
    "retrieve_partial_search": False,
    "retrieve_with_year_of_birth": True,
}


def _identifier_config(cid: str, system: str, display: str, retrieve: dict[str, bool]) -> dict[str, Any]:
    return {
        "id": cid,
        "config": {
            "use": "secondary",
            "regex": "",
            "system": system,
            "unique": False,
            "display": display,
            "required": False,
            "description": "",
            "default_value": None,
            "auto_maintained": True,
            "retrieve_config": retrieve,
        },
        "status": "active",
    }


NAME_IDENTIFIER = _identifier_config(
    "b80d5c2a-9e59-4270-a2cf-27747f4f8f8b", "system.care.ohc.network/patient-name", "Patient Name", _RETRIEVE_NAME
)
PHONE_IDENTIFIER = _identifier_config(
    "a548694d-fa76-4fe4-8956-ec89b0868feb",
    "system.care.ohc.network/patient-phone-number",
    "Patient Phone Number",
    _RETRIEVE_PHONE,
)

_DISCOUNT = "http://ohc.network/codes/monetary/discount"
_TAX = "http://ohc.network/codes/monetary/tax"


def _code(system: str, code: str, display: str) -> dict[str, Any]:
    return {"system": system, "version": None, "code": code, "display": display}


def _component(kind: str, code: dict[str, Any], factor: float, title: str) -> dict[str, Any]:
    return {
        "monetary_component_type": kind,
        "code": code,
        "factor": factor,
        "amount": None,
        "conditions": [],
        "title": title,
    }


FACILITY_BILLING: dict[str, Any] = {
    "instance_discount_codes": [
        _code(_DISCOUNT, "oldage", "Old Age Discount"),
        _code(_DISCOUNT, "child", "Child Discount"),
    ],
    "instance_discount_monetary_components": [
        _component("discount", _code(_DISCOUNT, "oldage", "Old Age Discount"), 10.0, "Old Age Discount")
    ],
    "instance_tax_codes": [_code(_TAX, "cgst", "CGST"), _code(_TAX, "sgst", "SGST")],
    "instance_tax_monetary_components": [
        _component("tax", _code(_TAX, "cgst", "CGST"), 9.0, "CGST @ 9"),
        _component("tax", _code(_TAX, "sgst", "SGST"), 9.0, "SGST @ 9"),
    ],
    "instance_informational_codes": [_code("http://ohc.network/codes/monetary/informational", "mrp", "MRP")],
}

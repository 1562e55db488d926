"""Patient OTP login and what a patient token may reach (recordings 36-58)."""

from __future__ import annotations

import phonenumbers
from aiohttp import web

from sandbox.care.auth import patient_phone
from sandbox.care.routes.slots import booking_refused, parse_slot_request
from sandbox.care.store import BookingRefused
from sandbox.care.tokens import PATIENT
from sandbox.care.web import (
    UUID_RE,
    ctx,
    invalid,
    json_body,
    missing_fields,
    not_found,
    ok,
    page,
    pydantic_error,
    pydantic_invalid,
)

routes = web.RouteTableDef()
OTP_LENGTH = 5


def _phone_errors(body: dict) -> list[dict]:
    """CARE wants a valid E.164 mobile number, `+` included (recording 39)."""
    value = body.get("phone_number")
    try:
        num = phonenumbers.parse(str(value), None)
        valid = (
            str(value).startswith("+")
            and phonenumbers.is_valid_number(num)
            and phonenumbers.number_type(num)
            in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
        )
    except phonenumbers.NumberParseException:
        valid = False
    if valid:
        return []
    return [
        pydantic_error(
            "value_error", "phone_number", "Value error, Invalid phone number", value, {"error": "Invalid phone number"}
        )
    ]


@routes.post("/api/v1/otp/send/")
async def send(request: web.Request) -> web.Response:
    body = await json_body(request)
    errors = missing_fields(body, ("phone_number",)) or _phone_errors(body)
    if errors:
        raise pydantic_invalid(errors)
    if not ctx(request).store.send_otp(body["phone_number"]):
        raise invalid({"phone_number": "Max Retries has exceeded"})
    return ok({"otp": "generated"})  # CARE would text the code; the sandbox's code is fixed


@routes.post("/api/v1/otp/login/")
async def login(request: web.Request) -> web.Response:
    body = await json_body(request)
    errors = missing_fields(body, ("phone_number", "otp")) or _phone_errors(body)
    otp = str(body.get("otp", ""))
    if not errors and len(otp) > OTP_LENGTH:
        errors = [
            pydantic_error(
                "string_too_long",
                "otp",
                f"String should have at most {OTP_LENGTH} characters",
                body["otp"],
                {"max_length": OTP_LENGTH},
            )
        ]
    elif not errors and len(otp) < OTP_LENGTH:
        errors = [
            pydantic_error(
                "string_too_short",
                "otp",
                f"String should have at least {OTP_LENGTH} characters",
                body["otp"],
                {"min_length": OTP_LENGTH},
            )
        ]
    if errors:
        raise pydantic_invalid(errors)
    c = ctx(request)
    if not c.store.use_otp(body["phone_number"], otp):
        raise invalid({"otp": "Invalid OTP"})
    return ok({"access": c.tokens.issue(PATIENT, phone_number=body["phone_number"])})


@routes.get("/api/v1/otp/patient/")
async def my_patients(request: web.Request) -> web.Response:
    c = ctx(request)
    return page(request, [c.shapes.patient_otp(p) for p in c.store.patients_on_phone(patient_phone(request))])


@routes.post("/api/v1/otp/slots/get_slots_for_day/")
async def slots_for_day(request: web.Request) -> web.Response:
    patient_phone(request)
    body = await json_body(request)
    errors = missing_fields(body, ("facility",))
    if errors:
        raise pydantic_invalid(errors)
    c = ctx(request)
    if body["facility"] not in c.store.facilities:
        raise not_found("Facility")
    user, day = parse_slot_request(c, body)
    return ok({"results": [c.shapes.slot(s) for s in c.store.slots_for_day(user.id, body["facility"], day)]})


@routes.get("/api/v1/otp/slots/get_appointments/")
async def my_appointments(request: web.Request) -> web.Response:
    c = ctx(request)
    patients = c.store.patients_on_phone(patient_phone(request))
    return ok({"results": [c.shapes.booking(b) for b in c.store.bookings_of(p.id for p in patients)]})


@routes.post("/api/v1/otp/slots/cancel_appointment/")
async def cancel(request: web.Request) -> web.Response:
    phone = patient_phone(request)
    body = await json_body(request)
    errors = missing_fields(body, ("patient", "appointment"))
    if errors:
        raise pydantic_invalid(errors)
    c = ctx(request)
    if body["patient"] not in {p.id for p in c.store.patients_on_phone(phone)}:
        raise invalid("Patient not allowed")
    booking = c.store.bookings.get(str(body["appointment"]))
    if booking is None or booking.patient_id != body["patient"]:
        raise not_found("TokenBooking")
    return ok(c.shapes.booking(c.store.cancel(booking)))


@routes.get(f"/api/v1/otp/slots/{{slot_id:{UUID_RE}}}/")
async def slot(request: web.Request) -> web.Response:
    patient_phone(request)
    c = ctx(request)
    found = c.store.slots.get(request.match_info["slot_id"])
    if found is None:
        raise not_found("TokenSlot")
    return ok(c.shapes.slot(found))


@routes.post(f"/api/v1/otp/slots/{{slot_id:{UUID_RE}}}/create_appointment/")
async def book(request: web.Request) -> web.Response:
    phone = patient_phone(request)
    body = await json_body(request)
    errors = missing_fields(body, ("patient",))
    if errors:
        raise pydantic_invalid(errors)
    c = ctx(request)
    found = c.store.slots.get(request.match_info["slot_id"])
    if found is None:
        raise not_found("TokenSlot")
    patient = next((p for p in c.store.patients_on_phone(phone) if p.id == body["patient"]), None)
    if patient is None:
        raise invalid("Patient not allowed")
    try:
        booking = c.store.book(found, patient, str(body.get("note", "")), booked_by=None)
    except BookingRefused as exc:
        raise booking_refused(exc) from exc
    return ok(c.shapes.booking(booking))

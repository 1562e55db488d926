"""Staff slot endpoints (27, 26, 28) and the slot-request parsing shared with the OTP flavour."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from sandbox.care.auth import staff
from sandbox.care.records import User
from sandbox.care.routes.facility import facility_for
from sandbox.care.store import BookingRefused
from sandbox.care.web import (
    UUID_RE,
    CareHTTPError,
    Context,
    ctx,
    enum_error,
    forbidden,
    invalid,
    json_body,
    missing_fields,
    not_found,
    ok,
    pydantic_error,
    pydantic_invalid,
)

routes = web.RouteTableDef()
RESOURCE_TYPES = ("practitioner", "location", "healthcare_service")


def booking_refused(exc: BookingRefused) -> CareHTTPError:
    return invalid(str(exc))


def parse_slot_request(c: Context, body: dict[str, Any]) -> tuple[User, dt.date]:
    errors = missing_fields(body, ("resource_type", "resource_id", "day"))
    if not errors and body["resource_type"] != "practitioner":
        errors = [enum_error("resource_type", body["resource_type"], RESOURCE_TYPES)]
    day = None
    if not errors:
        try:
            day = dt.date.fromisoformat(str(body["day"]))
        except ValueError:
            errors = [
                pydantic_error(
                    "date_from_datetime_parsing",
                    "day",
                    "Input should be a valid date",
                    body["day"],
                    {"error": "invalid character in year"},
                )
            ]
    if errors:
        raise pydantic_invalid(errors)
    user = c.store.users.get(str(body["resource_id"]))
    if user is None or user not in c.store.schedulable_users(user.facility_ids[0] if user.facility_ids else ""):
        raise not_found("SchedulableResource")
    assert day is not None
    return user, day


@routes.post(f"/api/v1/facility/{{fid:{UUID_RE}}}/slots/get_slots_for_day/")
async def slots_for_day(request: web.Request) -> web.Response:
    user = staff(request)
    c = ctx(request)
    fac = facility_for(request, user)
    if not user.can("can_list_schedule"):
        raise forbidden("You do not have permission to view user schedule")
    practitioner, day = parse_slot_request(c, await json_body(request))
    return ok({"results": [c.shapes.slot(s) for s in c.store.slots_for_day(practitioner.id, fac.id, day)]})


@routes.post(f"/api/v1/facility/{{fid:{UUID_RE}}}/slots/availability_stats/")
async def availability_stats(request: web.Request) -> web.Response:
    user = staff(request)
    c = ctx(request)
    fac = facility_for(request, user)
    body = await json_body(request)
    errors = missing_fields(body, ("from_date", "to_date"))
    if errors:
        raise pydantic_invalid(errors)
    practitioner, start = parse_slot_request(c, {**body, "day": body["from_date"]})
    end = dt.date.fromisoformat(str(body["to_date"]))
    stats = {}
    for i in range((end - start).days + 1):
        day = start + dt.timedelta(days=i)
        slots = c.store.slots_for_day(practitioner.id, fac.id, day)
        stats[day.isoformat()] = {
            "total_slots": sum(s.availability.tokens_per_slot for s in slots),
            "booked_slots": sum(s.allocated for s in slots),
        }
    return ok(stats)


@routes.get(f"/api/v1/facility/{{fid:{UUID_RE}}}/slots/{{slot_id:{UUID_RE}}}/")
async def slot(request: web.Request) -> web.Response:
    user = staff(request)
    c = ctx(request)
    fac = facility_for(request, user)
    found = c.store.slots.get(request.match_info["slot_id"])
    if found is None or found.facility_id != fac.id:
        raise not_found("TokenSlot")
    return ok(c.shapes.slot(found))


@routes.post(f"/api/v1/facility/{{fid:{UUID_RE}}}/slots/{{slot_id:{UUID_RE}}}/create_appointment/")
async def book(request: web.Request) -> web.Response:
    user = staff(request)
    c = ctx(request)
    fac = facility_for(request, user)
    if not user.can("can_write_booking"):
        raise forbidden("You do not have permission to create appointments")
    body = await json_body(request)
    errors = missing_fields(body, ("patient",))
    if errors:
        raise pydantic_invalid(errors)
    found = c.store.slots.get(request.match_info["slot_id"])
    if found is None or found.facility_id != fac.id:
        raise not_found("TokenSlot")
    patient = c.store.patients.get(str(body["patient"]))
    if patient is None:
        raise not_found("Patient")
    try:
        booking = c.store.book(found, patient, str(body.get("note", "")), booked_by=user.id)
    except BookingRefused as exc:
        raise booking_refused(exc) from exc
    return ok(c.shapes.booking(booking))

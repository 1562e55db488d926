"""Appointments (bookings) seen by staff: list (29, 32, 33, 35), retrieve (31), cancel (from openapi.yaml)."""
from __future__ import annotations

import datetime as dt

from aiohttp import web

from sandbox.care.auth import staff
from sandbox.care.records import Booking
from sandbox.care.routes.facility import facility_for
from sandbox.care.store import Store
from sandbox.care.web import (
    UUID_RE,
    ctx,
    enum_error,
    forbidden,
    invalid,
    json_body,
    missing_fields,
    not_found,
    ok,
    page,
    pydantic_invalid,
)

routes = web.RouteTableDef()
CANCEL_REASONS = ("cancelled", "entered_in_error", "rescheduled")


def _local_day(store: Store, b: Booking) -> dt.date:
    return store.slots[b.slot_id].start.astimezone(store.tz).date()


@routes.get(f"/api/v1/facility/{{fid:{UUID_RE}}}/appointments/")
async def appointments(request: web.Request) -> web.Response:
    user = staff(request)
    c = ctx(request)
    fac = facility_for(request, user)
    if not user.can("can_list_booking"):
        raise forbidden("You do not have permission to view user schedule")
    q = request.query
    if not q.get("resource_type"):
        raise invalid("Resource Type is required")
    resource_ids = [r for r in q.get("resource_ids", "").split(",") if r]
    if not (user.superuser or user.role.list_any_bookings) and resource_ids != [user.id]:
        raise forbidden("You do not have permission to list bookings")  # a doctor sees only their own (32)
    found = []
    for b in c.store.bookings.values():
        slot = c.store.slots[b.slot_id]
        day = _local_day(c.store, b)
        if slot.facility_id != fac.id or (resource_ids and slot.user_id not in resource_ids):
            continue
        if (q.get("patient") and b.patient_id != q["patient"]) or (q.get("status") and b.status != q["status"]) \
                or (q.get("slot") and b.slot_id != q["slot"]):
            continue
        if (q.get("date_after") and day < dt.date.fromisoformat(q["date_after"])) or \
                (q.get("date_before") and day > dt.date.fromisoformat(q["date_before"])):
            continue
        found.append(b)
    found.sort(key=lambda b: b.modified, reverse=True)
    return page(request, [c.shapes.booking(b) for b in found])


def _booking(request: web.Request) -> Booking:
    user = staff(request)
    c = ctx(request)
    fac = facility_for(request, user)
    if not user.can("can_list_booking"):
        raise forbidden("You do not have permission to view user schedule")
    booking = c.store.bookings.get(request.match_info["aid"])
    if booking is None or c.store.slots[booking.slot_id].facility_id != fac.id:
        raise not_found("TokenBooking")
    return booking


@routes.get(f"/api/v1/facility/{{fid:{UUID_RE}}}/appointments/{{aid:{UUID_RE}}}/")
async def appointment(request: web.Request) -> web.Response:
    return ok(ctx(request).shapes.booking(_booking(request), detail=True))


@routes.post(f"/api/v1/facility/{{fid:{UUID_RE}}}/appointments/{{aid:{UUID_RE}}}/cancel/")
async def cancel(request: web.Request) -> web.Response:
    booking = _booking(request)
    user = staff(request)
    if not user.can("can_write_booking"):
        raise forbidden("You do not have permission to update bookings")
    body = await json_body(request)
    errors = missing_fields(body, ("reason",))
    if not errors and body["reason"] not in CANCEL_REASONS:
        errors = [enum_error("reason", body["reason"], CANCEL_REASONS)]
    if errors:
        raise pydantic_invalid(errors)
    c = ctx(request)
    c.store.cancel(booking, body["reason"])
    return ok(c.shapes.booking(booking))

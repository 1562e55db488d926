"""Appointments (bookings) seen by staff: list (29, 32, 33, 35, 133), retrieve (31, 132),
cancel (125-128) and reschedule (129-134)."""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from sandbox.care.auth import staff
from sandbox.care.records import Booking
from sandbox.care.routes.facility import facility_for
from sandbox.care.routes.slots import booking_refused
from sandbox.care.store import BookingRefused, Store
from sandbox.care.web import (
    UUID_RE,
    ctx,
    forbidden,
    invalid,
    json_body,
    literal_error,
    missing_fields,
    not_found,
    ok,
    page,
    pydantic_invalid,
    uuid_errors,
)

routes = web.RouteTableDef()
CANCEL_REASONS = ("cancelled", "entered_in_error", "rescheduled")
CANCEL_REASON_REPRS = tuple(f"<BookingStatusChoices.{r}: '{r}'>" for r in CANCEL_REASONS)  # as CARE shows them


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
        if (
            (q.get("patient") and b.patient_id != q["patient"])
            or (q.get("status") and b.status != q["status"])
            or (q.get("slot") and b.slot_id != q["slot"])
        ):
            continue
        if (q.get("date_after") and day < dt.date.fromisoformat(q["date_after"])) or (
            q.get("date_before") and day > dt.date.fromisoformat(q["date_before"])
        ):
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
        errors = [literal_error("reason", body["reason"], CANCEL_REASON_REPRS)]  # 126
    if errors:
        raise pydantic_invalid(errors)
    c = ctx(request)
    note = body.get("note")
    c.store.cancel(booking, body["reason"], None if note is None else str(note))  # again: 200, slot freed once
    return ok(c.shapes.booking(booking))


@routes.post(f"/api/v1/facility/{{fid:{UUID_RE}}}/appointments/{{aid:{UUID_RE}}}/reschedule/")
async def reschedule(request: web.Request) -> web.Response:
    """Answers the **new** booking; the old one becomes `rescheduled` with `previous_booking_note` (131, 132)."""
    booking = _booking(request)
    user = staff(request)
    if not user.can("can_reschedule_booking"):
        raise forbidden("You do not have permission to reschedule bookings")
    body = await json_body(request)
    errors = missing_fields(body, ("new_slot", "new_booking_note")) + uuid_errors(body, ("new_slot",))
    if errors:
        raise pydantic_invalid(errors)  # 130
    c = ctx(request)
    new_slot = c.store.slots.get(str(body["new_slot"]))
    if new_slot is None or new_slot.facility_id != c.store.slots[booking.slot_id].facility_id:
        raise not_found("TokenSlot")  # 134
    if new_slot.id == booking.slot_id:
        raise invalid("Cannot reschedule to the same slot")  # 129
    previous = body.get("previous_booking_note")
    try:
        new = c.store.reschedule(
            booking,
            new_slot,
            str(body["new_booking_note"]),
            None if previous is None else str(previous),
            booked_by=user.id,
        )
    except BookingRefused as exc:
        raise booking_refused(exc) from exc
    return ok(c.shapes.booking(new))

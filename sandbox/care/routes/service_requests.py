"""Service requests (procedures, lab tests, imaging): list needs an encounter (81, 82), create (20-22),
retrieve (83)."""

from __future__ import annotations

import datetime as dt
import uuid

from aiohttp import web

from sandbox.care.auth import staff
from sandbox.care.records import ServiceRequest
from sandbox.care.routes.encounters import by_newest, encounter_of, writable
from sandbox.care.routes.facility import facility_for
from sandbox.care.store import utcnow
from sandbox.care.web import (
    UUID_RE,
    ctx,
    forbidden,
    invalid,
    json_body,
    missing_fields,
    not_found,
    ok,
    page,
    parse_dt,
    pydantic_invalid,
)

routes = web.RouteTableDef()


def _utc(value: object) -> str | None:
    parsed = parse_dt(value)
    return parsed.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if parsed else None


F = f"/api/v1/facility/{{fid:{UUID_RE}}}/service_request"


@routes.get(f"{F}/")
async def service_requests(request: web.Request) -> web.Response:
    user = staff(request)
    fac = facility_for(request, user)
    if not user.can("can_read_service_request"):
        raise forbidden("Permission denied to user")
    q = request.query
    if not q.get("encounter") and not q.get("location"):
        raise invalid("Location or encounter is required")
    c = ctx(request)
    found = [
        r
        for r in c.store.service_requests.values()
        if r.facility_id == fac.id
        and (not q.get("encounter") or r.encounter_id == q["encounter"])
        and (not q.get("status") or r.status == q["status"])
        and (not q.get("category") or r.category == q["category"])
    ]
    return page(request, [c.shapes.service_request(r) for r in by_newest(found)])


@routes.post(f"{F}/")
async def create_service_request(request: web.Request) -> web.Response:
    user = staff(request)
    fac = facility_for(request, user)
    body = await json_body(request)
    errors = missing_fields(body, ("title", "status", "intent", "priority", "category", "code", "encounter"))
    if errors:
        raise pydantic_invalid(errors)
    c = ctx(request)
    enc = encounter_of(request, body)
    requester = c.store.users.get(str(body.get("requester")))
    if requester is None or fac.id not in requester.facility_ids:
        raise invalid("requester must be a member of the facility")
    writable(user, enc)
    sr = ServiceRequest(
        id=str(uuid.uuid4()),
        encounter_id=enc.id,
        facility_id=fac.id,
        title=body["title"],
        category=body["category"],
        code=body["code"],
        created=utcnow(),
        status=body["status"],
        intent=body["intent"],
        priority=body["priority"],
        occurance=_utc(body.get("occurance")),
        note=body.get("note"),
        patient_instruction=body.get("patient_instruction"),
        requester_id=requester.id,
        created_by=user.id,
    )
    c.store.service_requests[sr.id] = sr
    return ok(c.shapes.service_request_detail(sr))


@routes.get(f"{F}/{{sid:{UUID_RE}}}/")
async def service_request(request: web.Request) -> web.Response:
    user = staff(request)
    fac = facility_for(request, user)
    c = ctx(request)
    sr = c.store.service_requests.get(request.match_info["sid"])
    if sr is None or sr.facility_id != fac.id:
        raise not_found("ServiceRequest")
    return ok(c.shapes.service_request_detail(sr))

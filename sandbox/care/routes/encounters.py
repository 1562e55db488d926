"""Encounters: list (71, 72), create (07-09, 89, 99, 101), retrieve (73, 87, 94), organizations_add (10).

Writing on an encounter needs the writer's department among its organisations (100).
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from sandbox.care.auth import staff
from sandbox.care.records import Encounter, User
from sandbox.care.seed import when
from sandbox.care.store import utcnow
from sandbox.care.web import (
    UUID_RE,
    ctx,
    enum_error,
    forbidden,
    json_body,
    missing_fields,
    not_found,
    ok,
    page,
    parse_dt,
    pydantic_error,
    pydantic_invalid,
)

routes = web.RouteTableDef()
ENCOUNTER_STATUSES = (
    "planned",
    "in_progress",
    "on_hold",
    "discharged",
    "completed",
    "cancelled",
    "discontinued",
    "entered_in_error",
    "unknown",
)
ENCOUNTER_CLASSES = ("imp", "amb", "obsenc", "emer", "vr", "hh")
ACTIVE = ("planned", "in_progress", "on_hold")


def by_newest(items: list[Any]) -> list[Any]:
    return sorted(items, key=lambda r: r.created, reverse=True)


def writable(user: User, enc: Encounter) -> None:
    if not (user.superuser or (user.can("can_write_encounter") and user.department_id in enc.department_ids)):
        raise forbidden("You do not have permission to update encounter")


def encounter_of(request: web.Request, body: dict[str, Any], patient_id: str | None = None) -> Encounter:
    """The body's `encounter`, with CARE's pydantic error when unknown (96)."""
    enc = ctx(request).store.encounters.get(str(body.get("encounter")))
    if enc is None or (patient_id and enc.patient_id != patient_id):
        raise pydantic_invalid(
            [
                pydantic_error(
                    "value_error",
                    "encounter",
                    "Value error, Encounter not found",
                    body.get("encounter"),
                    {"error": "Encounter not found"},
                )
            ]
        )
    return enc


@routes.get("/api/v1/encounter/")
async def encounters(request: web.Request) -> web.Response:
    staff(request)
    c = ctx(request)
    q = request.query
    found = [
        e
        for e in c.store.encounters.values()
        if (not q.get("patient") or e.patient_id == q["patient"])
        and (not q.get("facility") or e.facility_id == q["facility"])
        and (not q.get("status") or e.status == q["status"])
    ]
    if q.get("live", "").lower() == "true":  # admitted and still there (72: an OPD visit is not live)
        found = [e for e in found if e.status in ACTIVE and e.encounter_class in ("imp", "emer", "obsenc")]
    return page(request, [c.shapes.encounter(e) for e in by_newest(found)])


@routes.post("/api/v1/encounter/")
async def create_encounter(request: web.Request) -> web.Response:
    user = staff(request)
    body = await json_body(request)
    errors = missing_fields(body, ("status", "encounter_class", "patient", "facility", "priority"))
    if body.get("status") and body["status"] not in ENCOUNTER_STATUSES:
        errors.append(enum_error("status", body["status"], ENCOUNTER_STATUSES))
    if body.get("encounter_class") and body["encounter_class"] not in ENCOUNTER_CLASSES:
        errors.append(enum_error("encounter_class", body["encounter_class"], ENCOUNTER_CLASSES))
    if errors:
        raise pydantic_invalid(errors)
    c = ctx(request)
    if body["patient"] not in c.store.patients:
        raise not_found("Patient")
    if body["facility"] not in c.store.facilities:
        raise not_found("Facility")
    if not user.can("can_create_encounter"):
        raise forbidden("You do not have permission to create encounter")
    now = utcnow()
    start = (body.get("period") or {}).get("start")
    enc = Encounter(
        id=str(uuid.uuid4()),
        patient_id=body["patient"],
        facility_id=body["facility"],
        status=body["status"],
        encounter_class=body["encounter_class"],
        start=parse_dt(start) or when("today 09:00", c.store.today, c.store.tz),
        created=now,
        priority=body["priority"],
        external_identifier=body.get("external_identifier") or "",
        hospitalization=body.get("hospitalization") or {},
        department_ids=[d for d in body.get("organizations") or [] if c.store.department(d)],
        created_by=user.id,
    )
    c.store.encounters[enc.id] = enc
    return ok(c.shapes.encounter_detail(enc, []))


def _encounter_or_404(request: web.Request) -> Encounter:
    enc = ctx(request).store.encounters.get(request.match_info["eid"])
    if enc is None:
        raise not_found("Encounter")
    return enc


@routes.get(f"/api/v1/encounter/{{eid:{UUID_RE}}}/")
async def encounter(request: web.Request) -> web.Response:
    user = staff(request)
    enc = _encounter_or_404(request)
    perms = [
        p
        for p in user.role.permissions
        if "encounter" in p
        or "patient" in p
        or p == "can_view_clinical_data"
        or p == "can_view_questionnaire_responses"
    ]
    return ok(ctx(request).shapes.encounter_detail(enc, perms))


@routes.post(f"/api/v1/encounter/{{eid:{UUID_RE}}}/organizations_add/")
async def organizations_add(request: web.Request) -> web.Response:
    user = staff(request)
    enc = _encounter_or_404(request)
    if not (user.superuser or user.role.name == "Facility Admin"):
        raise forbidden("You do not have permission to update encounter")
    body = await json_body(request)
    dept = ctx(request).store.department(str(body.get("organization")))
    if dept is None:
        raise not_found("FacilityOrganization")
    if dept.id not in enc.department_ids:
        enc.department_ids.append(dept.id)
    return ok(ctx(request).shapes.dept(dept))

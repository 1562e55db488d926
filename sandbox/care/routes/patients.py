"""Patients: list by name/phone (65-67, 93), search with random ids (68-69), retrieve (70, 92, 86),
create (04-06, 88) and a patient's appointments (34)."""

from __future__ import annotations

import datetime as dt
import uuid

import phonenumbers
from aiohttp import web

from sandbox.care.auth import staff
from sandbox.care.records import Patient
from sandbox.care.store import utcnow
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
    pydantic_error,
    pydantic_invalid,
    uuid_errors,
)

routes = web.RouteTableDef()
GENDERS = ("male", "female", "non_binary", "transgender")
ORDERINGS = {
    "created_date": lambda p: p.created,
    "modified_date": lambda p: p.modified or p.created,
    "name": lambda p: p.name.lower(),
}


def patient_or_404(request: web.Request, key: str = "pid") -> Patient:
    found = ctx(request).store.patients.get(request.match_info[key])
    if found is None:
        raise not_found("Patient")
    return found


@routes.get("/api/v1/patient/")
async def patients(request: web.Request) -> web.Response:
    staff(request)
    c = ctx(request)
    q = request.query
    found = list(c.store.patients.values())
    if q.get("name"):
        found = [p for p in found if q["name"].lower() in p.name.lower()]
    if q.get("phone_number"):
        found = [p for p in found if p.phone_number == q["phone_number"]]  # exact, like CARE
    ordering = q.get("ordering", "-created_date")
    key = ORDERINGS.get(ordering.lstrip("-"), ORDERINGS["created_date"])
    found.sort(key=key, reverse=ordering.startswith("-"))
    return page(request, [c.shapes.patient(p) for p in found])


def _valid_phone(value: object) -> bool:
    try:
        return str(value).startswith("+") and phonenumbers.is_valid_number(phonenumbers.parse(str(value), None))
    except phonenumbers.NumberParseException:
        return False


@routes.post("/api/v1/patient/")
async def create(request: web.Request) -> web.Response:
    user = staff(request)
    if not user.can("can_create_patient"):
        raise forbidden("You do not have permission to create a patient")
    body = await json_body(request)
    errors = missing_fields(body, ("gender", "phone_number"))
    if body.get("gender") and body["gender"] not in GENDERS:
        errors.append(enum_error("gender", body["gender"], GENDERS))
    for field in ("phone_number", "emergency_phone_number"):
        if body.get(field) and not _valid_phone(body[field]):
            errors.append(pydantic_error("value_error", field, "value is not a valid phone number", body[field]))
    errors += uuid_errors(body, ("geo_organization",))
    if errors:
        raise pydantic_invalid(errors)
    if not str(body.get("name", "")).strip():
        raise invalid("Name is required")
    dob = body.get("date_of_birth")
    yob = int(str(dob)[:4]) if dob else body.get("year_of_birth")
    if yob is None and body.get("age") is not None:
        yob = dt.date.today().year - int(body["age"])
    now = utcnow()
    pat = Patient(
        id=str(uuid.uuid4()),
        name=str(body["name"]).strip(),
        gender=body["gender"],
        phone_number=body["phone_number"],
        created=now,
        modified=now,
        emergency_phone_number=body.get("emergency_phone_number", ""),
        address=body.get("address", ""),
        pincode=body.get("pincode"),
        date_of_birth=dob,
        year_of_birth=yob,
        blood_group=body.get("blood_group", ""),
        created_by=user.id,
    )
    c = ctx(request)
    c.store.patients[pat.id] = pat
    return ok(c.shapes.patient_detail(pat, []))


@routes.post("/api/v1/patient/search/")
async def search(request: web.Request) -> web.Response:
    staff(request)
    body = await json_body(request)
    if not body.get("phone_number") and not body.get("config"):
        raise invalid("Either phone number or config is required")
    c = ctx(request)
    # CARE hides real ids here: a random id per request and the first 5 characters of the real one
    return ok(
        {
            "partial": True,
            "results": [
                {
                    "id": str(uuid.uuid4()),
                    "name": p.name,
                    "gender": p.gender,
                    "phone_number": p.phone_number,
                    "partial_id": p.id[:5],
                }
                for p in sorted(c.store.patients.values(), key=lambda p: p.created, reverse=True)
                if p.phone_number == body.get("phone_number")
            ],
        }
    )


@routes.get(f"/api/v1/patient/{{pid:{UUID_RE}}}/")
async def patient(request: web.Request) -> web.Response:
    user = staff(request)
    return ok(ctx(request).shapes.patient_detail(patient_or_404(request), list(user.role.permissions)))


@routes.get(f"/api/v1/patient/{{pid:{UUID_RE}}}/get_appointments/")
async def appointments(request: web.Request) -> web.Response:
    user = staff(request)
    pat = patient_or_404(request)
    if not user.can("can_list_booking"):
        raise forbidden("You do not have permission to view user schedule")
    c = ctx(request)
    return page(request, [c.shapes.booking(b) for b in c.store.bookings_of([pat.id])])

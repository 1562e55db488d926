"""Conditions (diagnoses and symptoms, 16-19, 78-80, 97-98), medications (11-15, 74-77, 90, 95-96, 100, 102)
and medication statements, what the patient says they take (135-141).

Reading clinical data needs `can_view_clinical_data`: a volunteer gets 403 (90, 91).
"""

from __future__ import annotations

import uuid

from aiohttp import web

from sandbox.care.auth import staff
from sandbox.care.records import Condition, MedicationRequest, MedicationStatement, User
from sandbox.care.routes.encounters import by_newest, encounter_of, writable
from sandbox.care.routes.patients import patient_or_404
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
    pydantic_invalid,
)

routes = web.RouteTableDef()
P = f"/api/v1/patient/{{pid:{UUID_RE}}}"
DIAGNOSIS_CATEGORIES = ("encounter_diagnosis", "chronic_condition")
SYMPTOM = "problem_list_item"
STATEMENT_STATUSES = (
    "active",
    "on_hold",
    "completed",
    "stopped",
    "unknown",
    "entered_in_error",
    "not_taken",
    "intended",
)
INFORMATION_SOURCES = ("related_person", "practitioner", "patient")


def clinical_reader(request: web.Request) -> User:
    user = staff(request)
    if not user.can("can_view_clinical_data"):
        raise forbidden("Permission denied to user")
    return user


def _conditions(request: web.Request, categories: tuple[str, ...] | None) -> web.Response:
    clinical_reader(request)
    pat = patient_or_404(request)
    c = ctx(request)
    q = request.query
    wanted = tuple(x for x in q.get("category", "").split(",") if x) or categories
    found = [
        x
        for x in c.store.conditions.values()
        if x.patient_id == pat.id
        and (not wanted or x.category in wanted)
        and (not q.get("encounter") or x.encounter_id == q["encounter"])
    ]
    return page(request, [c.shapes.condition(x) for x in by_newest(found)])


@routes.get(f"{P}/diagnosis/")
async def diagnoses(request: web.Request) -> web.Response:
    return _conditions(request, None)  # every category, symptoms included, unless filtered (78 vs 97)


@routes.get(f"{P}/symptom/")
async def symptoms(request: web.Request) -> web.Response:
    return _conditions(request, (SYMPTOM,))


async def _create_condition(request: web.Request, allowed: tuple[str, ...]) -> web.Response:
    user = clinical_reader(request)
    pat = patient_or_404(request)
    body = await json_body(request)
    errors = missing_fields(body, ("clinical_status", "verification_status", "code", "encounter", "category"))
    if body.get("category") and body["category"] not in allowed:
        errors.append(enum_error("category", body["category"], allowed))
    if errors:
        raise pydantic_invalid(errors)
    enc = encounter_of(request, body, pat.id)
    writable(user, enc)
    onset = (body.get("onset") or {}).get("onset_datetime")
    cond = Condition(
        id=str(uuid.uuid4()),
        patient_id=pat.id,
        encounter_id=enc.id,
        category=body["category"],
        code=body["code"],
        created=utcnow(),
        clinical_status=body["clinical_status"],
        verification_status=body["verification_status"],
        severity=body.get("severity"),
        onset=onset,
        note=body.get("note"),
        created_by=user.id,
    )
    c = ctx(request)
    c.store.conditions[cond.id] = cond
    return ok(c.shapes.condition(cond))


@routes.post(f"{P}/diagnosis/")
async def create_diagnosis(request: web.Request) -> web.Response:
    return await _create_condition(request, DIAGNOSIS_CATEGORIES)


@routes.post(f"{P}/symptom/")
async def create_symptom(request: web.Request) -> web.Response:
    return await _create_condition(request, (SYMPTOM,))


# ---------------------------------------------------------------------- medications


@routes.get(f"{P}/medication/request/")
async def medication_requests(request: web.Request) -> web.Response:
    clinical_reader(request)
    pat = patient_or_404(request)
    c = ctx(request)
    q = request.query
    statuses = [s for s in q.get("status", "").split(",") if s]
    found = [
        m
        for m in c.store.medications.values()
        if m.patient_id == pat.id
        and (not statuses or m.status in statuses)
        and (not q.get("encounter") or m.encounter_id == q["encounter"])
    ]
    return page(request, [c.shapes.medication(m) for m in by_newest(found)])


@routes.post(f"{P}/medication/request/")
async def create_medication_request(request: web.Request) -> web.Response:
    user = clinical_reader(request)
    pat = patient_or_404(request)
    body = await json_body(request)
    errors = missing_fields(
        body, ("status", "intent", "category", "priority", "medication", "authored_on", "encounter")
    )
    if errors:
        raise pydantic_invalid(errors)
    enc = encounter_of(request, body, pat.id)
    writable(user, enc)
    authored = parse_dt(body["authored_on"])
    med = MedicationRequest(
        id=str(uuid.uuid4()),
        patient_id=pat.id,
        encounter_id=enc.id,
        medication=body["medication"],
        dosage_instruction=body.get("dosage_instruction") or [],
        authored_on=authored.isoformat() if authored else str(body["authored_on"]),
        created=utcnow(),
        status=body["status"],
        intent=body["intent"],
        category=body["category"],
        priority=body["priority"],
        note=body.get("note"),
        created_by=user.id,
    )
    c = ctx(request)
    c.store.medications[med.id] = med
    return ok(c.shapes.medication(med))


@routes.get(f"{P}/medication/request/{{mid:{UUID_RE}}}/")
async def medication_request(request: web.Request) -> web.Response:
    clinical_reader(request)
    pat = patient_or_404(request)
    c = ctx(request)
    med = c.store.medications.get(request.match_info["mid"])
    if med is None or med.patient_id != pat.id:
        raise not_found("MedicationRequest")
    return ok(c.shapes.medication(med))


@routes.get(f"{P}/medication/statement/")
async def medication_statements(request: web.Request) -> web.Response:
    clinical_reader(request)
    pat = patient_or_404(request)
    c = ctx(request)
    q = request.query
    statuses = [s for s in q.get("status", "").split(",") if s]
    found = [
        m
        for m in c.store.statements.values()
        if m.patient_id == pat.id
        and (not statuses or m.status in statuses)
        and (not q.get("encounter") or m.encounter_id == q["encounter"])
    ]
    return page(request, [c.shapes.statement(m) for m in by_newest(found)])  # newest first (138)


@routes.post(f"{P}/medication/statement/")
async def create_medication_statement(request: web.Request) -> web.Response:
    user = clinical_reader(request)
    pat = patient_or_404(request)
    body = await json_body(request)
    errors = missing_fields(body, ("status", "medication", "encounter"))
    if body.get("status") and body["status"] not in STATEMENT_STATUSES:
        errors.append(enum_error("status", body["status"], STATEMENT_STATUSES))
    if body.get("information_source") and body["information_source"] not in INFORMATION_SOURCES:
        errors.append(enum_error("information_source", body["information_source"], INFORMATION_SOURCES))
    if errors:
        raise pydantic_invalid(errors)
    enc = encounter_of(request, body, pat.id)  # unknown: 400 value_error (140)
    writable(user, enc)
    period = body.get("effective_period") or None
    st = MedicationStatement(
        id=str(uuid.uuid4()),
        patient_id=pat.id,
        encounter_id=enc.id,
        medication=body["medication"],
        status=body["status"],
        created=utcnow(),
        dosage_text=body.get("dosage_text"),
        effective_period=period,
        information_source=body.get("information_source"),
        reason=body.get("reason"),
        note=body.get("note"),
        created_by=user.id,
    )
    c = ctx(request)
    c.store.statements[st.id] = st
    return ok(c.shapes.statement(st))


@routes.get(f"{P}/medication/prescription/")
async def prescriptions(request: web.Request) -> web.Response:
    clinical_reader(request)
    patient_or_404(request)
    return page(request, [])  # none in the sandbox (77 is empty too)


@routes.get(f"{P}/observation/")
async def observations(request: web.Request) -> web.Response:
    clinical_reader(request)
    patient_or_404(request)
    return page(request, [])  # observations only come from coded questionnaires (84, 105)

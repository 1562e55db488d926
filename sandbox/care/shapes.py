"""Records -> CARE's JSON, key for key as in the recordings (the recording number is in each docstring).

List and detail shapes differ in CARE (lists leave out nested objects and permissions), and so do
they here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sandbox.care.constants import FACILITY_BILLING, NAME_IDENTIFIER, PHONE_IDENTIFIER
from sandbox.care.records import (
    Booking,
    Condition,
    Department,
    Encounter,
    Facility,
    MedicationRequest,
    MedicationStatement,
    Patient,
    Schedule,
    ServiceRequest,
    Slot,
    User,
)
from sandbox.care.store import Store

J = dict[str, Any]


def ts(moment: dt.datetime | None) -> str | None:
    """CARE's `created_date` style: UTC with microseconds and Z."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if moment else None


def utc_z(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Shapes:
    def __init__(self, store: Store) -> None:
        self.s = store

    # ------------------------------------------------------------------ users and organisations

    def user_base(self, u: User) -> J:
        """25: schedulable users."""
        return {
            "id": u.id,
            "first_name": u.first_name,
            "last_name": u.last_name,
            "phone_number": u.phone_number,
            "prefix": u.prefix,
            "suffix": "",
            "last_login": ts(u.last_login),
            "profile_picture_url": None,
            "user_type": u.role.user_type,
            "gender": u.gender,
            "username": u.username,
        }

    def user_spec(self, u: User | None, meta: bool = True) -> J | None:
        """`created_by`, `resource`, `requester`...: with `meta` in most places, without in patients."""
        if u is None:
            return None
        body: J = {"meta": {}} if meta else {}
        body.update(self.user_base(u))
        body.update({"mfa_enabled": u.mfa_enabled, "deleted": False})
        return body

    def by(self, user_id: str | None, meta: bool = True) -> J | None:
        return self.user_spec(self.s.users.get(user_id or ""), meta)

    def org(self, oid: str, name: str, org_type: str) -> J:
        return {
            "id": oid,
            "active": True,
            "org_type": org_type,
            "name": name,
            "description": None,
            "metadata": {},
            "level_cache": 0,
            "system_generated": False,
            "has_children": False,
            "parent": {},
        }

    def geo(self) -> J:
        return self.org(self.s.geo["id"], self.s.geo["name"], "govt")

    def dept(self, d: Department) -> J:
        """10 / 73: a facility organisation (department)."""
        admin = self.by(self._admin_id())
        return {
            "id": d.id,
            "active": True,
            "name": d.name,
            "description": None,
            "metadata": {},
            "org_type": "dept",
            "parent": {},
            "created_by": admin,
            "updated_by": admin,
            "system_generated": False,
            "level_cache": 0,
            "has_children": False,
        }

    def _admin_id(self) -> str | None:
        admin = self.s.user_by_name("admin")
        return admin.id if admin else None

    def current_user(self, u: User) -> J:
        """02."""
        body = self.user_spec(u, meta=False) or {}
        body.update(
            {
                "geo_organization": self.geo(),
                "created_by": self.by(self._admin_id()),
                "email": u.email,
                "flags": [],
                "is_superuser": u.superuser,
                "qualification": u.qualification,
                "doctor_experience_commenced_on": None,
                "doctor_medical_council_registration": None,
                "weekly_working_hours": None,
                "alt_phone_number": None,
                "date_of_birth": None,
                "verified": False,
                "pf_endpoint": None,
                "pf_p256dh": None,
                "pf_auth": None,
                "organizations": [self.geo(), self.org(u.role.id, u.role.name, "role")],
                "facilities": [{"id": f, "name": self.s.facilities[f].name} for f in u.facility_ids],
                "permissions": list(u.role.permissions),
            }
        )
        return body

    # ------------------------------------------------------------------ facilities

    def facility(self, f: Facility) -> J:
        """03."""
        return {
            "id": f.id,
            "name": f.name,
            "description": "",
            "longitude": "77.1734000000000000",
            "latitude": "31.1048000000000000",
            "pincode": f.pincode,
            "address": f.address,
            "phone_number": f.phone_number,
            "middleware_address": None,
            "facility_type": f.facility_type,
            "is_public": True,
            "features": [1],
            "cover_image_url": None,
            "read_cover_image_url": None,
            "geo_organization": self.geo(),
            "created_by": self.by(self._admin_id()),
            "invoice_number_expression": None,
        }

    def facility_detail(self, f: Facility, u: User) -> J:
        """85."""
        body: J = {
            "permissions": list(u.role.permissions),
            "root_org_permissions": [],
            "child_org_permissions": list(u.role.permissions),
        }
        body.update(self.facility(f))
        body.update(
            {
                "flags": [],
                "discount_codes": [],
                "discount_monetary_components": [],
                **FACILITY_BILLING,
                "patient_instance_identifier_configs": [NAME_IDENTIFIER, PHONE_IDENTIFIER],
                "patient_facility_identifier_configs": [],
            }
        )
        return body

    def facility_ref(self, fid: str, meta: bool = False) -> J:
        body: J = {"meta": {}} if meta else {}
        body.update({"id": fid, "name": self.s.facilities[fid].name})
        return body

    # ------------------------------------------------------------------ patients

    def patient(self, p: Patient) -> J:
        """65 / 66 / 67: list item."""
        return {
            "id": p.id,
            "name": p.name,
            "gender": p.gender,
            "phone_number": p.phone_number,
            "emergency_phone_number": p.emergency_phone_number,
            "address": p.address,
            "permanent_address": "",
            "pincode": p.pincode,
            "deceased_datetime": None,
            "blood_group": p.blood_group,
            "date_of_birth": p.date_of_birth,
            "year_of_birth": p.year_of_birth,
            "created_date": ts(p.created),
            "modified_date": ts(p.modified or p.created),
            "instance_tags": [],
            "facility_tags": [],
        }

    def patient_detail(self, p: Patient, permissions: list[str]) -> J:
        """70 / 92 (and 04, `permissions: []`, on create)."""
        body: J = {"permissions": permissions}
        body.update(self.patient(p))
        creator = self.by(p.created_by, meta=False)
        body.update(
            {
                "geo_organization": self.geo(),
                "created_by": creator,
                "updated_by": creator,
                "instance_identifiers": [
                    {"config": NAME_IDENTIFIER, "value": p.name},
                    {"config": PHONE_IDENTIFIER, "value": p.phone_number},
                ],
                "facility_identifiers": [],
            }
        )
        return body

    def patient_otp(self, p: Patient) -> J:
        """41 / 56: what a patient token sees (also `patient` inside appointments)."""
        return {
            "id": p.id,
            "name": p.name,
            "gender": p.gender,
            "phone_number": p.phone_number,
            "emergency_phone_number": p.emergency_phone_number,
            "address": p.address,
            "pincode": p.pincode,
            "date_of_birth": p.date_of_birth,
            "year_of_birth": p.year_of_birth,
            "geo_organization": {},
            "blood_group": p.blood_group,
        }

    # ------------------------------------------------------------------ encounters

    def encounter(self, e: Encounter) -> J:
        """71 (and `encounter` inside service requests, 81)."""
        period = {"start": e.start.isoformat()}
        if e.end:
            period["end"] = e.end.isoformat()
        moved = str(e.created.astimezone(dt.timezone.utc))
        return {
            "id": e.id,
            "status": e.status,
            "encounter_class": e.encounter_class,
            "period": period,
            "hospitalization": e.hospitalization,
            "priority": e.priority,
            "external_identifier": e.external_identifier,
            "discharge_summary_advice": None,
            "patient": self.patient(self.s.patients[e.patient_id]),
            "facility": self.facility_ref(e.facility_id),
            "status_history": {"history": [{"status": e.status, "moved_at": moved}]},
            "encounter_class_history": {"history": [{"status": e.encounter_class, "moved_at": moved}]},
            "created_date": ts(e.created),
            "modified_date": ts(e.created),
            "tags": [],
        }

    def encounter_detail(self, e: Encounter, permissions: list[str]) -> J:
        """73 / 94."""
        body: J = {"permissions": permissions}
        body.update(self.encounter(e))
        body["patient"] = self.patient_detail(self.s.patients[e.patient_id], [])
        creator = self.by(e.created_by)
        depts = [d for d in (self.s.department(i) for i in e.department_ids) if d is not None]
        body.update(
            {
                "appointment": {},
                "created_by": creator,
                "updated_by": creator,
                "organizations": [self.dept(d) for d in depts],
                "current_location": None,
                "location_history": [],
                "care_team": [],
            }
        )
        return body

    # ------------------------------------------------------------------ clinical

    def condition(self, c: Condition) -> J:
        """78 / 80 (16-19 on create)."""
        creator = self.by(c.created_by)
        return {
            "id": c.id,
            "clinical_status": c.clinical_status,
            "verification_status": c.verification_status,
            "category": c.category,
            "severity": c.severity,
            "code": c.code,
            "encounter": c.encounter_id,
            "onset": {"onset_datetime": c.onset} if c.onset else {},
            "abatement": {},
            "created_by": creator,
            "updated_by": creator,
            "note": c.note,
            "created_date": ts(c.created),
            "modified_date": ts(c.created),
        }

    def medication(self, m: MedicationRequest) -> J:
        """74 / 76 (11-15 on create)."""
        creator = self.by(m.created_by)
        return {
            "id": m.id,
            "status": m.status,
            "status_reason": None,
            "intent": m.intent,
            "category": m.category,
            "priority": m.priority,
            "do_not_perform": False,
            "medication": m.medication,
            "dosage_instruction": m.dosage_instruction,
            "authored_on": m.authored_on,
            "note": m.note,
            "dispense_status": None,
            "created_by": creator,
            "updated_by": creator,
            "created_date": ts(m.created),
            "modified_date": ts(m.created),
            "requested_product": None,
            "requester": None,
            "prescription": None,
            "encounter": m.encounter_id,
        }

    def statement(self, m: MedicationStatement) -> J:
        """136-139."""
        creator = self.by(m.created_by)
        return {
            "id": m.id,
            "status": m.status,
            "reason": m.reason,
            "medication": m.medication,
            "dosage_text": m.dosage_text,
            "effective_period": m.effective_period,
            "encounter": m.encounter_id,
            "information_source": m.information_source,
            "note": m.note,
            "created_by": creator,
            "updated_by": creator,
            "created_date": ts(m.created),
            "modified_date": ts(m.created),
        }

    def service_request(self, r: ServiceRequest) -> J:
        """81: list item."""
        return {
            "id": r.id,
            "title": r.title,
            "status": r.status,
            "intent": r.intent,
            "priority": r.priority,
            "category": r.category,
            "do_not_perform": False,
            "note": r.note,
            "body_site": None,
            "code": r.code,
            "occurance": r.occurance,
            "patient_instruction": r.patient_instruction,
            "created_date": ts(r.created),
            "modified_date": ts(r.created),
            "encounter": self.encounter(self.s.encounters[r.encounter_id]),
            "tags": [],
            "requester": self.by(r.requester_id),
        }

    def service_request_detail(self, r: ServiceRequest) -> J:
        """83 (21-22 on create)."""
        body = self.service_request(r)
        creator = self.by(r.created_by)
        body.update(
            {
                "locations": [],
                "healthcare_service": None,
                "activity_definition": None,
                "specimens": [],
                "created_by": creator,
                "updated_by": creator,
                "diagnostic_reports": [],
            }
        )
        return body

    # ------------------------------------------------------------------ scheduling

    def slot(self, s: Slot) -> J:
        """27 / 43."""
        return {
            "id": s.id,
            "availability": {"name": s.availability.name, "tokens_per_slot": s.availability.tokens_per_slot},
            "start_datetime": utc_z(s.start),
            "end_datetime": utc_z(s.end),
            "allocated": s.allocated,
        }

    def booking(self, b: Booking, detail: bool = False) -> J:
        """28 / 33 / 44 / 46; `detail` adds `associated_encounter` (31). A booking made with a patient
        token has no `booked_by` key and null `created_by`/`updated_by` (44)."""
        slot = self.s.slots[b.slot_id]
        staff = self.by(b.booked_by)
        body: J = {
            "id": b.id,
            "token_slot": self.slot(slot),
            "patient": self.patient_otp(self.s.patients[b.patient_id]),
            "booked_on": ts(b.booked_on),
        }
        if b.booked_by:
            body["booked_by"] = staff
        body.update(
            {
                "status": b.status,
                "note": b.note,
                "resource_type": "practitioner",
                "resource": self.by(slot.user_id),
                "facility": self.facility_ref(slot.facility_id, meta=True),
                "created_by": staff,
                "updated_by": staff,
                "created_date": ts(b.booked_on),
                "modified_date": ts(b.modified),
                "token": None,
                "tags": [],
                "charge_item": None,
            }
        )
        if detail:
            body["associated_encounter"] = {}
        return body

    def schedule(self, sc: Schedule) -> J:
        """24."""
        creator = self.by(sc.created_by)
        return {
            "id": sc.id,
            "name": sc.name,
            "valid_from": utc_z(sc.valid_from),
            "valid_to": utc_z(sc.valid_to),
            "availabilities": [
                {
                    "meta": {},
                    "id": a.id,
                    "name": a.name,
                    "slot_type": "appointment",
                    "slot_size_in_minutes": a.slot_minutes,
                    "tokens_per_slot": a.tokens_per_slot,
                    "create_tokens": False,
                    "reason": a.reason,
                    "availability": [
                        {"end_time": a.end.isoformat(), "start_time": a.start.isoformat(), "day_of_week": d}
                        for d in a.days
                    ],
                }
                for a in sc.availabilities
            ],
            "charge_item_definition": None,
            "revisit_allowed_days": None,
            "revisit_charge_item_definition": None,
            "created_by": creator,
            "updated_by": creator,
        }

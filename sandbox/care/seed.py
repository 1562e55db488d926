"""fixtures.yml -> a seeded Store. Relative times ("+3d 10:30") are anchored on `today`."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from sandbox.care.records import (
    Availability,
    Condition,
    Department,
    Encounter,
    Facility,
    MedicationRequest,
    MedicationStatement,
    Patient,
    Role,
    Schedule,
    ServiceRequest,
    User,
)
from sandbox.care.store import Store, stable_id, utcnow

SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
GTS = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"

# code: (frequency, period, period_unit, display)
TIMINGS = {
    "QD": (1, 1.0, "d", "Once a day"),
    "BID": (2, 1.0, "d", "Two times a day"),
    "TID": (3, 1.0, "d", "Three times a day"),
    "QID": (4, 1.0, "d", "Four times a day"),
    "Q6H": (1, 6.0, "h", "Every 6 hours"),
    "HS": (1, 1.0, "d", "At bedtime"),
    "WK": (1, 1.0, "wk", "Weekly"),
}
ROUTES = {
    "oral": ("26643006", "Oral route"),
    "inhaled": ("447694001", "Respiratory tract route"),
    "topical": ("6064005", "Topical route"),
}
UNITS = {"mg": "mg", "ug": "µg", "[iU]": "IU", "mL": "mL"}

_REL = re.compile(r"^\s*(today|[+-]\d+d)\s*(\d{1,2}:\d{2})?\s*$")


def when(text: Any, today: dt.date, tz: ZoneInfo) -> dt.datetime:
    """ "+3d 10:30" / "-20d" / "today 16:00" -> an aware datetime in the sandbox's timezone."""
    m = _REL.match(str(text))
    if not m:
        raise ValueError(f"not a relative time: {text!r} (use '+3d 10:30', '-2d' or 'today 09:00')")
    days = 0 if m.group(1) == "today" else int(m.group(1)[:-1])
    clock = dt.time.fromisoformat(m.group(2).zfill(5)) if m.group(2) else dt.time(9, 0)
    return dt.datetime.combine(today + dt.timedelta(days=days), clock, tz)


def iso_z(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def load(path: Path, today: dt.date | None = None) -> Store:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    tz = ZoneInfo(data.get("timezone", "Asia/Kolkata"))
    today = today or dt.datetime.now(tz).date()
    store = Store(tz=tz, today=today, password=str(data["password"]), otp_code=str(data["otp"]))
    store.geo = {"id": data["geo_organization"]["id"], "name": data["geo_organization"]["name"]}
    _Seeder(store, data).run()
    return store


class _Seeder:
    def __init__(self, store: Store, data: dict[str, Any]) -> None:
        self.s, self.d = store, data
        self.keys: dict[str, dict[str, str]] = {"patient": {}, "encounter": {}, "user": {}}

    def at(self, text: Any) -> dt.datetime:
        return when(text, self.s.today, self.s.tz)

    def run(self) -> None:
        for step in (
            self.roles,
            self.facilities,
            self.users,
            self.schedules,
            self.patients,
            self.encounters,
            self.conditions,
            self.medications,
            self.statements,
            self.service_requests,
            self.appointments,
        ):
            step()

    def roles(self) -> None:
        raw = self.d["roles"]
        for name, spec in raw.items():
            perms = list(spec.get("permissions") or raw.get(spec.get("like"), {}).get("permissions", []))
            perms = [p for p in perms if p not in set(spec.get("without", []))]
            self.s.roles[name] = Role(
                id=stable_id("role", name),
                name=name,
                user_type=spec["user_type"],
                permissions=perms,
                list_any_bookings=bool(spec.get("list_any_bookings")),
            )

    def facilities(self) -> None:
        for f in self.d["facilities"]:
            fac = Facility(
                id=f["id"],
                name=f["name"],
                facility_type=f.get("facility_type", ""),
                address=f.get("address", ""),
                phone_number=f.get("phone_number", ""),
                pincode=int(f.get("pincode", 0)),
            )
            fac.departments = [
                Department(id=dep.get("id") or stable_id("dept", dep["key"]), name=dep["name"], facility_id=fac.id)
                for dep in f.get("departments", [])
            ]
            self.s.facilities[fac.id] = fac

    def _dept(self, name: str | None) -> Department | None:
        return next((d for f in self.s.facilities.values() for d in f.departments if d.name == name), None)

    def users(self) -> None:
        for u in self.d["users"]:
            dept = self._dept(u.get("department"))
            user = User(
                id=u.get("id") or stable_id("user", u["username"]),
                username=u["username"],
                first_name=u["first_name"],
                last_name=u["last_name"],
                role=self.s.roles[u["role"]],
                prefix=u.get("prefix", ""),
                gender=u.get("gender"),
                phone_number=u.get("phone_number", ""),
                qualification=u.get("qualification"),
                superuser=bool(u.get("superuser")),
                facility_ids=[dept.facility_id] if dept else [],
                department_id=dept.id if dept else None,
                totp_secret=u.get("totp_secret"),
                backup_codes=[str(c) for c in u.get("backup_codes", [])],
                created=self.at("-365d"),
            )
            self.s.users[user.id] = user
            self.keys["user"][user.username] = user.id

    def schedules(self) -> None:
        for i, sc in enumerate(self.d.get("schedules", [])):
            user = self.s.users[self.keys["user"][sc["user"]]]
            sid = sc.get("id") or stable_id("schedule", sc["user"], i)
            avs = [
                Availability(
                    id=stable_id("availability", sid, j),
                    name=a["name"],
                    slot_minutes=int(a["slot_minutes"]),
                    tokens_per_slot=int(a["tokens_per_slot"]),
                    reason=a.get("reason") or None,
                    days=[int(x) for x in a["days"]],
                    start=dt.time.fromisoformat(a["start"]),
                    end=dt.time.fromisoformat(a["end"]),
                )
                for j, a in enumerate(sc["availabilities"])
            ]
            self.s.schedules[sid] = Schedule(
                id=sid,
                user_id=user.id,
                facility_id=user.facility_ids[0],
                name=sc["name"],
                valid_from=self.at(sc["valid_from"]),
                valid_to=self.at(sc["valid_to"]),
                availabilities=avs,
                created_by=user.id,
            )

    def patients(self) -> None:
        doctor = self.keys["user"].get("care-doctor")
        for p in self.d["patients"]:
            dob = p.get("date_of_birth")
            created = self.at(p.get("created", "-30d"))
            pat = Patient(
                id=p.get("id") or stable_id("patient", p["key"]),
                name=p["name"],
                gender=p["gender"],
                phone_number=p["phone_number"],
                created=created,
                modified=created,
                emergency_phone_number=p.get("emergency_phone_number", ""),
                address=p.get("address", ""),
                pincode=p.get("pincode"),
                date_of_birth=str(dob) if dob else None,
                year_of_birth=int(str(dob)[:4]) if dob else p.get("year_of_birth"),
                blood_group=p.get("blood_group", ""),
                created_by=doctor,
            )
            self.s.patients[pat.id] = pat
            self.keys["patient"][p["key"]] = pat.id

    def encounters(self) -> None:
        doctor = self.keys["user"].get("care-doctor")
        fac = next(iter(self.s.facilities))
        for e in self.d["encounters"]:
            dept = self._dept(e.get("department"))
            start = self.at(e["start"])
            enc = Encounter(
                id=e.get("id") or stable_id("encounter", e["key"]),
                patient_id=self.keys["patient"][e["patient"]],
                facility_id=e.get("facility", fac),
                status=e["status"],
                encounter_class=e["class"],
                start=start,
                end=self.at(e["end"]) if e.get("end") else None,
                created=start,
                external_identifier=e.get("identifier", ""),
                hospitalization=e.get("hospitalization", {}),
                department_ids=[dept.id] if dept else [],
                created_by=doctor,
            )
            self.s.encounters[enc.id] = enc
            self.keys["encounter"][e["key"]] = enc.id

    def _enc(self, key: str) -> Encounter:
        return self.s.encounters[self.keys["encounter"][key]]

    def conditions(self) -> None:
        for i, c in enumerate(self.d.get("conditions", [])):
            enc = self._enc(c["encounter"])
            onset = self.at(c["onset"]) if c.get("onset") else None
            cond = Condition(
                id=c.get("id") or stable_id("condition", i),
                patient_id=enc.patient_id,
                encounter_id=enc.id,
                category=c["category"],
                code={"code": str(c["code"]), "system": SNOMED, "display": c["display"]},
                created=enc.start + dt.timedelta(minutes=20 + i),
                clinical_status=c.get("clinical_status", "active"),
                verification_status=c.get("verification_status", "confirmed"),
                severity=c.get("severity"),
                onset=onset.isoformat() if onset else None,
                note=c.get("note"),
                created_by=enc.created_by,
            )
            self.s.conditions[cond.id] = cond

    def medications(self) -> None:
        for i, m in enumerate(self.d.get("medications", [])):
            enc = self._enc(m["encounter"])
            freq, period, unit, display = TIMINGS[m.get("timing", "QD")]
            route_code, route_display = ROUTES[m.get("route", "oral")]
            dose_unit = m.get("unit", "mg")
            dosage = {
                "text": m.get("text", ""),
                "route": {"code": route_code, "system": SNOMED, "display": route_display},
                "timing": {
                    "code": {"code": m.get("timing", "QD"), "system": GTS, "display": display},
                    "repeat": {
                        "period": period,
                        "frequency": freq,
                        "period_unit": unit,
                        "bounds_duration": {"unit": "d", "value": float(m.get("days", 1))},
                    },
                },
                "dose_and_rate": {
                    "type": "ordered",
                    "dose_quantity": {
                        "unit": {"code": dose_unit, "system": UCUM, "display": UNITS.get(dose_unit, dose_unit)},
                        "value": float(m["dose"]),
                    },
                },
                "as_needed_boolean": bool(m.get("as_needed", False)),
            }
            med = MedicationRequest(
                id=m.get("id") or stable_id("medication", i),
                patient_id=enc.patient_id,
                encounter_id=enc.id,
                medication={"code": str(m["code"]), "system": SNOMED, "display": m["name"]},
                dosage_instruction=[dosage],
                authored_on=iso_z(self.at(m["authored"])),
                created=self.at(m["authored"]) + dt.timedelta(seconds=i),
                status=m.get("status", "active"),
                note=m.get("note"),
                created_by=enc.created_by,
            )
            self.s.medications[med.id] = med

    def statements(self) -> None:
        for i, m in enumerate(self.d.get("medication_statements", [])):
            enc = self._enc(m["encounter"])
            period = {"start": self.at(m["start"]).isoformat()} if m.get("start") else None
            if period and m.get("end"):
                period["end"] = self.at(m["end"]).isoformat()
            st = MedicationStatement(
                id=m.get("id") or stable_id("statement", i),
                patient_id=enc.patient_id,
                encounter_id=enc.id,
                status=m.get("status", "active"),
                medication={"code": str(m["code"]), "system": SNOMED, "display": m["name"]},
                created=enc.start,
                dosage_text=m.get("dosage_text"),
                effective_period=period,
                information_source=m.get("information_source"),
                note=m.get("note"),
                created_by=enc.created_by,
            )
            self.s.statements[st.id] = st

    def service_requests(self) -> None:
        for i, r in enumerate(self.d.get("service_requests", [])):
            enc = self._enc(r["encounter"])
            sr = ServiceRequest(
                id=r.get("id") or stable_id("service_request", i),
                encounter_id=enc.id,
                facility_id=enc.facility_id,
                title=r["title"],
                category=r["category"],
                code={"code": str(r["code"]), "system": SNOMED, "display": r["display"]},
                created=enc.start + dt.timedelta(minutes=40 + i),
                status=r.get("status", "active"),
                priority=r.get("priority", "routine"),
                occurance=iso_z(self.at(r["occurrence"])) if r.get("occurrence") else None,
                note=r.get("note"),
                patient_instruction=r.get("patient_instruction"),
                requester_id=self.keys["user"].get(r.get("requester", "")),
                created_by=enc.created_by,
            )
            self.s.service_requests[sr.id] = sr

    def appointments(self) -> None:
        for i, a in enumerate(self.d.get("appointments", [])):
            user_id = self.keys["user"][a["practitioner"]]
            user = self.s.users[user_id]
            wanted = self.at(a["at"])
            slot = None
            for shift in range(8):  # the practitioner's next day that has this time
                day = wanted.date() + dt.timedelta(days=shift)
                slot = next(
                    (
                        s
                        for s in self.s.slots_for_day(user_id, user.facility_ids[0], day)
                        if s.start.astimezone(self.s.tz).time() == wanted.time()
                    ),
                    None,
                )
                if slot:
                    break
            if slot is None:
                raise ValueError(f"appointment {i}: {a['practitioner']} has no slot at {a['at']} within a week")
            booked_by = self.keys["user"][a["booked_by"]] if a.get("booked_by") else None
            # booked a while ago, in order (the OTP list shows bookings oldest first)
            booked_on = min(slot.start - dt.timedelta(days=2), utcnow() - dt.timedelta(hours=1))
            booked_on += dt.timedelta(seconds=i)
            self.s.book(
                slot,
                self.s.patients[self.keys["patient"][a["patient"]]],
                a.get("note", ""),
                booked_by,
                booking_id=a.get("id") or stable_id("booking", i),
                status=a.get("status", "booked"),
                now=booked_on,
            )

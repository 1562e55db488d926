"""actions/staff/permissions.py: what each CARE role is shown and offered."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from actions.staff import permissions as perms
from actions.staff.permissions import ALL, NONE, Access

ROOT = Path(__file__).resolve().parents[2]


def sandbox_roles() -> dict[str, list[str]]:
    """The sandbox's roles with their CARE permission lists (`like` / `without` resolved as seed.py does)."""
    raw = yaml.safe_load((ROOT / "sandbox" / "care" / "fixtures.yml").read_text())["roles"]
    out = {}
    for name, spec in raw.items():
        found = list(spec.get("permissions") or raw.get(spec.get("like"), {}).get("permissions", []))
        out[name] = [p for p in found if p not in set(spec.get("without", []))]
    return out


@pytest.mark.parametrize("role", sorted(sandbox_roles()))
def test_the_role_table_matches_the_roles_permissions(role):
    """The documented role table (used while CARE's answer is not at hand) says what the permissions say."""
    assert role in perms.ROLE_ACCESS
    assert perms.from_permissions(sandbox_roles()[role]) == perms.ROLE_ACCESS[role]


def test_a_volunteer_gets_no_clinical_data_and_no_booking():
    volunteer = perms.from_permissions(sandbox_roles()["Volunteer"])
    assert volunteer == NONE and volunteer.level == "basic"
    for section in ("records", "medications", "procedures", "appointments"):
        assert not volunteer.may_see(section)


def test_doctor_nurse_and_staff_get_everything():
    for role in ("Doctor", "Nurse", "Staff", "Facility Admin"):
        access = perms.from_permissions(sandbox_roles()[role])
        assert access == ALL and access.level == "full", role


def test_levels_of_custom_roles():
    assert Access(clinical=True, appointments=True, book=False).level == "clinical"
    assert Access(clinical=False, appointments=True, book=True).level == "desk"
    assert Access(clinical=False, appointments=True, book=False).may_see("appointments")
    assert not Access(clinical=False, appointments=True, book=False).may_see("medications")
    assert perms.from_permissions([], superuser=True) == ALL


def test_roles_by_name_unknown_roles_get_nothing_extra():
    assert perms.from_roles(["Volunteer"]) == NONE
    assert perms.from_roles(["Some Custom Role"]) == NONE
    assert perms.from_roles(["Volunteer", "Nurse"]) == ALL


def test_remembered_for_a_while(monkeypatch):
    perms.forget()
    perms.remember("u1", ALL)
    assert perms.remembered("u1") == ALL and perms.remembered("u2") is None
    now = perms.time.monotonic()
    monkeypatch.setattr(perms.time, "monotonic", lambda: now + perms.CACHE_SECONDS + 1)
    assert perms.remembered("u1") is None
    perms.forget()

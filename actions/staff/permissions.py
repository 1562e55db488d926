"""What a staff member is offered, from their CARE role: the one place that maps CARE permissions to what the
assistant shows and offers.

CARE itself refuses what a role may not do (every call uses the staff member's own token), but some things
CARE does hand to every role: a volunteer's token still reads a patient's blood group and visit (recordings
92 and 94 in shared/care-api/). So the assistant decides from the role's permissions what to show and offer,
and never offers what would only be refused.

| CARE permission          | what the assistant shows / offers                                           |
|--------------------------|-----------------------------------------------------------------------------|
| can_view_clinical_data   | blood group, visits, diagnoses, medications, records, procedures            |
| can_list_booking         | a patient's upcoming appointments                                           |
| can_write_booking        | booking, cancelling and moving appointments (buttons and offers)            |
| (any staff login)        | finding a patient, the name, age, gender and masked phone                   |

CARE's built-in roles (sandbox/care/fixtures.yml, recordings 02 and 90-95) then get:

| role                              | clinical | appointments | booking | level      |
|-----------------------------------|----------|--------------|---------|------------|
| Doctor, Nurse, Staff, Facility Admin, Administrator | yes | yes   | yes     | `full`     |
| Volunteer                         | no       | no           | no      | `basic`    |

A custom role gets what its permissions say (`clinical`: clinical data without booking, `desk`: booking
without clinical data). The permissions come from CARE's current-user endpoint (read at login, then at most
every few minutes); `ROLE_ACCESS` is only used while CARE's answer is not at hand.

`level` picks the role's texts in domain/staff.yml: `utter_staff_welcome_<level>`, `utter_staff_menu_<level>`,
and the value of the `staff_access` slot.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

CLINICAL = "can_view_clinical_data"
LIST_BOOKINGS = "can_list_booking"
WRITE_BOOKING = "can_write_booking"

FULL, CLINICAL_ONLY, DESK, BASIC = "full", "clinical", "desk", "basic"
LEVELS = (FULL, CLINICAL_ONLY, DESK, BASIC)
CACHE_SECONDS = 300


@dataclass(frozen=True)
class Access:
    clinical: bool = False  # blood group, visits, diagnoses, medications, procedures
    appointments: bool = False  # a patient's appointments
    book: bool = False  # book, cancel, move

    @property
    def level(self) -> str:
        if self.clinical:
            return FULL if self.book else CLINICAL_ONLY
        return DESK if self.book else BASIC

    def may_see(self, section: str) -> bool:
        """A section of actions/staff/summary.py: records, medications, procedures or appointments."""
        return self.appointments if section == "appointments" else self.clinical


NONE = Access()
ALL = Access(clinical=True, appointments=True, book=True)

# CARE's built-in roles, by the name CARE gives their role organisation (see the table above)
ROLE_ACCESS: dict[str, Access] = {
    "Doctor": ALL,
    "Nurse": ALL,
    "Staff": ALL,
    "Facility Admin": ALL,
    "Administrator": ALL,
    "Admin": ALL,
    "Volunteer": NONE,
}


def from_permissions(permissions: Iterable[str], superuser: bool = False) -> Access:
    if superuser:
        return ALL
    held = set(permissions)
    return Access(clinical=CLINICAL in held, appointments=LIST_BOOKINGS in held, book=WRITE_BOOKING in held)


def from_roles(roles: Iterable[str]) -> Access:
    """The union of the known roles' access; an unknown role alone gets nothing beyond finding patients."""
    found = [ROLE_ACCESS[r] for r in roles if r in ROLE_ACCESS]
    return Access(
        clinical=any(a.clinical for a in found),
        appointments=any(a.appointments for a in found),
        book=any(a.book for a in found),
    )


# ------------------------------------------------------------------ per staff member, from CARE

_cache: dict[str, tuple[float, Access]] = {}


def remember(user_id: str, access: Access) -> Access:
    if len(_cache) > 1000:
        _cache.clear()
    _cache[user_id] = (time.monotonic(), access)
    return access


def remembered(user_id: str) -> Access | None:
    hit = _cache.get(user_id)
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    return None


def forget() -> None:
    _cache.clear()

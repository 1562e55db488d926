"""Which menu a user sees: the patients' menu, or the staff menu that their CARE role allows.

Shared by the greeting, "menu" anywhere (actions/safety.py) and the staff part's menu inside its forms.
The staff level is the `staff_access` slot set at staff login (actions/staff/permissions.py).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

# written out so that every response sent is findable by name (tests/rasa/test_project.py)
STAFF_MENUS = {
    "full": dict(response="utter_staff_menu_full"),
    "clinical": dict(response="utter_staff_menu_clinical"),
    "desk": dict(response="utter_staff_menu_desk"),
    "basic": dict(response="utter_staff_menu_basic"),
}
PATIENT_MENU = dict(response="utter_menu")


def menu_for(tracker: Tracker, staff_access: str | None = None) -> dict[str, Any]:
    """The menu response for this user; a staff member of unknown level gets the smallest menu."""
    if tracker.get_slot("role") != "staff":
        return PATIENT_MENU
    return STAFF_MENUS.get(staff_access or tracker.get_slot("staff_access") or "", STAFF_MENUS["basic"])

"""The staff menu, as the staff member's CARE role allows (actions/staff/permissions.py): a volunteer gets no
booking, cancelling or moving buttons and no clinical offers.

`action_staff_menu` answers "menu" inside the staff forms (data/rules/staff.yml). The menu outside them is
chosen by actions/shared/menus.py from the `staff_access` slot this part sets at login.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.care.errors import CareError
from actions.shared.errors import explain
from actions.shared.menus import STAFF_MENUS
from actions.shared.who import ACCESS, ROLE, STAFF
from actions.staff.permissions import BASIC, CLINICAL_ONLY, DESK, FULL
from actions.staff.session import access_of, session_ended, staff_context

# The welcome of each level (domain/staff.yml), written out so that every response sent is findable by name
# (tests/rasa/test_project.py); the menus are shared with the greeting and "menu" (actions/shared/menus.py)
WELCOMES = {
    FULL: dict(response="utter_staff_welcome_full"),
    CLINICAL_ONLY: dict(response="utter_staff_welcome_clinical"),
    DESK: dict(response="utter_staff_welcome_desk"),
    BASIC: dict(response="utter_staff_welcome_basic"),
}


class ActionStaffMenu(Action):
    def name(self) -> str:
        return "action_staff_menu"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        ctx = staff_context(tracker.sender_id)
        if ctx is None:
            if tracker.get_slot(ROLE) == STAFF:
                return session_ended(dispatcher)  # it says how to log in again
            dispatcher.utter_message(response="utter_menu")
            return []
        try:
            access = await access_of(ctx)
        except CareError as exc:
            return explain(dispatcher, tracker, exc)
        dispatcher.utter_message(**STAFF_MENUS[access.level])
        return [SlotSet(ACCESS, access.level)]

"""`DialogueStateTracker.copy()` without replaying the conversation.

Rasa's processor copies the tracker before every action it runs (so that a rejected action leaves no trace),
and Rasa copies by making an empty tracker and replaying every event of the session on it: 6.5 % of a
worker's CPU in the benchmark. The state a replay rebuilds is a handful of attributes, each set only by
events (`Event.apply_to`); here they are copied from the tracker instead: the same event objects in a new
list, the slots as new slot objects with the same values, `latest_action` and `active_loop` as new objects
(the copy's actions may change them), the latest user and bot messages as the same event objects a replay
would point to. What a replay leaves at its default (model_id, sender_source) is left at its default here.
A tracker subclass, or slots that are not a plain dict, keep Rasa's replay.
"""

from __future__ import annotations

import copy
from typing import Any


def install() -> None:
    from rasa.shared.constants import DEFAULT_SENDER_ID
    from rasa.shared.core.trackers import DialogueStateTracker

    original = DialogueStateTracker.copy

    def copy_tracker(self: Any) -> Any:
        if type(self) is not DialogueStateTracker or type(self.slots) is not dict:
            return original(self)
        twin = DialogueStateTracker(
            self.sender_id or DEFAULT_SENDER_ID, None, self._max_event_history, is_rule_tracker=self.is_rule_tracker
        )
        twin.events.extend(self.events)
        twin.slots = {name: copy.copy(slot) for name, slot in self.slots.items()}
        twin._paused = self._paused
        twin.followup_action = self.followup_action
        twin.latest_action = None if self.latest_action is None else dict(self.latest_action)
        twin.latest_message = self.latest_message
        twin.latest_bot_utterance = self.latest_bot_utterance
        twin.active_loop = None if self.active_loop is None else copy.copy(self.active_loop)
        return twin

    copy_tracker.__wrapped__ = original  # type: ignore[attr-defined]
    DialogueStateTracker.copy = copy_tracker

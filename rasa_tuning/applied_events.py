"""`DialogueStateTracker.applied_events()` continued from its last answer instead of redone from the start.

Rasa works out a conversation's applied events (reverted turns and folded form steps taken out) by walking
every event of the session, and asks for them on every prediction (the rule states) and more: after the
rule states were remembered (`rule_states`), this walk was the biggest part left of them, 6 % of a
worker's CPU in the benchmark. Here each tracker remembers the events it walked and the answer; the next
call walks only the events added since, with Rasa's own step for each event, as long as:
- the tracker's events still start with the very same event objects (else: Rasa's full walk), and
- no new event starts a loop (form) not seen before: the walk folds the steps of every loop named anywhere
  in the conversation, so a new loop name can change how older events are read (else: Rasa's full walk).
The tracker store hands the memo on to the next message's tracker, like the rule states.
"""

from __future__ import annotations

import itertools
import operator
from typing import Any

MEMO_ATTR = "_care_applied_memo"
full_walks = 0  # how often Rasa's whole walk was needed (for tests and profiling)


def begins_with(sequence: Any, prefix: Any) -> bool:
    """Whether `sequence` starts with the very objects of `prefix` (identity, not equality): what every
    memo of a tracker's history checks before it is used again."""
    return len(prefix) <= len(sequence) and all(map(operator.is_, prefix, sequence))


class _Memo:
    __slots__ = ("applied", "events", "loop_names")

    def __init__(self, events: list, loop_names: frozenset, applied: list) -> None:
        self.events = events  # the tracker's events the answer was worked out from
        self.loop_names = loop_names
        self.applied = applied


def install() -> None:
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionReverted,
        ActiveLoop,
        Restarted,
        SessionStarted,
        UserUtteranceReverted,
        UserUttered,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    original = DialogueStateTracker.applied_events

    def step(tracker: Any, event: Any, loop_names: frozenset, applied: list) -> None:
        # the body of Rasa 3.6's loop in DialogueStateTracker.applied_events, for one event
        if isinstance(event, (Restarted, SessionStarted)):
            applied.clear()
        elif isinstance(event, ActionReverted):
            tracker._undo_till_previous(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            tracker._undo_till_previous(UserUttered, applied)
            tracker._undo_till_previous(ActionExecuted, applied)
        elif (
            isinstance(event, ActionExecuted)
            and event.action_name in loop_names
            and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)
        ):
            tracker._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)

    def applied_events(self: Any) -> list:
        events = self.events
        memo = self.__dict__.get(MEMO_ATTR)
        if memo is not None and begins_with(events, memo.events):
            new = list(itertools.islice(events, len(memo.events), None))
            if not any(isinstance(e, ActiveLoop) and e.name and e.name not in memo.loop_names for e in new):
                if new:
                    applied = list(memo.applied)
                    for event in new:
                        step(self, event, memo.loop_names, applied)
                    memo = self.__dict__[MEMO_ATTR] = _Memo(memo.events + new, memo.loop_names, applied)
                return list(memo.applied)
        global full_walks
        full_walks += 1
        applied = original(self)
        loop_names = frozenset(e.name for e in events if isinstance(e, ActiveLoop) and e.name)
        self.__dict__[MEMO_ATTR] = _Memo(list(events), loop_names, applied)
        return list(applied)

    applied_events.__wrapped__ = original  # type: ignore[attr-defined]
    DialogueStateTracker.applied_events = applied_events

"""The rule policy's per-prediction work, without redoing the whole conversation each time.

Found with py-spy on `bench/run.py --production` (a fifth of a Rasa process's CPU, growing with the session):
- Every prediction turns the tracker into its list of states (one per action so far) by replaying every
  applied event of the session on a fresh tracker, and a message takes two to four predictions. Here the
  states are remembered on the tracker object together with the events they came from; the next call on the
  same tracker (the same message's next prediction) replays only the events added since, as long as the
  applied events still start with the very same event objects. Anything else (a reverted turn, a form
  step that Rasa's `applied_events` folds away, another domain) starts from scratch, as Rasa does. Only
  Rasa's plain call is remembered (no rule-only turns hidden: what RulePolicy asks); every call hands out
  fresh copies, since the featurizer edits the states it gets.
  The tracker store hands the memo on to the next message's tracker of the same sender (whose events are
  the same objects, see `tracker_store`), so a message replays only its own events, not the whole session.
- `_get_possible_keys` matches every rule (130 here) against every state of the session, newest first; for
  a state further back than a rule is long, `_is_rule_applicable` answers True. Here only as many states as
  the longest rule of the lookup are matched, and only the rules whose last state names no action or the
  conversation's last action (any other fails on it at once): the same keys come out.
- For the same reason RulePolicy is handed only the newest states (longest rule + 1; the extra one keeps its
  "no rule matched" key, which is all states joined, from ever equalling a rule's key).
"""

from __future__ import annotations

import contextvars
from typing import Any

# constants only (cheap to import); _last_action runs on every rule-key lookup
from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET
from rasa.shared.nlu.constants import ACTION_NAME

from rasa_tuning.applied_events import begins_with

MEMO_ATTR = "_care_states_memo"
# How many of the newest states the rule policy's own call needs (None: all, as Rasa gives them). Set only
# around RulePolicy._prediction_states: its rules look no further back than the longest rule, and copying
# (and featurizing) every older state of a long session on each prediction was a quarter of the conversation.
_WINDOW: contextvars.ContextVar[int | None] = contextvars.ContextVar("care_states_window", default=None)


class _StatesMemo:
    def __init__(self, domain: Any, omit_unset_slots: bool, replay: Any) -> None:
        self.domain = domain
        self.omit_unset_slots = omit_unset_slots
        self.replay = replay  # a tracker with `events` applied, as Rasa's replay has it at that point
        self.events: list[Any] = []
        self.states: list[dict] = []  # the state before each ActionExecuted of `events`

    def fits(self, domain: Any, omit_unset_slots: bool, applied: list) -> bool:
        return domain is self.domain and omit_unset_slots == self.omit_unset_slots and begins_with(applied, self.events)


def _copy_state(state: dict) -> dict:
    # states are dicts of sub-state dicts holding strings, numbers and tuples: two levels are all there is
    return {key: dict(sub_state) for key, sub_state in state.items()}


def install() -> None:
    _patch_past_states()
    _patch_rule_keys()
    _patch_rule_prediction_states()


def _patch_past_states() -> None:
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.trackers import DialogueStateTracker

    original = DialogueStateTracker.past_states

    def past_states(
        self: Any,
        domain: Any,
        omit_unset_slots: bool = False,
        ignore_rule_only_turns: bool = False,
        rule_only_data: dict | None = None,
    ) -> list[dict]:
        if ignore_rule_only_turns:
            return original(self, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        applied = self.applied_events()
        memo = self.__dict__.get(MEMO_ATTR)
        if memo is None or not memo.fits(domain, omit_unset_slots, applied):
            memo = self.__dict__[MEMO_ATTR] = _StatesMemo(domain, omit_unset_slots, self.init_copy())
        replay = memo.replay

        def state() -> dict:
            # copied: some sub-states are the replay tracker's own dicts (`latest_action`), which live on here
            return _copy_state(domain._clean_state(domain.get_active_state(replay, omit_unset_slots=omit_unset_slots)))

        # Domain.states_for_tracker_history, from where the last call stopped
        for event in applied[len(memo.events) :]:
            if isinstance(event, ActionExecuted):
                memo.states.append(state())
            replay.update(event)
            memo.events.append(event)
        window = _WINDOW.get()
        older = memo.states if window is None else memo.states[max(len(memo.states) - (window - 1), 0) :]
        return [_copy_state(s) for s in older] + [state()]

    past_states.__wrapped__ = original  # type: ignore[attr-defined]
    DialogueStateTracker.past_states = past_states


def _last_action(rule_or_conversation_states: list) -> str | None:
    if not rule_or_conversation_states:
        return None
    name = (rule_or_conversation_states[-1].get(PREVIOUS_ACTION) or {}).get(ACTION_NAME)
    return name if isinstance(name, str) and name and name != SHOULD_NOT_BE_SET else None


def _rule_index(policy: Any, lookup: dict) -> tuple[int, dict[str | None, list[str]]]:
    """(the longest rule's length, the rule keys by the action their last state names, None: any)."""
    known = policy.__dict__.setdefault("_care_rule_index", {})
    entry = known.get(id(lookup))
    if entry is None or entry[0] is not lookup or entry[1] != len(lookup):
        longest = 0
        by_action: dict[str | None, list[str]] = {}
        for key in lookup:
            rule_states = policy._rule_key_to_state(key)
            longest = max(longest, len(rule_states))
            by_action.setdefault(_last_action(rule_states), []).append(key)
        entry = known[id(lookup)] = (lookup, len(lookup), longest, by_action)
    return entry[2], entry[3]


def _patch_rule_keys() -> None:
    from rasa.core.policies.rule_policy import RulePolicy

    original = RulePolicy._get_possible_keys

    def _get_possible_keys(self: Any, lookup: dict, states: list) -> set:
        longest, by_action = _rule_index(self, lookup)
        if not states:
            return original(self, lookup, states)
        # a rule whose last state names an action applies only where the conversation's last action is that one
        current = _last_action(states)
        possible = set(by_action.get(None, ()))
        if current is not None:
            possible.update(by_action.get(current, ()))
        window = states[-longest:] if 0 < longest < len(states) else states
        for turn, state in enumerate(reversed(window)):  # Rasa's loop, over fewer keys and turns
            possible = {key for key in possible if self._is_rule_applicable(key, turn, state)}
        return possible

    _get_possible_keys.__wrapped__ = original  # type: ignore[attr-defined]
    RulePolicy._get_possible_keys = _get_possible_keys


def _patch_rule_prediction_states() -> None:
    """RulePolicy's states: only the newest ones its rules can reach (see `_WINDOW`). The keys it matches
    come out the same (`_get_possible_keys` above looks at no more); only its debug log shows fewer states."""
    from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
    from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy

    original = RulePolicy._prediction_states

    def _prediction_states(
        self: Any,
        tracker: Any,
        domain: Any,
        use_text_for_last_user_input: bool = False,
        rule_only_data: dict | None = None,
    ) -> list:
        featurizer = self.featurizer
        lookups = [self.lookup.get(kind) for kind in (RULES, RULES_FOR_LOOP_UNHAPPY_PATH)]
        if (
            type(featurizer) is not MaxHistoryTrackerFeaturizer
            or featurizer.max_history is not None
            or any(lookup is None for lookup in lookups)
        ):
            return original(self, tracker, domain, use_text_for_last_user_input, rule_only_data)
        longest = max(_rule_index(self, lookup)[0] for lookup in lookups)
        token = _WINDOW.set(longest + 1)
        try:
            return original(self, tracker, domain, use_text_for_last_user_input, rule_only_data)
        finally:
            _WINDOW.reset(token)

    _prediction_states.__wrapped__ = original  # type: ignore[attr-defined]
    RulePolicy._prediction_states = _prediction_states

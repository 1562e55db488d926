"""Rasa made cheaper per message, fenced to the versions it was tested against.

`PATCHES` is the one list of what this package changes inside Rasa: each entry names the Rasa attributes it
replaces, the versions of Rasa, rasa-sdk and TensorFlow it was written and tested against, and the test that
compares it with Rasa's own result. `install()` puts all of them in place, or none:
- `RASA_TUNING=off` (settings.py): none, plain Rasa (one INFO line);
- an installed Rasa, rasa-sdk or TensorFlow that is not exactly a patch's version: none, plain Rasa, and ONE
  warning naming what differs. A patch reaches into Rasa's private code; on another version it could change
  what the assistant answers instead of only how fast, so it is not tried there.
The same decision (`tuned()`) makes the cached tracker store behave as Rasa's SQL store and leaves the
garbage collector alone (`heap`), so the switch means plain Rasa throughout.

Who calls `install()`: the NLU component package (`nlu_components/__init__.py`), which every Rasa process that
loads this assistant's model imports (`rasa run`, `rasa shell`, `rasa test`, and `rasa train` through
config.yml), and the WhatsApp channel when `rasa run` creates it. It is idempotent and thread-safe.

Not patches: `tracker_store.CachedSQLTrackerStore` and `lock_store.RedisLockStore` are classes named in the
endpoint files (Rasa's extension point for stores). Rules stay a patch: a RulePolicy subclass named in
config.yml would write its own name into every `ActionExecuted` event (`policy`), and the states it needs
come from `DialogueStateTracker.past_states`, which the featurizer calls on the tracker, not on the policy.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

# The versions every patch below was written for and tested with (`make test` on them). Another version of
# any of the three: re-run the patches' tests (README, Rasa patches) on it, then record it here.
TESTED_WITH: Mapping[str, str] = {"rasa": "3.6.21", "rasa-sdk": "3.6.2", "tensorflow": "2.12.0"}
# where TensorFlow's version is found: the wheel is published under other names on some platforms
_DISTRIBUTIONS: Mapping[str, tuple[str, ...]] = {
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tensorflow-intel"),
}


@dataclass(frozen=True)
class Patch:
    name: str
    installer: str  # "module:function" inside rasa_tuning
    targets: tuple[str, ...]  # "rasa module:Class.attribute" it replaces
    tested_with: Mapping[str, str]
    test: str  # the pytest node that compares it with Rasa's own result

    def install(self) -> None:
        module, function = self.installer.split(":")
        getattr(importlib.import_module(f"rasa_tuning.{module}"), function)()


_TRACKER = "rasa.shared.core.trackers:DialogueStateTracker"
_RULES = "rasa.core.policies.rule_policy:RulePolicy"

PATCHES: tuple[Patch, ...] = (
    Patch(
        "action_result_validation",
        "speedups:_patch_action_result_validation",
        ("rasa.core.actions.action:RemoteAction._validate_action_result",),
        TESTED_WITH,
        "tests/unit/test_rasa_speedups.py::test_validation_by_event_name_agrees_with_the_full_schema",
    ),
    Patch(
        "event_type_lookup",
        "speedups:_patch_event_type_lookup",
        ("rasa.shared.core.events:Event.resolve_by_type",),
        TESTED_WITH,
        "tests/unit/test_rasa_speedups.py::test_every_event_type_resolves_to_rasas_class",
    ),
    Patch(
        "nlu_parse_cache",
        "speedups:_patch_nlu_parse_cache",
        ("rasa.core.processor:MessageProcessor._parse_message_with_graph",),
        TESTED_WITH,
        "tests/rasa/test_nlu.py::test_repeated_texts_are_understood_once_and_alike",
    ),
    Patch(
        "graph_runner",
        "speedups:_patch_graph_runner",
        ("rasa.engine.runner.dask:DaskGraphRunner.run",),
        TESTED_WITH,
        "tests/rasa/test_nlu.py::test_graph_runs_in_a_fixed_order_give_what_dask_gives",
    ),
    Patch(
        "tf_predict",
        "speedups:_patch_tf_predict",
        ("rasa.utils.tensorflow.models:RasaModel._rasa_predict",),
        TESTED_WITH,
        "tests/rasa/test_nlu.py::test_diet_called_through_its_concrete_graph_understands_exactly_as_before",
    ),
    Patch(
        "slot_copy",
        "speedups:_patch_slot_copy",
        ("rasa.shared.core.slots:Slot.__copy__",),
        TESTED_WITH,
        "tests/unit/test_rasa_speedups.py::test_slots_copy_as_the_generic_copy_did",
    ),
    Patch(
        "rule_states",
        "rule_states:install",
        (f"{_TRACKER}.past_states", f"{_RULES}._get_possible_keys", f"{_RULES}._prediction_states"),
        TESTED_WITH,
        "tests/rasa/test_rule_states.py::test_every_test_story_is_predicted_as_rasa_predicts_it",
    ),
    Patch(
        "applied_events",
        "applied_events:install",
        (f"{_TRACKER}.applied_events",),
        TESTED_WITH,
        "tests/rasa/test_rule_states.py::test_applied_events_are_rasas_after_every_event",
    ),
    Patch(
        "tracker_copy",
        "tracker_copy:install",
        (f"{_TRACKER}.copy",),
        TESTED_WITH,
        "tests/rasa/test_tracker_copy.py::test_the_copy_is_what_rasas_replay_makes",
    ),
    Patch(
        "endpoint_sessions",
        "endpoint_sessions:install",
        ("rasa.utils.endpoints:EndpointConfig.request",),
        TESTED_WITH,
        "tests/unit/test_endpoint_sessions.py::test_calls_to_one_endpoint_share_a_connection_and_get_the_same_answers",
    ),
    Patch(
        "sparse_features",
        "sparse_features:install",
        ("rasa.shared.nlu.training_data.features:Features._combine_sparse_features",),
        TESTED_WITH,
        "tests/rasa/test_nlu.py::test_sparse_features_joined_directly_understand_exactly_as_before",
    ),
)

_lock = threading.Lock()
_decision: bool | None = None  # None: not decided yet in this process; True: tuned; False: plain Rasa
_installed = False


def installed_versions(names: tuple[str, ...]) -> dict[str, str | None]:
    """The installed version of each distribution (None: not installed), read from the package metadata."""
    found: dict[str, str | None] = {}
    for name in names:
        found[name] = None
        for distribution in _DISTRIBUTIONS.get(name, (name,)):
            try:
                found[name] = importlib.metadata.version(distribution)
                break
            except importlib.metadata.PackageNotFoundError:
                continue
    return found


def mismatches(patches: tuple[Patch, ...] = PATCHES, versions: Mapping[str, str | None] | None = None) -> list[str]:
    """What differs from the versions the patches were tested with, one phrase per distribution and version
    ("rasa 3.6.20 is installed, all patches tested with 3.6.21"); empty: all fit."""
    names = tuple(dict.fromkeys(name for patch in patches for name in patch.tested_with))
    have = installed_versions(names) if versions is None else versions
    by_need: dict[tuple[str, str], list[str]] = {}
    for patch in patches:
        for name, wanted in patch.tested_with.items():
            if have.get(name) != wanted:
                by_need.setdefault((name, wanted), []).append(patch.name)
    found = []
    for (name, wanted), names_ in by_need.items():
        installed = f"{name} {have.get(name)} is installed" if have.get(name) else f"{name} is not installed"
        which = "all patches" if len(names_) == len(patches) else ", ".join(names_)
        found.append(f"{installed}, {which} tested with {wanted}")
    return found


def _switched_on() -> bool:
    from settings import get_settings

    return get_settings().rasa_tuning


def tuned(switched_on: Callable[[], bool] | None = None, versions: Mapping[str, str | None] | None = None) -> bool:
    """Whether this process runs the patches: decided once (the switch, then the versions), logged once."""
    global _decision
    if _decision is not None:
        return _decision
    with _lock:
        if _decision is None:
            _decision = _decide(switched_on or _switched_on, versions)
    return _decision


def _decide(switched_on: Callable[[], bool], versions: Mapping[str, str | None] | None) -> bool:
    if not switched_on():
        logger.info("RASA_TUNING=off: running plain Rasa, no rasa_tuning patch installed")
        return False
    problems = mismatches(PATCHES, versions)
    if problems:
        logger.warning(
            "rasa_tuning: running plain Rasa, no patch installed: %s (README, Rasa patches)", "; ".join(problems)
        )
        return False
    return True


def install(switched_on: Callable[[], bool] | None = None, versions: Mapping[str, str | None] | None = None) -> bool:
    """Install every patch of `PATCHES` once, or none (see the module docstring). True: they are in place.
    `switched_on` and `versions` stand in for the setting and the installed versions (tests)."""
    global _installed
    if _installed or not tuned(switched_on, versions):
        return _installed
    with _lock:
        if not _installed:
            for patch in PATCHES:
                patch.install()
            _installed = True
    return True


def resolve(target: str) -> Any:
    """What a target ("module:Class.attribute") is set to on the class itself now (None: not set there)."""
    module, path = target.split(":")
    owner: Any = importlib.import_module(module)
    *owners, attribute = path.split(".")
    for name in owners:
        owner = getattr(owner, name)
    return vars(owner).get(attribute)

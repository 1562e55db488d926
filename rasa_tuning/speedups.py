"""Per-message costs of Rasa 3.6 that need not be paid on every message, removed without changing behaviour.

Found with py-spy on `bench/run.py` (one Rasa process, the conversation thread):
- `RemoteAction._validate_action_result` calls `jsonschema.validate()`, which first checks the (constant)
  response schema against the draft 2020-12 metaschema, then builds a validator: 40 % of the thread's CPU
  when new senders start sessions (`action_session_start` is a custom action). Here the schema is checked
  and the validator built once; every action result is still validated, with Rasa's own error message.
- `Event.resolve_by_type` walks every Event subclass (with `inspect.isabstract` on each) for each event
  read back from the tracker store. Here the type names are looked up in a table built once; an unknown
  name falls back to Rasa's walk (a subclass imported later is still found).
- NLU (tokenizer, featurizers, DIET, synonyms, fallback) is a pure function of the message text for a
  given model, and WhatsApp traffic repeats itself: button and list replies, "hi", "menu", "yes". Parses are
  kept per model in a bounded LRU (`NLU_CACHE_SIZE` texts) and handed out as deep copies. Only the plain
  parse is cached (`only_output_properties`), and never one that carries per-message fields.
- Every graph run (NLU once per message, the policies once per prediction) prunes the graph schema, builds
  a dask graph and lets dask order it, for a graph that never changes: 8 % of the thread. Here the order
  is worked out once per set of targets and the nodes are called in it, as dask's synchronous scheduler
  calls them (same nodes, same inputs, one at a time).
- A tracker is made several times per message (read from the store, copied for every action, replayed for
  the policies), and each time `copy.copy()`s every slot of the domain through `__reduce_ex__`: 44 slots cost
  0.2 ms per tracker. Slots get a `__copy__` doing what that path does for them (a new object of the same
  class with the same attributes); a subclass with its own copying or pickling hooks keeps the generic path.
- The rule policy's states and rule matching (`rule_states`), the applied events (`applied_events`), the
  tracker's copy before each action (`tracker_copy`), the action server's connections (`endpoint_sessions`)
  and the joining of sparse NLU features (`sparse_features`): see those modules.

`install()` is `rasa_tuning.install()`: every patch of `rasa_tuning.PATCHES` (these and the modules above),
fenced to the versions they were tested with and switched off by `RASA_TUNING=off`. It is idempotent.
"""

from __future__ import annotations

import collections
import copy
import functools
from typing import Any

import rasa_tuning

NLU_CACHE_SIZE = 4096  # texts; a parse is a few kB, so at most ~10-20 MB
_PER_MESSAGE_KEYS = ("message_id", "metadata")  # would differ between two messages with the same text


def install() -> bool:
    """All patches or none: `rasa_tuning.install()` (the name callers of this module have always used)."""
    return rasa_tuning.install()


@functools.cache
def _response_validator() -> Any:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # what jsonschema.validate() did on every call, now once
    return cls(schema)


@functools.cache
def _event_validators() -> tuple[Any, dict[str, Any]] | None:
    """(a validator for the response without its events, {event name: validator for that event}), or None
    if Rasa's schema is not shaped as expected (then every result takes the full validation).

    Rasa's event schema is a `oneOf` of 23 event schemas told apart by `event: {const: name}`; checking an
    event against all of them (and building an error for each of the 22 that fail) made validation a tenth
    of the CPU of a new sender's first message. An event can only pass the schema of its own name, so it is
    checked against that one (with the common part): the same verdict."""
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    events = schema.get("properties", {}).get("events", {})
    event = events.get("items", {})
    cls = validator_for(schema)
    common = {key: value for key, value in event.items() if key != "oneOf"}
    by_name: dict[str, Any] = {}
    for option in event.get("oneOf", []):
        name = option.get("properties", {}).get("event", {}).get("const")
        if not isinstance(name, str) or name in by_name or set(events) != {"type", "items"}:
            return None
        by_name[name] = cls({"allOf": [common, option]})
    if not by_name or common.get("required") != ["event"]:
        return None
    without_events = {**schema, "properties": {**schema["properties"], "events": {"type": "array"}}}
    return cls(without_events), by_name


def _passes_by_event_name(result: Any) -> bool:
    validators = _event_validators()
    if validators is None or not validators[0].is_valid(result):
        return False
    by_name = validators[1]
    for event in result.get("events", []):
        name = event.get("event") if isinstance(event, dict) else None
        validator = by_name.get(name) if isinstance(name, str) else None
        if validator is None or not validator.is_valid(event):
            return False
    return True


def validate_action_result(result: dict) -> bool:
    """Same contract as Rasa's `_validate_action_result`: True, or `ValidationError` with Rasa's hint."""
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

    if _passes_by_event_name(result):
        return True
    # refused (or unsure): the full schema decides and words the error, as Rasa's validate() does
    error = best_match(_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the Action "
        f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    assert isinstance(error, ValidationError)
    raise error


def _patch_action_result_validation() -> None:
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = lambda self, result: validate_action_result(result)


def _patch_event_type_lookup() -> None:
    from rasa.shared.core.events import Event

    original = Event.resolve_by_type  # a staticmethod: the plain function
    table: dict[str, type[Event]] = {}

    def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
        if not table:
            from rasa.shared.utils.common import all_subclasses

            for cls in all_subclasses(Event):
                table.setdefault(cls.type_name, cls)  # Rasa returns the first match: keep the first
        found = table.get(type_name)
        if found is not None:
            return found
        return original(type_name, default)

    Event.resolve_by_type = staticmethod(resolve_by_type)


class ParseCache:
    """A bounded LRU of NLU parse results, keyed by the message text."""

    def __init__(self, size: int = NLU_CACHE_SIZE) -> None:
        self.size = size
        self._items: collections.OrderedDict[str, dict] = collections.OrderedDict()
        self.hits = self.misses = 0

    def get(self, text: str) -> dict | None:
        found = self._items.get(text)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self._items.move_to_end(text)
        return copy.deepcopy(found)  # callers (Rasa's processor) may change what they get

    def put(self, text: str, parse_data: dict) -> None:
        if any(key in parse_data for key in _PER_MESSAGE_KEYS):
            return
        self._items[text] = copy.deepcopy(parse_data)
        self._items.move_to_end(text)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


def _patch_nlu_parse_cache() -> None:
    from rasa.core.processor import MessageProcessor

    original = MessageProcessor._parse_message_with_graph

    def parse_with_cache(self: Any, message: Any, tracker: Any, only_output_properties: bool = True) -> dict:
        text = message.text
        if not only_output_properties or not isinstance(text, str):
            return original(self, message, tracker, only_output_properties)
        # one cache per processor, i.e. per loaded model: a new model starts empty
        cache = self.__dict__.get("_nlu_parse_cache")
        if cache is None:
            cache = self.__dict__["_nlu_parse_cache"] = ParseCache()
        parse_data = cache.get(text)
        if parse_data is None:
            parse_data = original(self, message, tracker, only_output_properties)
            cache.put(text, parse_data)
        return parse_data

    MessageProcessor._parse_message_with_graph = parse_with_cache


def _patch_graph_runner() -> None:
    from graphlib import TopologicalSorter

    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    original = DaskGraphRunner.run

    def plan(
        self: Any, targets: tuple[str, ...]
    ) -> tuple[list[tuple[str, Any, tuple[str, ...]]], frozenset, frozenset]:
        """([(node name, node, names of what it needs)] in an order where every need comes first,
        the node names, the inputs the nodes need from outside)."""
        plans = self.__dict__.setdefault("_run_plans", {})
        if targets not in plans:
            schema = self._graph_schema.minimal_graph_schema(list(targets))
            needs = {name: tuple(node.needs.values()) for name, node in schema.nodes.items()}
            order = TopologicalSorter({name: set(deps) for name, deps in needs.items()}).static_order()
            steps = [(name, self._instantiated_nodes[name], needs[name]) for name in order if name in needs]
            external = frozenset(dep for deps in needs.values() for dep in deps if dep not in needs)
            plans[targets] = (steps, frozenset(needs), external)
        return plans[targets]

    def run(self: Any, inputs: dict | None = None, targets: list | None = None) -> dict:
        run_targets = tuple(targets if targets else self._graph_schema.target_names)
        steps, node_names, external = plan(self, run_targets)
        inputs = inputs or {}
        # what dask would do differently (a missing input, an input named like a node): Rasa's own run
        if not external <= inputs.keys() or not node_names.isdisjoint(inputs):
            return original(self, inputs, list(run_targets))
        values: dict[str, Any] = {name: (name, value) for name, value in inputs.items()}  # as dask passes them
        try:
            for name, node, deps in steps:
                values[name] = node(*(values[dep] for dep in deps))
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e
        return dict(values[target] for target in run_targets)

    run.__wrapped__ = original  # type: ignore[attr-defined]
    DaskGraphRunner.run = run


def _patch_slot_copy() -> None:
    from rasa.shared.core.slots import Slot

    generic_hooks = ("__reduce_ex__", "__reduce__", "__getstate__", "__setstate__", "__slots__")

    @functools.cache
    def plain(cls: type) -> bool:
        return all(getattr(cls, hook, None) is getattr(object, hook, None) for hook in generic_hooks)

    def __copy__(self: Any) -> Any:
        cls: Any = type(self)
        if not plain(cls):
            reductor: Any = copy._reconstruct  # type: ignore[attr-defined]  # what copy.copy() would have done
            return reductor(self, None, *self.__reduce_ex__(4))
        new = cls.__new__(cls)
        new.__dict__.update(self.__dict__)
        return new

    Slot.__copy__ = __copy__


def _patch_tf_predict() -> None:
    """DIET's prediction through its traced graph without the per-call wrapping of `tf.function`.

    Rasa traces `predict_step` once with a signature taken from the first batch, then calls the
    `tf.function` for every message, which matches the arguments against the signature and converts and
    casts every array again: as much CPU as a third of the graph's own run. Here the one concrete function
    the signature allows is called with the arrays as tensors. A batch that does not fit the signature (any
    other dtype, rank or feature size) takes Rasa's own call, which raises as before."""
    import tensorflow as tf
    from rasa.shared.constants import DIAGNOSTIC_DATA
    from rasa.utils.tensorflow import models

    original = models.RasaModel._rasa_predict

    def fits(batch_in: Any, specs: list) -> bool:
        if len(batch_in) != len(specs):
            return False
        for array, spec in zip(batch_in, specs, strict=True):
            shape = getattr(array, "shape", None)
            if (
                shape is None
                or len(shape) != spec.shape.rank
                or array.dtype != spec.dtype.as_numpy_dtype
                or (spec.shape.rank > 1 and shape[-1] != spec.shape[-1])
            ):
                return False
        return True

    def _rasa_predict(self: Any, batch_in: Any) -> dict:
        function = self._tf_predict_step
        if function is None or self._run_eagerly or not self.prepared_for_prediction:
            return original(self, batch_in)  # traces on the first call, as before
        made = self.__dict__.get("_concrete_predict")
        if made is None or made[0] is not function:
            concrete = function.get_concrete_function()
            made = self._concrete_predict = (
                function,
                concrete,
                tf.nest.flatten(concrete.structured_input_signature[0]),
            )
        _, concrete, specs = made
        if not fits(batch_in, specs):
            return original(self, batch_in)
        self._training = False
        flat = concrete._call_flat([tf.constant(array) for array in batch_in], concrete.captured_inputs)
        outputs = models.tf_utils.sync_to_numpy_or_python_type(flat)
        if DIAGNOSTIC_DATA in outputs:
            outputs[DIAGNOSTIC_DATA] = self._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
        return outputs

    _rasa_predict.__wrapped__ = original  # type: ignore[attr-defined]
    models.RasaModel._rasa_predict = _rasa_predict

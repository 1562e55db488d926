"""Keep Python's full garbage collections off the loaded model.

A loaded Rasa model (TensorFlow, the graph components, the domain) is a heap of millions of objects that
live as long as the model. Python's oldest-generation collection walks all of them each time, and it runs
again and again while new conversations fill the tracker and NLU caches: measured in the benchmark, each
full collection took 0.3-0.6 s (a pause for every message in flight) and they added up to 7-11 % of a Rasa
worker's CPU. `gc.freeze()` after the model is loaded moves those objects out of the collector's sight;
everything made later is collected as before, and frozen objects are still freed by reference counting.

After the freeze, the youngest generation is collected every 20,000 new container objects instead of every
700: a message makes thousands, most of them freed by reference counting within the message; collecting
every 700 moved the ones still in use into the older generations, which then had to be walked again. It is
set only after the model is loaded: during loading, cyclic garbage (TensorFlow's) must go as fast as before,
or the process's peak memory grows (+100 MB measured when set before).

With both, a Rasa worker's CPU in the collector went from ~4.5 s to ~0.5 s in a 20 s run at 120 msg/s
(gc callbacks, thread CPU time): about 8 % of the worker's CPU.

When another model is loaded (Rasa's `PUT /model`), the previous freeze is undone and collected first, so
the old model's reference cycles are not kept forever.

Where rasa_tuning runs plain Rasa (`RASA_TUNING=off`, other versions), the collector is left as Python sets it.
"""

from __future__ import annotations

import gc
import logging
import weakref
from collections.abc import Callable
from typing import Any

import rasa_tuning

logger = logging.getLogger(__name__)

YOUNG_THRESHOLD = 20_000  # objects; Python's default is 700


def _nothing_frozen() -> Any:
    return None


# the processor (Rasa makes one per loaded model) the current freeze was made for, weakly held
_frozen_for: Callable[[], Any] = _nothing_frozen


def freeze_loaded_model(agent: Any) -> bool:
    """Freeze the heap once the agent has a model; again (after a collection) when its model changed.
    Returns True when it froze now."""
    global _frozen_for
    processor = getattr(agent, "processor", None)
    if processor is None or processor is _frozen_for() or not rasa_tuning.tuned():
        return False
    gc.unfreeze()  # a previous model's objects become collectable again
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    _frozen_for = weakref.ref(processor)
    logger.info(
        "heap frozen after loading the model (%d objects kept out of garbage collection)", gc.get_freeze_count()
    )
    return True

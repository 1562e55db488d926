"""Shared fixtures. The whole stack (sandbox CARE, simulator, actions, Rasa) starts once per test session,
on free ports, only when a test asks for it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# CARE_TEST_MODEL lets a developer test a model trained elsewhere (e.g. --out /tmp/mine) without touching models/
MODEL = Path(os.environ.get("CARE_TEST_MODEL") or ROOT / "models" / "care.tar.gz")


@pytest.fixture(scope="session")
def model_path() -> Path:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: `make test` trains it first (make train)")
    return MODEL


@pytest.fixture(scope="session")
def stack(model_path, tmp_path_factory):
    from sandbox.stack import Ports, Stack

    run_dir = tmp_path_factory.mktemp("stack")
    s = Stack(ports=Ports.free(), run_dir=run_dir, model=model_path)
    s.start(timeout=240)
    yield s
    s.stop()

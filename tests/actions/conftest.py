"""Fixtures of the action tests, patient and staff alike (the helpers are in harness.py):

    def test_...(care_env, domain):   # the actions pointed at the sandbox CARE, with a fresh session store

One sandbox CARE serves every module; a module that changes CARE's schedules (books, cancels, moves) is
marked `pytest.mark.own_care_sandbox` and gets one of its own, so the others see the seed data in any order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.actions.harness import ROOT, SandboxProcess, forget_caches, use_care


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "own_care_sandbox: the module changes CARE's data: a sandbox CARE of its own")


@pytest.fixture(scope="session")
def _shared_care_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    proc = SandboxProcess(tmp_path_factory.mktemp("care-sandbox")).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def care_sandbox(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """The sandbox CARE as a real process: the session's, or the module's own when it is marked so."""
    if request.node.get_closest_marker("own_care_sandbox") is None:
        yield request.getfixturevalue("_shared_care_sandbox")
        return
    proc = SandboxProcess(tmp_path_factory.mktemp(f"care-sandbox-{request.module.__name__}")).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain")).as_dict()


@pytest.fixture
def care_env(care_sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxProcess]:
    """Actions configured like the stack: the sandbox CARE, the care-admin service account, a fresh session
    store, every cache forgotten."""
    use_care(monkeypatch, care_sandbox.url, tmp_path)
    yield care_sandbox
    forget_caches()

"""Fixtures of the CARE contract tests: the sandbox as a real subprocess on a free port."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from care_support import RECORDINGS, SandboxProcess

PASSWORD = "Ohcn@123"


@pytest.fixture(scope="session")
def care_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """One sandbox for the whole session; tests that change state pick their own free slots."""
    proc = SandboxProcess(tmp_path_factory.mktemp("care-sandbox")).start()
    yield proc
    proc.stop()


@pytest.fixture
def start_sandbox(tmp_path) -> Iterator[Callable[..., SandboxProcess]]:
    """Start extra sandboxes (own settings, same port to simulate a restart); all stopped afterwards."""
    started: list[SandboxProcess] = []

    def start(env: dict[str, str] | None = None, port: int | None = None) -> SandboxProcess:
        proc = SandboxProcess(tmp_path, env=env, port=port).start()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture(scope="session")
def recordings_dir():
    assert RECORDINGS.is_dir(), f"CARE recordings not found at {RECORDINGS} (tests/fixtures/README.md)"
    return RECORDINGS

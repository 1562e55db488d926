"""rasa_tuning installs all its patches or none: only on the versions they were tested with, never with
RASA_TUNING=off, once per process, and in every Rasa process that loads the model (run, shell, test)."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

import rasa_tuning
import settings as settings_module
from rasa_tuning import heap
from settings import Settings

ROOT = Path(__file__).resolve().parents[2]
FENCED = ("rasa", "rasa-sdk", "tensorflow")


@pytest.fixture
def undecided(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A process that has not decided yet, whose patches only say that they were installed."""
    installed: list[str] = []
    monkeypatch.setattr(rasa_tuning, "_decision", None)
    monkeypatch.setattr(rasa_tuning, "_installed", False)
    monkeypatch.setattr(rasa_tuning.Patch, "install", lambda patch: installed.append(patch.name))
    return installed


def _tested() -> dict[str, str | None]:
    return dict(rasa_tuning.TESTED_WITH)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "rasa_tuning" and r.levelno >= logging.WARNING]


def test_every_patch_names_its_versions_and_they_are_the_pinned_ones():
    assert len(rasa_tuning.PATCHES) >= 10
    for patch in rasa_tuning.PATCHES:
        assert set(patch.tested_with) == set(FENCED), patch.name
        assert patch.targets, patch.name
    # requirements pin what the patches were tested with: a bump of either must be a bump of both
    assert rasa_tuning.mismatches() == []
    constraints = (ROOT / "constraints.txt").read_text()
    for name, version in rasa_tuning.TESTED_WITH.items():
        assert re.search(rf"^{re.escape(name)}=={re.escape(version)}$", constraints, re.M), name


@pytest.mark.parametrize("name", FENCED)
def test_another_version_installs_nothing_and_says_so_once(undecided, caplog, name):
    versions = {**_tested(), name: "9.9.9"}
    with caplog.at_level(logging.INFO, logger="rasa_tuning"):
        assert rasa_tuning.install(lambda: True, versions) is False
        assert rasa_tuning.install(lambda: True, versions) is False
        assert rasa_tuning.tuned() is False
    assert undecided == []
    [warning] = _warnings(caplog)
    assert "plain Rasa" in warning and f"{name} 9.9.9 is installed" in warning
    assert f"tested with {rasa_tuning.TESTED_WITH[name]}" in warning


def test_a_missing_distribution_installs_nothing(undecided, caplog):
    with caplog.at_level(logging.WARNING, logger="rasa_tuning"):
        assert rasa_tuning.install(lambda: True, {**_tested(), "tensorflow": None}) is False
    assert undecided == []
    assert ["tensorflow is not installed" in w for w in _warnings(caplog)] == [True]


def test_a_mismatch_of_one_patch_names_that_patch():
    first, *rest = rasa_tuning.PATCHES
    patches = (dataclasses.replace(first, tested_with={**first.tested_with, "rasa": "3.6.20"}), *rest)
    [problem] = rasa_tuning.mismatches(patches, _tested())
    assert problem == f"rasa 3.6.21 is installed, {first.name} tested with 3.6.20"


def test_switched_off_installs_nothing_and_warns_of_nothing(undecided, caplog, monkeypatch):
    monkeypatch.setenv("RASA_TUNING", "off")
    settings_module.get_settings.cache_clear()
    try:
        with caplog.at_level(logging.INFO, logger="rasa_tuning"):
            assert rasa_tuning.install() is False  # the setting, read by settings.py
    finally:
        settings_module.get_settings.cache_clear()
    assert undecided == []
    assert _warnings(caplog) == []
    assert [r.getMessage() for r in caplog.records if r.name == "rasa_tuning"] == [
        "RASA_TUNING=off: running plain Rasa, no rasa_tuning patch installed"
    ]


def test_the_switch_is_read_from_the_environment():
    assert Settings.from_env({}).rasa_tuning is True
    assert Settings.from_env({"RASA_TUNING": "on"}).rasa_tuning is True
    assert Settings.from_env({"RASA_TUNING": " OFF "}).rasa_tuning is False
    assert Settings.from_env({"RASA_TUNING": "0"}).rasa_tuning is False
    with pytest.raises(ValueError, match="RASA_TUNING must be on or off"):
        Settings.from_env({"RASA_TUNING": "fast"})


def test_install_is_idempotent(undecided, caplog):
    with caplog.at_level(logging.INFO, logger="rasa_tuning"):
        assert rasa_tuning.install(lambda: True, _tested()) is True
        assert rasa_tuning.install(lambda: True, _tested()) is True
        assert rasa_tuning.install(lambda: False, {}) is True  # decided once per process
    assert undecided == [patch.name for patch in rasa_tuning.PATCHES]
    assert [r for r in caplog.records if r.name == "rasa_tuning"] == []


def test_installs_from_many_threads_install_once(undecided):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(lambda _: rasa_tuning.install(lambda: True, _tested()), range(32)))
    assert undecided == [patch.name for patch in rasa_tuning.PATCHES]


def test_every_patch_names_a_test_that_exists_and_the_readme_lists_it():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Rasa patches", 1)[1].split("\n## ", 1)[0]
    for patch in rasa_tuning.PATCHES:
        path, name = patch.test.split("::")
        assert re.search(rf"^(async )?def {name}\(", (ROOT / path).read_text(), re.M), patch.test
        assert f"`{patch.name}`" in section and name in section, patch.name
    for version in rasa_tuning.TESTED_WITH.values():
        assert version in section


# --- what plain Rasa means for the rest of rasa_tuning --------------------------------------------------------


def test_plain_rasa_leaves_the_garbage_collector_alone(monkeypatch):
    class Processor:
        pass

    monkeypatch.setattr(rasa_tuning, "_decision", False)
    monkeypatch.setattr(heap, "_frozen_for", lambda: None)
    threshold = gc.get_threshold()
    assert heap.freeze_loaded_model(SimpleNamespace(processor=Processor())) is False
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == threshold


def test_plain_rasa_makes_the_cached_tracker_store_rasas_sql_store(monkeypatch, tmp_path):
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered

    from rasa_tuning.tracker_store import CachedSQLTrackerStore

    monkeypatch.setattr(rasa_tuning, "_decision", False)
    domain = Domain.empty()
    store = CachedSQLTrackerStore(domain=domain, dialect="sqlite", db=str(tmp_path / "plain.db"))
    rasas = SQLTrackerStore(domain=domain, dialect="sqlite", db=str(tmp_path / "plain.db"))
    assert store.tuned is False

    async def conversation() -> tuple[list, list]:
        tracker = await store.get_or_create_tracker("someone")
        for event in (
            ActionExecuted("action_session_start"),
            SessionStarted(),
            ActionExecuted("action_listen"),
            UserUttered("hi", intent={"name": "greet", "confidence": 1.0}),
        ):
            tracker.update(event)
        await store.save(tracker)
        ours, theirs = await store.retrieve("someone"), await rasas.retrieve("someone")
        return [e.as_dict() for e in ours.events], [e.as_dict() for e in theirs.events]

    ours, theirs = asyncio.run(conversation())
    assert ours == theirs and len(ours) == 3  # the latest session, from SessionStarted on
    assert store.hits == store.misses == 0 and not store._sessions  # nothing read or kept by the cache
    with store.engine.connect() as conn:  # Rasa's own journal and indexes
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() != "wal"
        assert "ix_events_sender_id_id" not in {i["name"] for i in store.engine.dialect.get_indexes(conn, "events")}


# --- in a fresh Rasa process, as `rasa run`, `rasa shell` and `rasa test` are --------------------------------

_PROCESS = """
import json, logging, sys
logging.basicConfig(stream=sys.stdout, level=logging.WARNING, format="LOG %(levelname)s %(name)s %(message)s")
logging.getLogger("rasa_tuning").setLevel(logging.INFO)
import rasa_tuning
if sys.argv[1] != "tested":
    installed = rasa_tuning.installed_versions
    rasa_tuning.installed_versions = lambda names: {**installed(names), "rasa": sys.argv[1]}
targets = [target for patch in rasa_tuning.PATCHES for target in patch.targets]
before = {target: rasa_tuning.resolve(target) for target in targets}
# how Rasa loads a model's graph (run, shell, test): the component named in config.yml is imported by name
from rasa.engine.graph import GraphSchema
node = {"needs": {}, "uses": sys.argv[2], "constructor_name": "create", "fn": "process", "config": {},
        "resource": None}
GraphSchema.from_dict({"nodes": {"safety": node}})
loaded = {target: rasa_tuning.resolve(target) for target in targets}
import rasa_tuning.speedups  # what rasa run's channel calls as well (from_credentials): nothing more
rasa_tuning.speedups.install()
again = {target: rasa_tuning.resolve(target) for target in targets}
print("RESULT " + json.dumps({"changed": [t for t in targets if loaded[t] is not before[t]],
                              "changed_again": [t for t in targets if again[t] is not loaded[t]],
                              "tuned": rasa_tuning.tuned()}))
"""


def _components() -> list[str]:
    """The project's own components config.yml names: what every process that loads the model imports."""
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    return [step["name"] for step in config["pipeline"] if step["name"].startswith("nlu_components.")]


def _fresh_process(rasa_version: str, tuning: str | None) -> tuple[dict[str, Any], list[str]]:
    env = {k: v for k, v in os.environ.items() if k != "RASA_TUNING"}
    if tuning is not None:
        env["RASA_TUNING"] = tuning
    [component] = _components()
    run = subprocess.run(
        [sys.executable, "-c", _PROCESS, rasa_version, component],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    [result] = [line[len("RESULT ") :] for line in run.stdout.splitlines() if line.startswith("RESULT ")]
    logs = [line for line in run.stdout.splitlines() if line.startswith("LOG ") and " rasa_tuning " in line]
    return json.loads(result), logs


@pytest.fixture(scope="module")
def all_targets() -> list[str]:
    return [target for patch in rasa_tuning.PATCHES for target in patch.targets]


def test_loading_the_model_installs_every_patch_once(all_targets):
    result, logs = _fresh_process("tested", None)
    assert result == {"changed": all_targets, "changed_again": [], "tuned": True}
    assert logs == []


def test_loading_the_model_on_another_rasa_installs_nothing_with_one_warning():
    result, logs = _fresh_process("3.6.20", None)
    assert result == {"changed": [], "changed_again": [], "tuned": False}
    [warning] = logs
    assert warning.startswith(
        "LOG WARNING rasa_tuning rasa_tuning: running plain Rasa, no patch installed: "
        "rasa 3.6.20 is installed, all patches tested with 3.6.21"
    )


def test_loading_the_model_switched_off_installs_nothing():
    result, logs = _fresh_process("tested", "off")
    assert result == {"changed": [], "changed_again": [], "tuned": False}
    assert logs == ["LOG INFO rasa_tuning RASA_TUNING=off: running plain Rasa, no rasa_tuning patch installed"]


@pytest.fixture(autouse=True)
def _no_leftover_freeze() -> Iterator[None]:
    yield
    gc.unfreeze()

"""The Rasa project itself: data validates, test stories pass, installed packages are consistent."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(args: list[str], timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_rasa_data_validates_without_warnings():
    r = run([str(BIN / "rasa"), "data", "validate", "--domain", "domain", "--fail-on-warnings"])
    # library deprecation noise aside, Rasa's own warnings (unused intents, conflicts) fail the run
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "No story structure conflicts found" in r.stdout + r.stderr


def test_rasa_test_stories_pass(model_path, tmp_path):
    r = run([str(BIN / "rasa"), "test", "core", "--model", str(model_path), "--stories", "tests/stories",
             "--fail-on-prediction-errors", "--out", str(tmp_path)])
    failed = (tmp_path / "failed_test_stories.yml")
    detail = failed.read_text() if failed.exists() else r.stdout[-3000:] + r.stderr[-3000:]
    assert r.returncode == 0, detail
    assert "None of the test stories failed" in failed.read_text()


def test_pip_check_is_clean():
    r = run([sys.executable, "-m", "pip", "check"])
    assert r.returncode == 0, r.stdout + r.stderr

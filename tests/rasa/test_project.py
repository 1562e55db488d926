"""The Rasa project itself: data validates, test stories pass, installed packages are consistent."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(args: list[str], timeout: int = 600, tmp: Path | None = None) -> subprocess.CompletedProcess:
    # endpoints.yml takes these from the environment; unset, Rasa would create a file named "${...}"
    env = {
        **os.environ,
        "TRACKER_SQLITE_PATH": str((tmp or Path("/tmp")) / "rasa-test-tracker.db"),
        "ACTION_ENDPOINT_URL": "http://127.0.0.1:5055/webhook",
    }
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)


def _responses_dispatched_by_actions() -> set[str]:
    """utter_* names that custom actions send with dispatcher.utter_message(response=...)."""
    found: set[str] = set()
    for path in (ROOT / "actions").rglob("*.py"):
        found |= set(re.findall(r"""response\s*=\s*["'](utter_\w+)["']""", path.read_text()))
    return found


def test_rasa_data_validates_cleanly():
    r = run([str(BIN / "rasa"), "data", "validate", "--domain", "domain"])
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    assert "No story structure conflicts found" in out
    # Rasa warns about responses that no story or rule names; those sent by custom actions are fine,
    # any other warning of Rasa's (unused intent, unknown action, missing examples) is not.
    by_actions = _responses_dispatched_by_actions()
    warnings = re.findall(r"UserWarning: (.*)", out)
    unexpected = [
        w
        for w in warnings
        if not (m := re.match(r"The utterance '(\w+)' is not used in any story or rule", w))
        or m.group(1) not in by_actions
    ]
    assert unexpected == [], unexpected


def test_every_response_an_action_sends_exists_in_the_domain():
    from rasa.shared.core.domain import Domain

    domain = Domain.load(str(ROOT / "domain"))
    missing = sorted(_responses_dispatched_by_actions() - set(domain.responses))
    assert missing == []


def test_rasa_test_stories_pass(model_path, tmp_path):
    r = run(
        [
            str(BIN / "rasa"),
            "test",
            "core",
            "--model",
            str(model_path),
            "--stories",
            "tests/stories",
            "--fail-on-prediction-errors",
            "--out",
            str(tmp_path),
        ],
        tmp=tmp_path,
    )
    failed = tmp_path / "failed_test_stories.yml"
    detail = failed.read_text() if failed.exists() else r.stdout[-3000:] + r.stderr[-3000:]
    assert r.returncode == 0, detail
    assert "None of the test stories failed" in failed.read_text()


def test_pip_check_is_clean():
    r = run([sys.executable, "-m", "pip", "check"])
    assert r.returncode == 0, r.stdout + r.stderr

"""The product docs describe the tree as it is: every file or folder they name exists, they carry no issue
numbers, and nothing in the repository points outside it (a clone anywhere is complete)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["README.md", "CONTRIBUTING.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
# a repository path in backticks or a table cell: `actions/shared/clock.py`, `tests/fixtures/`, `Makefile`
_PATH = re.compile(r"`((?:\.?[\w.-]+/)+[\w.*-]*|[\w-]+\.(?:py|yml|yaml|md|toml|txt|sh|json|js|ini))`")
# written with a placeholder or a glob, or made at run time: not a file of the tree
_NOT_A_TREE_PATH = re.compile(r"[*<>{}]|^\.run/|^models/|^\.venv|^results/|^/|^http|^[A-Z][a-z]+/[A-Z]")  # Asia/Kolkata
TRACKED = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.splitlines()


def named_paths(doc: str) -> set[str]:
    return {m.group(1) for m in _PATH.finditer((ROOT / doc).read_text()) if not _NOT_A_TREE_PATH.search(m.group(1))}


def exists(path: str) -> bool:
    """A path from the root, or one written relative to a folder named just before it (a table row under
    `actions/` says `patient/`): then it must end a tracked path."""
    if (ROOT / path).exists():
        return True
    tail = "/" + path.rstrip("/")
    return any(("/" + f).endswith(tail) or ("/" + f).find(tail + "/") >= 0 for f in TRACKED)


def test_the_docs_name_paths_at_all():
    # if the pattern stopped matching, the test below would pass on anything
    assert {"actions/shared/", "Makefile"} & named_paths("README.md") or len(named_paths("README.md")) > 10


@pytest.mark.parametrize("doc", DOCS)
def test_every_path_a_doc_names_exists(doc):
    assert sorted(p for p in named_paths(doc) if not exists(p)) == []


@pytest.mark.parametrize("doc", DOCS)
def test_no_issue_numbers_in_product_docs(doc):
    found = re.findall(r"\b[Ii]ssues? ?#?\d+\b|(?<![\w&])#\d{1,4}\b", (ROOT / doc).read_text())
    assert found == []


def test_nothing_in_the_repository_points_outside_it():
    tracked = subprocess.run(
        ["git", "grep", "-n", "-I", "--", r"\.\./shared"], cwd=ROOT, capture_output=True, text=True
    ).stdout.splitlines()
    assert [line for line in tracked if not line.startswith("tests/unit/test_docs_match_tree.py")] == []

"""The import graph of actions/: no cycles, and the patient and staff parts never import each other.

Read from the source (module-level and function-level imports alike), so an import hidden inside a
function to dodge a cycle counts as the cycle it is.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "actions"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """The actions modules that `name` imports (a package import counts as its __init__, a name imported from
    a package as the submodule when one has that name)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(MODULES[name].read_text())):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found |= {t for t in targets if t in MODULES and t != name}
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def cycle_from(start: str) -> list[str] | None:
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return path[path.index(node) :] + [node]
        path.append(node)
        for nxt in sorted(GRAPH[node]):
            found = visit(nxt)
            if found:
                return found
        path.pop()
        return None

    return visit(start)


def test_the_graph_is_read_from_real_imports():
    # the reader must see what is there, or the tests below could never fail
    assert "actions.shared.clock" in GRAPH["actions.patient.sections"]
    assert "actions.staff.summary" in GRAPH["actions.requests"]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_part_of_an_import_cycle(name):
    assert cycle_from(name) is None, " -> ".join(cycle_from(name) or [])


def test_a_cycle_would_be_found():
    GRAPH["actions.shared.clock"].add("actions.patient.sections")
    try:
        assert cycle_from("actions.patient.sections")
    finally:
        GRAPH["actions.shared.clock"].discard("actions.patient.sections")


@pytest.mark.parametrize("part, other", [("actions.patient", "actions.staff"), ("actions.staff", "actions.patient")])
def test_the_patient_and_staff_parts_never_import_each_other(part, other):
    crossing = {n: sorted(i for i in GRAPH[n] if i.startswith(other)) for n in GRAPH if n.startswith(part + ".")}
    assert not {n: i for n, i in crossing.items() if i}


@pytest.mark.parametrize("lower", ["actions.shared", "actions.care", "actions.scheduling"])
def test_the_shared_layers_import_neither_part(lower):
    up = ("actions.patient", "actions.staff", "actions.requests", "actions.pending")
    leaks = {n: sorted(i for i in GRAPH[n] if i.startswith(up)) for n in GRAPH if n.startswith(lower)}
    assert not {n: i for n, i in leaks.items() if i}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_each_module_imports_on_its_own(name):
    """In a fresh interpreter, as the action server or a test may import it first."""
    result = subprocess.run(
        [sys.executable, "-c", f"import importlib; importlib.import_module({name!r})"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_every_module_is_importable_in_this_process():
    for name in MODULES:
        importlib.import_module(name)

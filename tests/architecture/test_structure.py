"""The architecture is enforced, not hoped for: import contracts, no cycles, no hidden imports,
clinical knowledge loaded only by the composition root."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from tests.support.paths import ROOT

PACKAGES = ("clinical", "fhir_mappings", "grading", "protocols", "cards", "timeline", "cds_service")
# Functions that read clinical knowledge from disk; only start-up code may call them.
LOADERS = {"load_code_lists", "load_grading_config", "load_protocol", "load"}
START_UP = {"cds_service/bootstrap.py", "cds_service/cli/main.py", "cds_service/cli/protocols.py",
            "protocols/registry.py", "protocols/loader.py"}


def python_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_import_contracts_hold() -> None:
    """The layer and forbidden-import contracts of pyproject.toml ([tool.importlinter]), run as a developer
    runs them (``lint-imports``)."""
    result = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache", "--config",
                             str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root) & modules)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child) & modules))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles_between_modules() -> None:
    """Module-level imports form a DAG (a package's ``__init__`` re-exporting its modules is not a cycle
    unless a module imports its own package back)."""
    graph = grimp.build_graph(*PACKAGES)
    modules = {m for m in graph.modules if m.split(".")[0] in PACKAGES}
    assert _cycles(graph, modules) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for name in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(name)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.y", imported="a.z")
    assert _cycles(graph, {"a.x", "a.y", "a.z"}) == [["a.x", "a.y"]]


def test_no_imports_hidden_inside_functions() -> None:
    hidden = []
    for path in python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                hidden += [f"{path.relative_to(ROOT)}:{n.lineno}" for n in ast.walk(node)
                           if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert hidden == []


def test_clinical_knowledge_is_loaded_only_at_start_up() -> None:
    """Code lists, grading data and protocols are read by the composition root (and the CLI's own
    commands), never on a request: no other module calls a loader."""
    callers = []
    for path in python_files():
        rel = path.relative_to(ROOT).as_posix()
        if rel in START_UP:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name in LOADERS - {"load"} or (name == "load" and isinstance(node.func, ast.Attribute)
                                                  and getattr(node.func.value, "id", "") == "ProtocolRegistry"):
                    callers.append(f"{rel}:{node.lineno} {name}")
    assert callers == []


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_says_what_it_owns(package: str) -> None:
    """Each package and sub-package opens with a docstring."""
    for init in (ROOT / package).rglob("__init__.py"):
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), init.relative_to(ROOT)

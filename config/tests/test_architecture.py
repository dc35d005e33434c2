"""The architecture is enforced, not described: the layer contract of pyproject.toml (each package
imports only the packages below it, README "Architecture") and no import cycle between files,
imports inside functions included."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import grimp
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def first_party_packages() -> list[str]:
    return sorted(
        path.name
        for path in ROOT.iterdir()
        if (path / "__init__.py").exists() and path.name not in {"bench"}
    )


def _is_production(module: str) -> bool:
    parts = module.split(".")
    return "tests" not in parts and "migrations" not in parts


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one node (Tarjan, iterative): each is a set of
    modules that import one another, directly or around a loop."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph.get(root, ())))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_the_cycle_finder_finds_loops_and_nothing_else():
    assert cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
    assert cycles({"a": ["b"], "b": ["c"], "c": []}) == []


def test_every_first_party_package_is_in_the_layer_contract():
    contract = (ROOT / "pyproject.toml").read_text()
    missing = [name for name in first_party_packages() if f'"{name}"' not in contract]
    assert not missing, f"add them to [tool.importlinter] in pyproject.toml: {missing}"


def test_each_package_imports_only_the_packages_below_it():
    run = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_no_two_files_import_each_other_even_through_others_or_inside_functions():
    graph = grimp.build_graph(*first_party_packages(), cache_dir=None)
    production = [module for module in graph.modules if _is_production(module)]
    imports = {
        module: [
            imported
            for imported in graph.find_modules_directly_imported_by(module)
            if _is_production(imported)
        ]
        for module in production
    }
    assert cycles(imports) == []

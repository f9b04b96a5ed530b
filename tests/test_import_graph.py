"""No import cycles between the project's modules.

Every module of the project packages is parsed with `ast` (nothing is imported). An edge A -> B
is any import of B in A, at module level or inside a function (a function-level import still
ties the two modules together: it only defers the cycle to the first call). `from a.b import c`
is an import of `a.b.c` when `c` is a module, else of `a.b`; importing `a.b.c` also runs the
packages `a` and `a.b`, except that a module's own enclosing packages are not counted: a
submodule always runs its package first, and a package that re-exports its submodules is not a
cycle of design. The test fails on any cycle and names it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ingestion", "expectations", "publication", "orchestration", "demo", "benchmarks")
# Cycles known and left to their owner, each with the reason. The test fails when one of them is
# gone too, so the entry is removed with the cycle.
KNOWN_CYCLES: set[tuple[str, ...]] = set()


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _with_parents(name: str, modules: dict[str, Path]) -> set[str]:
    """`name` and the packages above it that are project modules."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)} & set(modules)


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found |= _with_parents(alias.name, modules)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            found |= _with_parents(source, modules)
            for alias in node.names:
                if f"{source}.{alias.name}" in modules:
                    found.add(f"{source}.{alias.name}")
    found.discard(name)
    return found - _with_parents(package if not is_package else name.rpartition(".")[0], modules)


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_cycle_in(component, graph) for component in components]


def _cycle_in(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    """A concrete path start -> ... -> start inside one strongly connected component."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v] & members):
            if w == start:
                return paths[v] + [start]
            if w not in paths:
                paths[w] = paths[v] + [w]
                queue.append(w)
    return component


def test_the_graph_sees_imports_inside_functions_and_modules_imported_from_packages(tmp_path):
    modules = project_modules()
    assert "ingestion.core.warehouse" in modules and "tests" not in modules
    graph = import_graph()
    # `from ingestion.core.raw_archive import ...` inside a function of the CLI's service-index commands
    assert "ingestion.core.raw_archive" in graph["orchestration.cli.service_index"]
    src = tmp_path / "m.py"
    src.write_text("from ingestion import core\nfrom ingestion.core import warehouse\n", encoding="utf-8")
    found = imports_of("demo.m", src, modules)
    assert {"ingestion", "ingestion.core", "ingestion.core.warehouse"} <= found


def test_find_cycles_reports_a_cycle():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    cycles = find_cycles(import_graph())
    found = {tuple(sorted(set(c))): c for c in cycles}
    new = [c for key, c in found.items() if key not in KNOWN_CYCLES]
    assert not new, "import cycles (module -> imported module ...):\n" + "\n".join(" -> ".join(c) for c in new)
    gone = sorted(KNOWN_CYCLES - set(found))
    assert not gone, f"cycles listed in KNOWN_CYCLES no longer exist, remove them: {gone}"


def test_expectations_import_only_ingestion_modules_that_do_not_import_expectations():
    graph = import_graph()

    def reaches_expectations(module: str, seen: set[str]) -> bool:
        for dep in graph[module]:
            if dep.startswith("expectations") or (dep not in seen and not seen.add(dep)
                                                   and reaches_expectations(dep, seen)):
                return True
        return False

    for module, deps in graph.items():
        if module.startswith("expectations"):
            for dep in sorted(d for d in deps if d.startswith("ingestion")):
                assert not reaches_expectations(dep, set()), f"{module} imports {dep}, which imports expectations back"

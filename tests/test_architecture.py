"""The house rules the layout keeps: no import circles between cjkv_phon modules, no module over 450 lines.

Imports are read with ``ast`` from every module's source (nothing is imported), including imports
inside functions and methods: a lazy import still ties two modules together, it only hides the circle
until run time. Relative imports are resolved against the importing module's package; ``import a.b``
depends on ``a.b``; ``from a import b`` depends on ``a`` (it reads ``a``'s namespace, so ``a/__init__.py``
runs and must not need the importer) and also on ``a.b`` when that is a module. A package's
``__init__`` counts as a module of the package's name. A module does not depend on its parent
packages merely by living in them (Python runs those ``__init__`` files first, but that is the
package layout, not a dependency the code chose).
"""

from __future__ import annotations

import ast
from pathlib import Path

import cjkv_phon

ROOT = Path(cjkv_phon.__file__).resolve().parent
PACKAGE = "cjkv_phon"
MAX_LINES = 450


def module_files() -> dict[str, Path]:
    """Every module of the package by dotted name (a package's ``__init__.py`` under the package's name)."""
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = (PACKAGE, *path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_package(name: str, modules: dict[str, Path]) -> bool:
    return name in modules and modules[name].name == "__init__.py"


def _resolve(module: str, node: ast.ImportFrom, modules: dict[str, Path]) -> str:
    """The absolute module a ``from ... import`` names (relative levels counted from the importer's package)."""
    if not node.level:
        return node.module or ""
    package = module if _is_package(module, modules) else module.rpartition(".")[0]
    base = package.split(".")
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The cjkv_phon modules ``module`` imports anywhere in its source (functions included)."""
    deps: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            deps.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node, modules)
            deps.add(target)
            deps.update(f"{target}.{alias.name}" for alias in node.names)
    return {d for d in deps if d in modules and d != module}


def import_graph() -> dict[str, set[str]]:
    """Module -> the cjkv_phon modules it imports."""
    modules = module_files()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted, largest first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for dep in sorted(graph[node]):
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in on_stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found, key=lambda c: (-len(c), c))


def test_import_graph_sees_lazy_and_relative_imports() -> None:
    """The scanner itself: a function-level import and ``from pkg import submodule`` are edges."""
    graph = import_graph()
    assert len(graph) > 100
    # bench/runner.py imports the trainer inside a function only.
    assert any(dep.startswith("cjkv_phon.training") for dep in graph["cjkv_phon.bench.runner"])
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles() -> None:
    found = cycles(import_graph())
    assert not found, "import circles among cjkv_phon modules:\n" + "\n".join(
        " <-> ".join(c) for c in found)


def test_no_module_over_450_lines() -> None:
    long = {name: n for name, path in module_files().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"

"""The package's import graph: no cycles between modules, and few imports hidden inside functions.

Modules import each other at the top, so a reader sees a module's dependencies in its first lines and
the graph runs one way (models -> loading -> evaluate -> train -> probe -> commands). An import inside a function is
kept only to break a real cycle or to defer a heavy optional dependency, with a comment saying which.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pacekit

PACKAGE_DIR = Path(pacekit.__file__).parent
MAX_LOCAL_IMPORTS = 15


def _module_name(path: Path) -> str:
    parts = ("pacekit",) + path.relative_to(PACKAGE_DIR).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The pacekit modules an ``import`` / ``from ... import`` node names (submodules included)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "pacekit"]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] != "pacekit":
        return []
    return [target] + [f"{target}.{a.name}" for a in node.names]


def _walk():
    """(module, module-level pacekit imports, function-local pacekit imports as (line, target))."""
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        module = _module_name(path)
        tree = ast.parse(path.read_text(), filename=str(path))
        is_package = path.name == "__init__.py"
        top, local = set(), []
        for stmt in tree.body:
            for node in ast.walk(stmt) if isinstance(stmt, (ast.If, ast.Try)) else [stmt]:
                if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                    break
                top.update(_imported_modules(node, module, is_package))
        for func in ast.walk(tree):
            if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(func):
                    local += [(f"{path.relative_to(PACKAGE_DIR.parent)}:{node.lineno}", t)
                              for t in _imported_modules(node, module, is_package)[:1]]
        yield module, top, local


def _graph() -> dict[str, set[str]]:
    modules = {m: top for m, top, _ in _walk()}
    # "from .data import build_dataset" names pacekit.data.build_dataset: keep only names that are modules.
    return {m: {t for t in top if t in modules and t != m} for m, top in modules.items()}


def _find_cycle(graph: dict[str, set[str]]):
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_module_level_imports_have_no_cycle():
    graph = _graph()
    # a package's __init__ importing its own submodules is how a package is built, not a cycle
    for module in graph:
        graph[module] = {t for t in graph[module] if not t.startswith(module + ".")}
    cycle = _find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_graph_runs_from_loading_to_its_consumers():
    graph = _graph()
    assert "pacekit.train" not in graph["pacekit.evaluate"] and "pacekit.evaluate" in graph["pacekit.train"]
    for consumer in ("pacekit.evaluate", "pacekit.commands.retrieval", "pacekit.commands.attention", "pacekit.notebook"):
        assert "pacekit.loading" in graph[consumer], consumer
    assert not {t for t in graph["pacekit.loading"] if t.split(".")[1] in ("train", "evaluate", "retrieval")}


def test_few_imports_hide_inside_functions():
    local = [where + " " + target for _, _, imports in _walk() for where, target in imports]
    assert len(local) <= MAX_LOCAL_IMPORTS, f"{len(local)} function-local pacekit imports:\n" + "\n".join(local)


def test_the_cycle_finder_finds_a_cycle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_library_modules_do_not_define_commands():
    for path in PACKAGE_DIR.glob("*.py"):
        if path.stem not in ("cli", "lab"):
            assert "def add_commands" not in path.read_text(), f"{path.name}: commands belong in pacekit/commands/"

"""The package's layers: which layer may import which (an allow-list), no cycles, few hidden imports.

Modules import each other at the top, so a reader sees a module's dependencies in its first lines. The
layers run one way, core -> data, models -> config -> training -> evaluation -> recipes -> study -> teaching
-> commands; :data:`LAYERS` and :data:`MAY_IMPORT` are the rule, and docs/architecture.md states the same
table (checked below). An import inside a function is kept only to break a real cycle or to defer a heavy
optional dependency, with a comment saying which; it obeys the same rule.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pacekit

PACKAGE_DIR = Path(pacekit.__file__).parent
ARCHITECTURE_DOC = PACKAGE_DIR.parent / "docs" / "architecture.md"

#: The layers, lowest first, and the modules each holds (a package name covers its submodules).
LAYERS: dict[str, tuple[str, ...]] = {
    "core": ("pacekit", "pacekit.errors", "pacekit.atomic", "pacekit.console", "pacekit.owned", "pacekit.machine",
             "pacekit.workers", "pacekit.pace", "pacekit.losses"),
    "data": ("pacekit.data",),
    "models": ("pacekit.models",),
    "config": ("pacekit.config",),
    "training": ("pacekit.training",),
    "evaluation": ("pacekit.evaluation",),
    "recipes": ("pacekit.recipes",),
    "study": ("pacekit.study",),
    "teaching": ("pacekit.teaching",),
    "commands": ("pacekit.commands", "pacekit.cli"),
}
_BELOW_TRAINING = ("core", "data", "models", "config")
#: The layers each layer may import besides its own. data and models never import each other.
MAY_IMPORT: dict[str, tuple[str, ...]] = {
    "core": (),
    "data": ("core",),
    "models": ("core",),
    "config": ("core", "data", "models"),
    "training": _BELOW_TRAINING,
    "evaluation": (*_BELOW_TRAINING, "training"),
    "recipes": (*_BELOW_TRAINING, "training", "evaluation"),
    "study": (*_BELOW_TRAINING, "training", "evaluation", "recipes"),
    "teaching": (*_BELOW_TRAINING, "training", "evaluation", "recipes", "study"),
    "commands": (*_BELOW_TRAINING, "training", "evaluation", "recipes", "study", "teaching"),
}


def layer_of(module: str) -> str:
    """The layer of a pacekit module: the one whose longest listed name covers it."""
    best = max(((name, layer) for layer, names in LAYERS.items() for name in names
                if module == name or module.startswith(name + ".")), key=lambda t: len(t[0]), default=None)
    assert best is not None, f"{module} is in no layer: add it to LAYERS and docs/architecture.md"
    return best[1]


def wrong_way_imports(edges) -> list[str]:
    """``importer -> imported`` for each (importer, imported) edge the allow-list forbids."""
    bad = []
    for importer, imported in edges:
        src, dst = layer_of(importer), layer_of(imported)
        if dst != src and dst not in MAY_IMPORT[src]:
            bad.append(f"{importer} ({src}) -> {imported} ({dst})")
    return sorted(set(bad))
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


def _all_edges():
    """(importer, imported module) for every pacekit import, at the top or inside a function."""
    modules = {m for m, _, _ in _walk()}

    def as_module(target):
        return target if target in modules else target.rsplit(".", 1)[0]

    for module, top, local in _walk():
        for target in list(top) + [t for _, t in local]:
            target = as_module(target)
            if target in modules and target != module:
                yield module, target


def test_every_import_follows_the_layer_allow_list():
    bad = wrong_way_imports(_all_edges())
    assert not bad, "imports against the layer rule (tests/test_architecture.py, docs/architecture.md):\n" + "\n".join(bad)


def test_the_allow_list_catches_a_planted_wrong_way_import():
    edges = list(_all_edges()) + [("pacekit.models.heads", "pacekit.config"),
                                  ("pacekit.training.loop", "pacekit.study.claims"),
                                  ("pacekit.data.datasets", "pacekit.models.registry")]
    assert wrong_way_imports(edges) == [
        "pacekit.data.datasets (data) -> pacekit.models.registry (models)",
        "pacekit.models.heads (models) -> pacekit.config (config)",
        "pacekit.training.loop (training) -> pacekit.study.claims (study)"]


def _doc_layer_table() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """docs/architecture.md's layer table: ``{layer: (modules, may import)}``."""
    rows = {}
    for line in ARCHITECTURE_DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("**") and cells[0].endswith("**"):
            modules = tuple(re.findall(r"`(pacekit[\w.]*)`", cells[1]))
            may = tuple(x.strip() for x in cells[2].split(",") if x.strip() and x.strip() != "-")
            rows[cells[0].strip("*")] = (modules, may)
    return rows


def test_the_architecture_doc_states_the_same_layers_and_rule():
    assert _doc_layer_table() == {layer: (LAYERS[layer], MAY_IMPORT[layer]) for layer in LAYERS}


def test_the_architecture_doc_names_every_module():
    doc = ARCHITECTURE_DOC.read_text()
    tree = doc[doc.index("```\npacekit/"):]
    tree = tree[: tree.index("```", 4)]
    missing = [str(path.relative_to(PACKAGE_DIR)) for path in sorted(PACKAGE_DIR.rglob("*.py"))
               if path.name != "__init__.py" and not re.search(rf"\b{re.escape(path.stem)}(\.py)?\b", tree)]
    assert not missing, f"docs/architecture.md's module map leaves out {missing}"


def test_few_imports_hide_inside_functions():
    local = [where + " " + target for _, _, imports in _walk() for where, target in imports]
    assert len(local) <= MAX_LOCAL_IMPORTS, f"{len(local)} function-local pacekit imports:\n" + "\n".join(local)


def test_the_cycle_finder_finds_a_cycle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_only_commands_define_commands_or_parse_argv():
    for path in PACKAGE_DIR.rglob("*.py"):
        if layer_of(_module_name(path)) == "commands":
            continue
        text = path.read_text()
        assert "def add_commands" not in text, f"{path}: commands belong in pacekit/commands/"
        assert "import argparse" not in text and "sys.argv" not in text, f"{path}: argv is parsed in pacekit/commands/"


def test_below_the_notebooks_and_the_command_line_nothing_prints():
    """Library layers log (pacekit.console shows the records); only commands/ and teaching/ call print."""
    printing = []
    for path in PACKAGE_DIR.rglob("*.py"):
        if layer_of(_module_name(path)) in ("commands", "teaching"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                printing.append(f"{path.relative_to(PACKAGE_DIR)}:{node.lineno}")
    assert not printing, f"library code prints (log to a pacekit logger instead): {printing}"

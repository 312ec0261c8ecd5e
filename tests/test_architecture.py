"""The package layout is the architecture: layers import downwards only, and no module imports itself
back through others, lazily or not (every ``import`` in a module counts, inside functions too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "kg"

# Each layer may import itself and the layers listed after it.
LAYERS = {
    "core": {"core"},
    "engines": {"engines", "core"},
    "graph": {"graph", "engines", "core"},
    "features": {"graph", "engines", "core"},  # each feature package: itself plus these
    "cli": None,  # the thin shell: anything
}
FEATURES = {"publish", "serve", "stores", "steward", "views", "synth"}
# The few features that build on another: the server answers RDF in publish's JSON-LD and shows
# publish's ontology documentation.
FEATURE_USES = {"serve": {"publish"}}


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every kg module that ``path`` imports, anywhere in the file (resolved to modules, not names)."""
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "kg"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "kg":
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if _exists(sub) else node.module)
    return found


def _exists(module: str) -> bool:
    base = SRC.parent / Path(*module.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


GRAPH = {_module(p): _imports(p) for p in SRC.rglob("*.py")}


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "package"
    return "features" if parts[1] in FEATURES else parts[1]


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_graph_is_read_from_real_files() -> None:
    assert "kg.core.graph" not in GRAPH and "kg.graph" in GRAPH and "kg.cli" in GRAPH
    assert "kg.core.namespaces" in GRAPH["kg.graph"] or any(
        m.startswith("kg.core") for m in GRAPH["kg.graph"]
    )


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if _layer(m) not in ("package", "cli")))
def test_layers_import_downwards_only(module: str) -> None:
    layer = _layer(module)
    allowed = LAYERS[layer]
    own = _package(module)
    for target in GRAPH[module]:
        if target == "kg":
            pytest.fail(f"{module} imports the package root (import from the module that owns the name)")
        tlayer, tpackage = _layer(target), _package(target)
        if tlayer == "features":
            assert layer == "features" and tpackage in {own, *FEATURE_USES.get(own, ())}, (
                f"{module} imports feature module {target}"
            )
        else:
            assert tlayer in allowed, f"{module} ({layer}) imports {target} ({tlayer})"


def test_no_import_cycles() -> None:
    """Tarjan's strongly connected components over the module graph: every component is one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in GRAPH.get(node, ()):
            if nxt not in GRAPH:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert cycles == []

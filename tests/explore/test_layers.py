"""The packages' imports point one way: files -> ingest -> model -> outputs / cli / tui.

Read from the source with ``ast`` (every import, also those inside functions),
so a cycle or a wrong-way import fails here before it confuses a reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(package: str) -> dict[str, set[str]]:
    """Each module of ``package`` -> the modules it imports (any package, absolute names)."""
    graph: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        name = _module_name(path)
        is_package = path.name == "__init__.py"
        base = name.split(".") if is_package else name.split(".")[:-1]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    anchor = base[: len(base) - node.level + 1]
                    module = ".".join([*anchor, *([node.module] if node.module else [])])
                else:
                    module = node.module or ""
                found.add(module)
                # `from . import x` and `from pkg import submodule` name modules too
                found.update(f"{module}.{alias.name}" for alias in node.names)
        graph[name] = found
    return graph


def _internal(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Only the edges between modules of the graph, a module's own package left out."""
    return {
        module: {
            t for t in targets if t in graph and t != module and not module.startswith(t + ".")
        }
        for module, targets in graph.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph``, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


@pytest.mark.parametrize("package", ["dm_explore", "dm_log"])
def test_no_import_cycle(package: str) -> None:
    graph = _internal(_imports(package))
    assert len(graph) > 10
    assert _cycle(graph) is None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def _reaches(graph: dict[str, set[str]], module: str, prefixes: tuple[str, ...]) -> set[str]:
    return {t for t in graph[module] if t.startswith(prefixes)}


def test_layers_point_one_way() -> None:
    graph = _imports("dm_explore")
    below_views = ("dm_explore.cli", "dm_explore.tui", "textual", "rich", "watchfiles")
    rules = {
        # the model: pure state and queries
        "dm_explore.model": ("dm_explore.ingest", "dm_explore.outputs", *below_views),
        # ingest: files into a model; it never renders
        "dm_explore.ingest": ("dm_explore.outputs", "dm_explore.cli", "dm_explore.tui"),
        # outputs: built from the model, shown by the cli and the tui
        "dm_explore.outputs": ("dm_explore.ingest", *below_views),
        "dm_explore.cli": ("dm_explore.tui.",),  # only `open` and `demo` start the UI (lazily)
    }
    wrong = {}
    for module in graph:
        for layer, forbidden in rules.items():
            if module == layer or module.startswith(layer + "."):
                bad = _reaches(graph, module, forbidden)
                if layer == "dm_explore.cli":  # open and demo import it inside run(), see below
                    bad = {b for b in bad if not b.startswith("dm_explore.tui.app")}
                if bad:
                    wrong[module] = sorted(bad)
    assert wrong == {}


def test_the_explorer_imports_no_private_dm_log_module() -> None:
    graph = _imports("dm_explore")
    private = {
        module: sorted(t for t in targets if t.startswith("dm_log._"))
        for module, targets in graph.items()
    }
    assert {m: t for m, t in private.items() if t} == {}


def test_subcommands_start_the_ui_only_inside_run() -> None:
    """``dm-explore summary`` and friends never import Textual: only run() of open and demo may."""
    for path in sorted((ROOT / "dm_explore" / "cli").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top_level = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
        names = {
            (n.module or "") if isinstance(n, ast.ImportFrom) else a.name
            for n in top_level
            for a in n.names
        }
        assert not {n for n in names if "tui" in n or n in ("textual", "watchfiles")}, path.name

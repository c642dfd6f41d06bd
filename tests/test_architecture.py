"""The rules of docs/architecture.md, checked on the source: module size, no import cycles, the
direction of imports between the parts, and no heatmap words in the stream layer. Imports are
read with `ast`, so an import inside a function counts as much as one at the top."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("collector", "heatmap", "reports", "clicktrail", "tracker_js")
MAX_MODULE_LINES = 400
STREAM_LAYER = ("collector/consumer.py", "collector/keys.py", "collector/batch_writer.py")
# whole words, so that "clicktrail" and the bounds' "folded into (over limit)" are not caught
HEATMAP_WORDS = re.compile(r"\b(?:scroll|depth|fold|heatmap|grid|click)s?\b", re.IGNORECASE)
# (importer, imported): a module whose name starts with the first may not import the second
FORBIDDEN = (
    ("collector", "heatmap"),
    ("collector", "reports"),
    ("collector", "clicktrail"),
    ("heatmap", "clicktrail"),
    ("reports", "clicktrail"),
    ("clicktrail.web", "clicktrail.cli"),
    ("clicktrail.wiring", "clicktrail.cli"),
)


def product_files() -> Iterator[Path]:
    """The product's own sources: Python and the snippet's JavaScript (not the built t.js)."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*")):
            if "node_modules" in path.parts or path.name == "t.js":
                continue
            if path.suffix in {".py", ".js"}:
                yield path


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The project modules a module imports anywhere in it; `from a import b` counts as a.b when
    a.b is a module, else as a."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, up level - 1 packages
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in known else base)
    return {module for module in found if module in known and module != name}


@cache  # parsed once for every test here
def import_graph() -> dict[str, set[str]]:
    paths = [path for path in product_files() if path.suffix == ".py"]
    known = {module_name(path) for path in paths}
    return {module_name(path): imported_modules(path, known) for path in paths}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (or a self-import)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's algorithm; the graph is a few hundred nodes
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in sorted(graph[module]):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = [stack.pop()]
            while component[-1] != module:
                component.append(stack.pop())
            if len(component) > 1 or module in graph[module]:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def test_no_module_of_the_product_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in product_files()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}, f"split these by job (at most {MAX_MODULE_LINES} lines each)"


def test_the_product_modules_import_no_cycle() -> None:
    assert cycles(import_graph()) == []


@pytest.mark.parametrize(("importer", "imported"), FORBIDDEN)
def test_imports_go_one_way(importer: str, imported: str) -> None:
    wrong = sorted(
        f"{module} imports {other}"
        for module, others in import_graph().items()
        if within(module, importer)
        for other in others
        if within(other, imported)
    )
    assert wrong == []


@pytest.mark.parametrize("path", STREAM_LAYER)
def test_the_stream_layer_knows_no_heatmap_words(path: str) -> None:
    lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
    found = [
        f"{n}: {line.strip()}" for n, line in enumerate(lines, 1) if HEATMAP_WORDS.search(line)
    ]
    assert found == []


def test_the_cycle_finder_finds_cycles_and_the_project() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert cycles(graph) == [["a", "b", "c"], ["e"]]
    assert len(import_graph()) > 100  # it found the project, not an empty folder

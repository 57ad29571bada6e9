"""The toolkit's imports form layers: no module imports itself back, and nothing imports the CLI.

The graph is read from the source with :mod:`ast`, so an import inside a function or under
``if TYPE_CHECKING:`` counts like one at the top of a module: each says "this module needs
that one", and a circle of such needs means no module in it can be understood, tested or
moved on its own. Edges into the root package ``gitml`` are left out: its ``__init__``
holds only ``__version__`` and the lazy ``load`` shortcut into :mod:`gitml.api`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
ROOT_PACKAGE = "gitml"
CLI = "gitml.cli"
# The entry point of ``python -m gitml``: it exists to call the CLI.
CLI_ENTRY_POINTS = frozenset({"gitml.__main__"})


def _module_files(src: Path) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__``)."""
    modules = {}
    for path in sorted((src / ROOT_PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _imported(module: str, path: Path, known: set[str]) -> set[str]:
    """The gitml modules ``module`` imports anywhere in its source."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = _package_of(module, path).split(".")
                anchor = ".".join(package[: len(package) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                # ``from gitml.report import collect`` imports the module gitml.report.collect.
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in known else base)
    internal = set()
    for name in found:
        # ``import gitml.report.collect`` and ``from gitml.x import y`` where y is a name:
        # the edge goes to the deepest gitml module that exists.
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name != ROOT_PACKAGE and name != module:
            internal.add(name)
    return internal


def import_graph(src: Path = SRC) -> dict[str, set[str]]:
    """``{module: the gitml modules it imports}`` for every module under ``src/gitml``."""
    files = _module_files(src)
    known = set(files)
    return {module: _imported(module, path, known) for module, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles, each a closed path (``[a, b, a]``); empty when there are none.

    Modules that import each other through any path form one strongly connected component
    (Tarjan's algorithm, iterative so a deep graph cannot hit the recursion limit). Each
    module of a component is shown on the shortest circle through it; a circle that
    passes through several of them is listed once, starting at its smallest name.
    """
    found: set[tuple[str, ...]] = set()
    for component in _components(graph):
        for start in component:
            circle = _shortest_circle(graph, component, start)[:-1]
            first = circle.index(min(circle))
            found.add(tuple(circle[first:] + circle[:first]))
    return [[*circle, circle[0]] for circle in sorted(found)]


def _components(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(sorted(graph[root])))]
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph.get(succ, ())))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(component)
    return components


def _shortest_circle(graph: dict[str, set[str]], component: set[str], start: str) -> list[str]:
    """The shortest import path from ``start`` back to itself inside ``component``."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for succ in sorted(graph[node] & component):
                if succ == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if succ not in previous:
                    previous[succ] = node
                    following.append(succ)
        frontier = following
    raise AssertionError(f"{sorted(component)} is not strongly connected")


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    sources = {
        "__init__.py": "__version__ = '1'\n",
        "top.py": (
            "from gitml import __version__\n"  # the root package: left out
            "from gitml.sub import leaf\n"  # a module imported from its package
            "import gitml.sub.other\n"
            "import json\n"
        ),
        "sub/__init__.py": "SHARED = 1\n",
        "sub/leaf.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n"
            "    from gitml.top import Thing\n"
            "def later():\n"
            "    from .other import helper\n"
        ),
        "sub/other.py": "from gitml.sub import SHARED\nfrom . import leaf\n",
    }
    for name, text in sources.items():
        (tmp_path / ROOT_PACKAGE / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / ROOT_PACKAGE / name).write_text(text)
    assert import_graph(tmp_path) == {
        "gitml": set(),
        "gitml.top": {"gitml.sub.leaf", "gitml.sub.other"},
        "gitml.sub": set(),
        "gitml.sub.leaf": {"gitml.top", "gitml.sub.other"},
        "gitml.sub.other": {"gitml.sub", "gitml.sub.leaf"},
    }


def test_cycles_are_found_and_shown_as_paths() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"f"}, "f": {"e"}}
    assert cycles(graph) == [["a", "b", "c", "a"], ["e", "f", "e"]]
    # Two circles sharing ``b``: each module is shown on one, and both are listed.
    graph = {"a": {"b"}, "b": {"a", "c"}, "c": {"b"}}
    assert cycles(graph) == [["a", "b", "a"], ["b", "c", "b"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles() -> None:
    found = cycles(import_graph())
    if found:
        listing = "\n".join("  " + " -> ".join(circle) for circle in found)
        pytest.fail(f"import circles in src/gitml, each as one import path:\n{listing}")


def test_only_the_cli_imports_the_cli() -> None:
    upward = sorted(
        f"  {module} -> {target}"
        for module, targets in import_graph().items()
        if not (module == CLI or module.startswith(CLI + ".")) and module not in CLI_ENTRY_POINTS
        for target in targets
        if target == CLI or target.startswith(CLI + ".")
    )
    if upward:
        pytest.fail("modules outside gitml.cli import the CLI:\n" + "\n".join(upward))

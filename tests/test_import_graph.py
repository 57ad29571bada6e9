"""The toolkit's imports form layers: no module imports itself back, and none points up.

The graph is read from the source with :mod:`ast`, so an import inside a function or under
``if TYPE_CHECKING:`` counts like one at the top of a module: each says "this module needs
that one", and a circle of such needs means no module in it can be understood, tested or
moved on its own. Edges into the root package ``gitml`` are left out: its ``__init__``
holds only ``__version__`` and the lazy ``load`` shortcut into :mod:`gitml.api`.
"""

from __future__ import annotations

import ast
import graphlib
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


def test_no_import_circles() -> None:
    try:
        graphlib.TopologicalSorter(import_graph()).prepare()
    except graphlib.CycleError as error:
        pytest.fail("import circle in src/gitml: " + " -> ".join(reversed(error.args[1])))


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


# (lower, upper): nothing in the lower package imports the upper one. The CLI is above
# everything (only its entry point reaches into it); monitor computes what report renders.
LAYERS = (("gitml.monitor", "gitml.report"), ("gitml.monitor", CLI))


def test_imports_point_down() -> None:
    graph = import_graph()
    upward = sorted(
        f"  {module} -> {target}"
        for module, targets in graph.items()
        for target in targets
        if (_inside(target, CLI) and not _inside(module, CLI) and module not in CLI_ENTRY_POINTS)
        or any(_inside(module, low) and _inside(target, high) for low, high in LAYERS)
    )
    if upward:
        pytest.fail("imports that point up a layer:\n" + "\n".join(upward))


def test_a_circle_and_an_upward_import_are_seen(tmp_path: Path) -> None:
    sources = {
        "__init__.py": "",
        "a.py": "from gitml import b\n",
        "b.py": "def later():\n    import gitml.a\n",
        "monitor/__init__.py": "",
        "monitor/x.py": (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import gitml.report.r\n"
        ),
        "report/__init__.py": "",
        "report/r.py": "",
    }
    for name, text in sources.items():
        (tmp_path / ROOT_PACKAGE / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / ROOT_PACKAGE / name).write_text(text)
    graph = import_graph(tmp_path)
    with pytest.raises(graphlib.CycleError):
        graphlib.TopologicalSorter(graph).prepare()
    assert graph["gitml.monitor.x"] == {"gitml.report.r"}

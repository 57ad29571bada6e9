"""The project's own install files: what the workflows install besides gitml.

A pipeline needs its own dependencies on the runner: requirements files (anywhere in the
repository: ``requirements.txt``, ``src/requirements.txt``, ``requirements/*.txt``),
constraints files, and the project's own packages (``pyproject.toml``, ``setup.py``)
with the extras the pipeline uses. ``gitml init`` finds them among the files git tracks
(:func:`detect`) and writes them into gitml.yaml's ``install:`` section; the setup action
runs ``gitml install-args``, which reads the section back (:func:`read_plan`) and prints
the ``pip install`` arguments one per line (:meth:`InstallPlan.pip_arguments`).

The section becomes a command line, so only plain repository paths and extra names pass
(the patterns live in the shipped schema, the one place they are spelled): no option
(``--index-url``, ``-e``), no URL, no absolute path, no ``..``.
"""

from __future__ import annotations

import configparser
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from gitml.documents import packaged_schema, raise_for, read_document, schema_problems
from gitml.errors import ConfigError
from gitml.files import CONFIG_FILE

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

SECTION = "install"
PACKAGE_FILES = ("pyproject.toml", "setup.py", "setup.cfg")

# Words in a file's path or an extra's name that mark what a pipeline does not need on
# the runner: the team's test, lint and documentation tooling.
DEV_WORDS = frozenset(
    {"dev", "develop", "development", "test", "tests", "testing", "doc", "docs", "lint"}
    | {"typing", "bench", "benchmark", "benchmarks", "example", "examples", "notebooks"}
)


@dataclass(frozen=True)
class Package:
    """One of the project's own packages: its folder (``.`` for the root) and extras."""

    path: str
    extras: tuple[str, ...] = ()

    def requirement(self) -> str:
        """The pip argument: ``./FOLDER[EXTRA,...]`` (``./`` keeps pip reading a path)."""
        base = "." if self.path == "." else f"./{self.path}"
        return f"{base}[{','.join(self.extras)}]" if self.extras else base

    def to_document(self) -> dict[str, Any]:
        """The ``install.packages`` entry."""
        return (
            {"path": self.path, "extras": list(self.extras)} if self.extras else {"path": self.path}
        )


@dataclass(frozen=True)
class InstallPlan:
    """The ``install:`` section: files and packages, in the order pip gets them."""

    requirements: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    packages: tuple[Package, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether there is nothing to install besides gitml."""
        return not (self.requirements or self.constraints or self.packages)

    def pip_arguments(self) -> list[str]:
        """``pip install`` arguments: ``-c FILE``, ``-r FILE``, then each package."""
        arguments: list[str] = []
        for path in self.constraints:
            arguments += ["-c", path]
        for path in self.requirements:
            arguments += ["-r", path]
        arguments += [package.requirement() for package in self.packages]
        return arguments

    def to_document(self) -> dict[str, Any]:
        """The section as gitml.yaml holds it (empty keys left out)."""
        document: dict[str, Any] = {}
        if self.requirements:
            document["requirements"] = list(self.requirements)
        if self.constraints:
            document["constraints"] = list(self.constraints)
        if self.packages:
            document["packages"] = [package.to_document() for package in self.packages]
        return document


@dataclass(frozen=True)
class Detection:
    """What :func:`detect` found, and what it left for the team to decide."""

    plan: InstallPlan
    notes: tuple[str, ...]


# -- reading the section back ---------------------------------------------------------


def plan_from_document(document: Any, file: str = CONFIG_FILE) -> InstallPlan:
    """The ``install:`` section of a parsed gitml.yaml; a hostile or malformed entry is a
    ConfigError naming the key and the value (empty plan when there is no section)."""
    section = document.get(SECTION) if isinstance(document, dict) else None
    if section is None:
        return InstallPlan()
    schema = {"type": "object", "properties": {SECTION: _section_schema()}}
    raise_for(schema_problems({SECTION: section}, schema, file))
    return InstallPlan(
        requirements=tuple(section.get("requirements", ())),
        constraints=tuple(section.get("constraints", ())),
        packages=tuple(
            Package(entry["path"], tuple(entry.get("extras", ())))
            for entry in section.get("packages", ())
        ),
    )


def read_plan(root: Path | str = ".") -> InstallPlan:
    """The install plan of the repository at ``root``, every file in it checked to exist
    inside the repository (a symbolic link out of it is refused)."""
    root = Path(root)
    plan = plan_from_document(read_document(root / CONFIG_FILE, CONFIG_FILE))
    top = root.resolve()
    entries = [(f"requirements[{i}]", p, "file") for i, p in enumerate(plan.requirements)]
    entries += [(f"constraints[{i}]", p, "file") for i, p in enumerate(plan.constraints)]
    entries += [(f"packages[{i}].path", p.path, "package") for i, p in enumerate(plan.packages)]
    for key, relative, kind in entries:
        _check_exists(top, f"{SECTION}.{key}", relative, kind)
    return plan


def _check_exists(top: Path, key: str, relative: str, kind: str) -> None:
    target = (top / relative).resolve()
    where = f"{CONFIG_FILE}: {key}: {relative!r}"
    if not target.is_relative_to(top):
        raise ConfigError(f"{where} leads out of the repository", [(CONFIG_FILE, key, "outside")])
    if kind == "file" and not target.is_file():
        message = "is not a file in the repository (expected a requirements or constraints file)"
        raise ConfigError(f"{where} {message}", [(CONFIG_FILE, key, message)])
    if kind == "package" and not any((target / name).is_file() for name in PACKAGE_FILES):
        message = f"is not a Python package folder (expected one of {', '.join(PACKAGE_FILES)})"
        raise ConfigError(f"{where} {message}", [(CONFIG_FILE, key, message)])


def _section_schema() -> dict[str, Any]:
    section: dict[str, Any] = packaged_schema("gitml.schema.json")["properties"][SECTION]
    return section


def _pattern(kind: str) -> re.Pattern[str]:
    """The shipped schema's pattern for a ``file`` path, a ``package`` path or an ``extra``."""
    properties = _section_schema()["properties"]
    package = properties["packages"]["items"]["properties"]
    schema = {
        "file": properties["requirements"]["items"],
        "package": package["path"],
        "extra": package["extras"]["items"],
    }[kind]
    return re.compile(schema["pattern"])


# -- detection ------------------------------------------------------------------------


def detect(tracked: Iterable[str], read: Callable[[str], str | None]) -> Detection:
    """The install plan for a repository whose git-tracked files are ``tracked`` (paths
    relative to its root); ``read`` returns a tracked file's text (None if unreadable).

    Requirements and constraints files are taken unless their path or name says they
    serve development (tests, docs, lint); packages are the folders with a
    pyproject.toml, setup.py or setup.cfg, with their extras (the development ones left
    out). Whatever was left out, or is a guess, is said in the notes.
    """
    paths = sorted(set(tracked))
    notes: list[str] = []
    requirements, left_out = _files(paths, _is_requirements, notes)
    constraints, left_constraints = _files(paths, _is_constraints, notes)
    if len(requirements) + len(left_out) > 1:
        taken = ", ".join(requirements) or "none"
        skipped = f"; left out {', '.join(left_out)}" if left_out else ""
        notes.append(
            f"several requirements files: installing {taken}{skipped} "
            "(edit install.requirements in gitml.yaml to choose)"
        )
    if left_constraints:
        notes.append(f"constraints files left out: {', '.join(left_constraints)}")
    packages = _packages(paths, read, notes)
    plan = InstallPlan(tuple(requirements), tuple(constraints), tuple(packages))
    if plan.empty:
        notes.append(
            "no requirements file or Python package found: the workflows install gitml "
            "alone; list the pipeline's dependencies under install: in gitml.yaml"
        )
    return Detection(plan, tuple(notes))


def _words(text: str) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", text.lower())) - {""}


def _is_requirements(path: PurePosixPath) -> bool:
    name = path.name.lower()
    in_folder = path.parent.name.lower() == "requirements"
    return name.endswith(".txt") and ("requirement" in name or in_folder)


def _is_constraints(path: PurePosixPath) -> bool:
    name = path.name.lower()
    return name.startswith("constraint") and name.endswith(".txt")


def _files(
    paths: list[str], kind: Callable[[PurePosixPath], bool], notes: list[str]
) -> tuple[list[str], list[str]]:
    """The ``kind`` files to install, and those left out as development files."""
    taken, left_out = [], []
    for path in paths:
        pure = PurePosixPath(path)
        if not kind(pure):
            continue
        if not _pattern("file").fullmatch(path):
            notes.append(f"{path}: a name gitml.yaml cannot hold (see install: in the schema)")
        elif _words(path) & DEV_WORDS:
            left_out.append(path)
        else:
            taken.append(path)
    return taken, left_out


def _packages(
    paths: list[str], read: Callable[[str], str | None], notes: list[str]
) -> list[Package]:
    by_folder: dict[str, set[str]] = {}
    for path in paths:
        pure = PurePosixPath(path)
        if pure.name in PACKAGE_FILES:
            by_folder.setdefault(str(pure.parent), set()).add(pure.name)
    packages = []
    for folder, files in sorted(by_folder.items()):
        if folder != "." and _words(folder) & DEV_WORDS:
            continue  # a test fixture's or an example's package, not the pipeline's
        if not _pattern("package").fullmatch(folder):
            notes.append(f"{folder}: a folder name gitml.yaml cannot hold; install it yourself")
            continue
        package = _package(folder, files, read, notes)
        if package is not None:
            packages.append(package)
    if len(packages) > 1:
        listed = ", ".join(package.path for package in packages)
        notes.append(f"several Python packages: installing {listed} (edit install.packages)")
    return packages


def _package(
    folder: str, files: set[str], read: Callable[[str], str | None], notes: list[str]
) -> Package | None:
    """The package in ``folder``, with its extras; None when its pyproject.toml only
    configures tools (nothing for pip to build)."""
    prefix = "" if folder == "." else f"{folder}/"
    extras: list[str] = []
    if "pyproject.toml" in files:
        try:
            pyproject = tomllib.loads(read(f"{prefix}pyproject.toml") or "")
        except tomllib.TOMLDecodeError as error:
            notes.append(f"{prefix}pyproject.toml: not readable TOML ({error}); left out")
            return None
        project = pyproject.get("project")
        poetry = pyproject.get("tool", {}).get("poetry")
        if not (project or poetry or "build-system" in pyproject or files - {"pyproject.toml"}):
            return None
        if isinstance(project, dict):
            extras += list(project.get("optional-dependencies") or {})
            if "build-system" not in pyproject and not files - {"pyproject.toml"}:
                notes.append(
                    f"{prefix}pyproject.toml has no [build-system]: pip builds it with "
                    "setuptools; if it is not meant to be installed, list its "
                    "dependencies in a requirements file instead"
                )
        if isinstance(poetry, dict):
            extras += list(poetry.get("extras") or {})
    if "setup.cfg" in files:
        extras += _setup_cfg_extras(read(f"{prefix}setup.cfg") or "")
    elif "setup.py" in files and "pyproject.toml" not in files:
        notes.append(
            f"{prefix}setup.py: its extras are not read (gitml runs none of your code); "
            "name the ones the pipeline needs under install.packages[].extras"
        )
    return _with_extras(folder, list(dict.fromkeys(extras)), notes)


def _setup_cfg_extras(text: str) -> list[str]:
    parser = configparser.ConfigParser()
    try:
        parser.read_string(text)
    except configparser.Error:
        return []
    if not parser.has_section("options.extras_require"):
        return []
    return list(parser["options.extras_require"])


def _with_extras(folder: str, extras: list[str], notes: list[str]) -> Package:
    taken = [e for e in extras if _pattern("extra").fullmatch(e) and not _words(e) & DEV_WORDS]
    left_out = [e for e in extras if e not in taken]
    if left_out:
        where = "the root package" if folder == "." else folder
        notes.append(
            f"extras of {where} left out: {', '.join(left_out)} (add them to "
            "install.packages[].extras if the pipeline needs them)"
        )
    return Package(folder, tuple(taken))

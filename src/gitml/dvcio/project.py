"""Reading a DVC project's ``dvc.yaml`` (stages, metrics, plots, artifacts) without DVC.

``dvc.yaml`` is plain YAML; parsing it directly keeps ``gitml validate`` and the
registry's read path free of DVC's 0.25 s import. GTO's older ``artifacts.yaml`` declares
artifacts too; :func:`project_from_texts` reads both, as GTO does.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gitml.documents import parse_text
from gitml.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

DVC_YAML = "dvc.yaml"
ARTIFACTS_YAML = "artifacts.yaml"  # GTO's own declaration file, before DVC had `artifacts:`


@dataclass(frozen=True)
class Artifact:
    """One entry of ``dvc.yaml``'s ``artifacts:`` section (or of GTO's ``artifacts.yaml``)."""

    name: str
    path: str
    type: str | None
    description: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Stage:
    """What one pipeline stage reads and writes, as paths relative to the project root."""

    name: str
    deps: tuple[str, ...] = ()
    outs: tuple[str, ...] = ()  # every output: `outs`, `metrics` and `plots` entries
    metrics: tuple[str, ...] = ()


@dataclass(frozen=True)
class DvcProject:
    """The parts of a DVC project gitml reads: artifacts, stages, metrics and the raw
    ``dvc.yaml`` document (its plot definitions are read by :mod:`gitml.dvcio.plot_specs`).

    ``notes`` says what could not be read (templated or ``foreach`` stages), for the
    caller to show instead of guessing.
    """

    artifacts: Mapping[str, Artifact] = field(default_factory=dict)
    stages: Mapping[str, Stage] = field(default_factory=dict)
    metrics: tuple[str, ...] = ()  # DVC 3's top-level `metrics:` (what DVCLive writes)
    document: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def models(self) -> dict[str, Artifact]:
        """The artifacts of type model, or of no declared type (as ``gitml init`` has
        always read them)."""
        return {n: a for n, a in self.artifacts.items() if a.type in ("model", None)}


def _mapping(document: Any, file: str) -> dict[str, Any]:
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError(f"{file}: expected a mapping at the top level")
    return document


def _entry_path(entry: Any, file: str, key: str) -> str:
    """The path of a ``deps``/``outs``/``metrics``/``plots`` entry: a string, or a
    one-key mapping ``{path: {options}}``."""
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and len(entry) == 1:
        path = next(iter(entry))
        if isinstance(path, str):
            return path
    raise ConfigError(f"{file}: {key}: expected a path or {{path: options}}, got {entry!r}")


def _paths(raw: Any, file: str, key: str, notes: list[str] | None = None) -> tuple[str, ...]:
    """The paths of a ``deps``/``outs``/``metrics`` list; one leading out of the repository
    (absolute, or ``..`` past its root: DVC's external outputs) is left out, with a note."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(f"{file}: {key}: expected a list of paths")
    paths = []
    for entry in raw:
        path = _normal(_entry_path(entry, file, key))
        if _outside(path):
            if notes is not None:
                notes.append(f"{file}: {key}: {path!r} is outside the repository: not read")
            continue
        paths.append(path)
    return tuple(paths)


def _outside(path: str) -> bool:
    """Whether a path written in ``dvc.yaml`` leads out of the repository."""
    normal = posixpath.normpath(path)
    return path.startswith(("/", "\\")) or normal == ".." or normal.startswith("../")


def _normal(path: str) -> str:
    """``./eval/`` and ``eval`` are one output to DVC."""
    while path.startswith("./"):
        path = path[2:]
    return path.rstrip("/") or path


def artifacts_from_document(document: Any, file: str) -> dict[str, Artifact]:
    """The ``artifacts:`` entries of a parsed ``dvc.yaml``, by name."""
    raw = _mapping(document, file).get("artifacts") or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: artifacts: expected a mapping of name to {{path, type}}")
    artifacts = {}
    for name, entry in raw.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise ConfigError(f"{file}: artifacts.{name}.path: expected a path string")
        labels = entry.get("labels") or ()
        artifacts[str(name)] = Artifact(
            name=str(name),
            path=_normal(entry["path"]),
            type=entry.get("type") if isinstance(entry.get("type"), str) else None,
            description=str(entry.get("desc") or entry.get("description") or ""),
            labels=tuple(str(label) for label in labels) if isinstance(labels, list) else (),
        )
    return artifacts


def artifacts_from_text(text: str, file: str = DVC_YAML) -> dict[str, Artifact]:
    """The ``artifacts:`` entries of ``dvc.yaml`` text, by name."""
    return artifacts_from_document(parse_text(text, file), file)


def gto_artifacts_from_text(text: str, file: str = ARTIFACTS_YAML) -> dict[str, Artifact]:
    """GTO's ``artifacts.yaml``: ``{name: {type, path, virtual, labels, description}}``.

    GTO calls an artifact whose file git does not hold *virtual* (its default, and what a
    DVC-tracked model is); its path still names the DVC output, so it is kept. An entry
    without a path names nothing gitml can fetch and is left out.
    """
    document = _mapping(parse_text(text, file), file)
    artifacts = {}
    for name, entry in document.items():
        if not isinstance(entry, dict):
            raise ConfigError(f"{file}: {name}: expected a mapping with `path` and `type`")
        path = entry.get("path")
        if not isinstance(path, str) or not path:
            continue
        labels = entry.get("labels") or ()
        artifacts[str(name)] = Artifact(
            name=str(name),
            path=_normal(path),
            type=entry.get("type") if isinstance(entry.get("type"), str) else None,
            description=str(entry.get("description") or ""),
            labels=tuple(str(label) for label in labels) if isinstance(labels, list) else (),
        )
    return artifacts


def _stages(document: dict[str, Any], file: str) -> tuple[dict[str, Stage], list[str]]:
    raw = document.get("stages") or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: stages: expected a mapping of stage name to stage")
    stages, notes = {}, []
    for name, stage in raw.items():
        if not isinstance(stage, dict):
            raise ConfigError(f"{file}: stages.{name}: expected a mapping")
        if "foreach" in stage or "matrix" in stage:
            notes.append(f"{file}: stages.{name}: foreach/matrix stages are not read")
            continue
        key = f"stages.{name}"
        metrics = _paths(stage.get("metrics"), file, f"{key}.metrics", notes)
        outs = (
            _paths(stage.get("outs"), file, f"{key}.outs", notes)
            + metrics
            + _paths(stage.get("plots"), file, f"{key}.plots", notes)
        )
        deps = _paths(stage.get("deps"), file, f"{key}.deps")
        if any("${" in path for path in (*outs, *deps)):
            notes.append(f"{file}: stages.{name}: templated paths (${{...}}) are not resolved")
            outs = tuple(p for p in outs if "${" not in p)
            deps = tuple(p for p in deps if "${" not in p)
            metrics = tuple(p for p in metrics if "${" not in p)
        stages[str(name)] = Stage(str(name), deps, outs, metrics)
    return stages, notes


def project_from_texts(
    dvc_yaml: str | None, artifacts_yaml: str | None = None, label: str = ""
) -> DvcProject:
    """The project ``dvc.yaml`` (and GTO's ``artifacts.yaml``) text describe.

    ``label`` names the revision in messages (``dvc.yaml at main``). Either file may be
    absent; ``dvc.yaml``'s artifacts win over ``artifacts.yaml``'s of the same name.
    """
    at = f" at {label}" if label else ""
    file = f"{DVC_YAML}{at}"
    document = _mapping(parse_text(dvc_yaml, file), file) if dvc_yaml is not None else {}
    artifacts: dict[str, Artifact] = {}
    if artifacts_yaml is not None:
        artifacts.update(gto_artifacts_from_text(artifacts_yaml, f"{ARTIFACTS_YAML}{at}"))
    artifacts.update(artifacts_from_document(document, file))
    stages, notes = _stages(document, file)
    top_metrics = _paths(document.get("metrics"), file, "metrics", notes)
    for name, artifact in list(artifacts.items()):
        if _outside(artifact.path):
            notes.append(
                f"{file}: artifacts.{name}.path {artifact.path!r} is outside the repository"
            )
            del artifacts[name]
    return DvcProject(artifacts, stages, top_metrics, document, tuple(notes))


def project_from_reader(read: Callable[[str], bytes | None], label: str = "") -> DvcProject:
    """The project of one revision, its files read by ``read(path) -> bytes | None``."""

    def text(path: str) -> str | None:
        data = read(path)
        if data is None:
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ConfigError(f"{path}: not UTF-8 text ({error.reason})") from None

    return project_from_texts(text(DVC_YAML), text(ARTIFACTS_YAML), label)


def read_project(root: Path) -> DvcProject:
    """The DVC project in the working tree at ``root`` (empty when it has no files)."""

    def read(path: str) -> bytes | None:
        try:
            return (root / path).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    return project_from_reader(read)


def read_artifacts(root: Path) -> dict[str, Artifact]:
    """The artifacts declared in ``root/dvc.yaml``; a missing file is a ConfigError."""
    path = root / DVC_YAML
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{DVC_YAML}: not found in {root.resolve()} (is this a DVC project?)"
        ) from None
    return artifacts_from_text(text)

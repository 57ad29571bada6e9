"""What an artefact was built from, derived from one ``dvc.lock`` document (pure).

The *lineage stages* of an artefact are the stage whose outputs hold it and, transitively,
every stage that produces a dependency of a lineage stage (an output produces a
dependency when the two paths are equal or one is a folder holding the other).

A *data input* is a dependency of a lineage stage that

* no stage of the lock produces (what a stage produces is followed upstream instead), and
* DVC tracks as data: it is, or lies inside, the output of a ``.dvc`` file (``dvc add``,
  ``dvc import``) at the same commit. The caller, which can read that commit, passes
  those outputs as ``tracked``. Source files a stage lists as dependencies
  (``src/.../train.py``) are no data input: git tracks them, and the code is the commit.

Without ``tracked`` (a caller holding only the lock) a dependency counts unless its name
says it is source code (``.py``, ``.R``, ``.ipynb``, ...): an approximation, which gitml's
own reads never use. A dependency whose lock entry carries no md5 (a cloud object DVC
hashes by etag) cannot be named by an md5 and is left out.

Digests are sha256 over canonical JSON (sorted keys, no spaces, ASCII): the *params
digest* over ``{stage: {params file: {key: value}}}`` of the lineage stages that read
params, and each *stage digest* over the stage's whole lock entry (command, dependencies,
params, outputs). Only the lock at the repository root is read: a ``dvc.lock`` in a
sub-folder is another pipeline.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gitml.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable

# File name endings of source code: what the lock-only approximation leaves out.
CODE_SUFFIXES = frozenset(
    {".py", ".pyx", ".ipynb", ".r", ".jl", ".sh", ".scala", ".java", ".js", ".ts", ".go", ".rs"}
)


@dataclass(frozen=True)
class Lineage:
    """An artefact's data inputs (path -> md5), params digest and stage digests."""

    inputs: dict[str, str] = field(default_factory=dict)
    params_digest: str | None = None
    stages: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """No pipeline stage produces the artefact (it was added with ``dvc add``)."""
        return not (self.inputs or self.params_digest or self.stages)

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: ``{inputs: {path: md5}, params_digest, stages: {name: sha256}}``."""
        return {
            "inputs": dict(self.inputs),
            "params_digest": self.params_digest,
            "stages": dict(self.stages),
        }


def canonical_json(value: Any) -> str:
    """``value`` as canonical JSON: sorted keys, no spaces, ASCII only.

    A YAML date (a params value such as ``cutoff: 2024-01-01``) is written in ISO 8601.
    """
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=_plain
    )


def sha256_of(value: Any) -> str:
    """The sha256 hex digest of ``value``'s canonical JSON."""
    return hashlib.sha256(canonical_json(value).encode("ascii")).hexdigest()


def _plain(value: Any) -> str:
    iso = getattr(value, "isoformat", None)
    return str(iso()) if callable(iso) else str(value)


def normal_path(path: str) -> str:
    """A lock path as DVC means it: relative to the root, ``/``-separated, no ``./``."""
    return posixpath.normpath(path.replace("\\", "/")).removeprefix("./")


def overlaps(a: str, b: str) -> bool:
    """Whether two paths are the same or one is a folder holding the other."""
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def lock_stages(lock: Any, file: str = "dvc.lock") -> dict[str, dict[str, Any]]:
    """The ``stages:`` of a parsed ``dvc.lock``, each checked to be a mapping."""
    stages = lock.get("stages") if isinstance(lock, dict) else None
    if not isinstance(stages, dict):
        raise ConfigError(f"{file}: expected a `stages:` mapping (is it a DVC 2+ lock file?)")
    checked: dict[str, dict[str, Any]] = {}
    for name, entry in stages.items():
        if not isinstance(entry, dict):
            raise ConfigError(f"{file}: stage {name!r}: expected a mapping, got {entry!r:.80}")
        checked[str(name)] = entry
    return checked


def _entries(stage: str, entry: dict[str, Any], key: str, file: str) -> list[dict[str, Any]]:
    """The ``deps`` or ``outs`` of one stage, each a mapping with a ``path``."""
    found = entry.get(key) or []
    if not isinstance(found, list) or not all(
        isinstance(item, dict) and isinstance(item.get("path"), str) for item in found
    ):
        raise ConfigError(
            f"{file}: stage {stage!r}: expected `{key}` entries with a `path`, got {found!r:.80}"
        )
    return found


def _produced(stages: dict[str, dict[str, Any]], file: str) -> list[str]:
    """Every output path of every stage."""
    return [
        normal_path(out["path"])
        for name, entry in stages.items()
        for out in _entries(name, entry, "outs", file)
    ]


def upstream_stages(lock: Any, artifact: str, file: str = "dvc.lock") -> list[str]:
    """The lineage stages of ``artifact``, in the lock's order ([] when no stage makes it)."""
    stages = lock_stages(lock, file)
    outs = {
        name: [normal_path(o["path"]) for o in _entries(name, entry, "outs", file)]
        for name, entry in stages.items()
    }
    deps = {
        name: [normal_path(d["path"]) for d in _entries(name, entry, "deps", file)]
        for name, entry in stages.items()
    }
    wanted = [normal_path(artifact)]
    found: set[str] = set()
    while wanted:
        path = wanted.pop()
        for name, produced in outs.items():
            if name not in found and any(overlaps(path, out) for out in produced):
                found.add(name)
                wanted.extend(deps[name])
    return [name for name in stages if name in found]


def lineage_from_lock(
    lock: Any,
    artifact: str,
    *,
    tracked: Collection[str] | None = None,
    file: str = "dvc.lock",
) -> Lineage:
    """The lineage of ``artifact`` by the parsed ``lock`` (see the module docstring).

    ``tracked``: the outputs of the ``.dvc`` files at the lock's commit, which decide what
    counts as data. A malformed lock is a ConfigError naming ``file`` and the stage.
    """
    stages = lock_stages(lock, file)
    names = upstream_stages(lock, artifact, file)
    produced = _produced(stages, file)
    inputs: dict[str, str] = {}
    for name in names:
        for dep in _entries(name, stages[name], "deps", file):
            path = normal_path(dep["path"])
            md5 = dep.get("md5")
            if any(overlaps(path, out) for out in produced) or not isinstance(md5, str):
                continue
            if _is_data(path, tracked):
                inputs[path] = md5
    params = {name: stages[name]["params"] for name in names if stages[name].get("params")}
    return Lineage(
        inputs=dict(sorted(inputs.items())),
        params_digest=sha256_of(params) if params else None,
        stages={name: sha256_of(stages[name]) for name in names},
    )


def _is_data(path: str, tracked: Collection[str] | None) -> bool:
    if tracked is None:
        return posixpath.splitext(path)[1].lower() not in CODE_SUFFIXES
    return any(overlaps(path, normal_path(t)) for t in tracked)


def external_deps(lock: Any, artifact: str, file: str = "dvc.lock") -> list[str]:
    """The dependencies of ``artifact``'s lineage stages that no stage produces, sorted:
    the candidates a caller checks for ``.dvc`` files."""
    stages = lock_stages(lock, file)
    produced = _produced(stages, file)
    found: set[str] = set()
    for name in upstream_stages(lock, artifact, file):
        for dep in _entries(name, stages[name], "deps", file):
            path = normal_path(dep["path"])
            if not any(overlaps(path, out) for out in produced):
                found.add(path)
    return sorted(found)


def pointer_candidates(path: str) -> Iterable[str]:
    """The ``.dvc`` files that could track ``path``: its own, then each folder's above it
    (``data/raw/a.csv`` -> ``data/raw/a.csv.dvc``, ``data/raw.dvc``, ``data.dvc``)."""
    parts = normal_path(path).split("/")
    for end in range(len(parts), 0, -1):
        yield "/".join(parts[:end]) + ".dvc"

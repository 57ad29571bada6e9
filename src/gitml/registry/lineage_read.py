"""An artefact's lineage at one commit, read through the registry reader's ``cat-file``.

``dvc.lock`` at the commit gives the stages, params and dependency md5s
(:func:`gitml.registry.lineage.lineage_from_lock`); the ``.dvc`` files at the same
commit say which dependencies are DVC-tracked data. Every file is read as a git blob of
that commit (no process per commit), and each is named by its blob id, which anyone can
check with ``git cat-file -p <id>``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitml.dvcio.lock import DVC_LOCK, pointer_outputs
from gitml.registry.lineage import (
    Lineage,
    external_deps,
    lineage_from_lock,
    normal_path,
    overlaps,
    pointer_candidates,
)

if TYPE_CHECKING:
    from gitml.registry.reader import RegistryReader


@dataclass(frozen=True)
class Pointer:
    """A ``.dvc`` file at a commit that tracks a data input: its path, blob id, and the
    path and md5 of the output it names."""

    file: str
    blob: str
    out: str
    md5: str | None


@dataclass(frozen=True)
class DerivedLineage:
    """The lineage of an artefact at ``commit``, with the blobs that prove it."""

    commit: str
    artifact: str
    lineage: Lineage
    lock_blob: str | None  # None: no dvc.lock at the commit
    pointers: dict[str, Pointer]  # data input -> the .dvc file that tracks it


def blob_id(data: bytes, commit: str) -> str:
    """The git object id of a blob holding ``data`` in the repository of ``commit``
    (SHA-1, or SHA-256 in a repository whose commit ids have 64 digits)."""
    algorithm = "sha256" if len(commit) == 64 else "sha1"
    header = b"blob %d\0" % len(data)
    return hashlib.new(algorithm, header + data).hexdigest()


def derive_lineage(reader: RegistryReader, commit: str, artifact: str) -> DerivedLineage:
    """What ``dvc.lock`` and the ``.dvc`` files at ``commit`` say ``artifact`` was built
    from. A commit without ``dvc.lock`` has an empty lineage; a malformed lock is a
    ConfigError naming it."""
    from gitml.documents import parse_text

    data = reader.read_blob(commit, DVC_LOCK)
    if data is None:
        return DerivedLineage(commit, artifact, Lineage(), None, {})
    where = f"{DVC_LOCK} at {commit[:12]}"
    lock: Any = parse_text(data.decode("utf-8", "replace"), where)
    pointers: dict[str, Pointer] = {}
    for dep in external_deps(lock, artifact, where):
        pointer = _pointer_for(reader, commit, dep)
        if pointer is not None:
            pointers[dep] = pointer
    lineage = lineage_from_lock(
        lock, artifact, tracked=[p.out for p in pointers.values()], file=where
    )
    found = {path: pointers[path] for path in lineage.inputs if path in pointers}
    return DerivedLineage(commit, artifact, lineage, blob_id(data, commit), found)


def _pointer_for(reader: RegistryReader, commit: str, dep: str) -> Pointer | None:
    """The ``.dvc`` file at ``commit`` whose output is ``dep`` or a folder holding it."""
    for file in pointer_candidates(dep):
        data = reader.read_blob(commit, file)
        if data is None:
            continue
        folder = file.rpartition("/")[0]
        outputs = pointer_outputs(data.decode("utf-8", "replace"), f"{file} at {commit[:12]}")
        for out in outputs:
            # A .dvc file's output path is relative to the folder it lies in.
            path = normal_path(f"{folder}/{out.path}" if folder else out.path)
            if overlaps(dep, path):
                return Pointer(file, blob_id(data, commit), path, out.md5)
    return None

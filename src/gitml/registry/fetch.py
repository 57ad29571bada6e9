"""``gitml get`` / ``gitml.load``: the exact registered bytes, verified, from DVC."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitml.dvcio.fetch import read_output
from gitml.errors import GitError, RegistryError
from gitml.fsutil import write_output
from gitml.gitio.repo import GitRepo
from gitml.registry.model_ref import ModelRef, parse_ref
from gitml.registry.reader import RegistryReader


@dataclass(frozen=True)
class ResolvedArtifact:
    """Which bytes a reference means: model, version (if registered), path, hash, commit."""

    model: str
    version: str | None
    path: str
    md5: str
    commit: str


def resolve_artifact(root: Path | str, text: str, *, local: bool = False) -> ResolvedArtifact:
    """Resolve ``MODEL@vX.Y.Z``, ``MODEL@STAGE``, ``MODEL@latest`` or ``MODEL@<git rev>``."""
    ref = parse_ref(text)
    with RegistryReader(root, local=local) as reader:
        path = reader.artifact_path(ref.model)
        try:
            info = reader.resolve(ref)
        except RegistryError:
            # Not a version or a recorded stage: maybe a git revision (``credit@HEAD~1``).
            if ref.stage is None or path is None:
                raise
            stages = reader.stage_names(ref.model)
            if ref.stage in stages:
                raise
            try:
                commit = GitRepo(root).resolve(ref.stage)
            except GitError:
                raise RegistryError(
                    f"{text}: not a version, a stage ({', '.join(stages)}) or a git revision"
                ) from None
            md5 = reader.lock_md5s(commit).get(path)
            if not md5:
                raise RegistryError(f"{text}: dvc.lock at {commit[:12]} has no {path}") from None
            return ResolvedArtifact(ref.model, None, path, md5, commit)
        artifact = info.artifact or path
        if not artifact or not info.md5:
            raise RegistryError(
                f"{ModelRef(ref.model, info.version)}: no artefact path or hash known "
                "(is the model declared in gitml.yaml?)"
            )
        return ResolvedArtifact(ref.model, info.version, artifact, info.md5, info.commit)


def get(
    root: Path | str,
    text: str,
    output: Path | str,
    *,
    local: bool = False,
    repo_url: str | None = None,
) -> ResolvedArtifact:
    """Write the artefact ``text`` names to ``output``, atomically, after the hash check.

    ``output`` is new or a regular file, which is replaced; anything else there (a
    symbolic link, a directory, a FIFO, a device) is refused, and so is a missing folder
    (see :func:`gitml.fsutil.write_output`). ``gitml get`` also refuses an existing file
    without ``--force``, before fetching.
    """
    resolved = resolve_artifact(root, text, local=local)
    data = read_output(root, resolved.path, resolved.commit, resolved.md5, repo_url)
    write_output(Path(output), data, force=True)
    return resolved


def load(
    text: str, *, root: Path | str = ".", local: bool = False, repo_url: str | None = None
) -> Any:
    """The fitted scikit-learn object ``text`` names, loaded by skops after the hash check."""
    from gitml.storage import load_model

    resolved = resolve_artifact(root, text, local=local)
    data = read_output(root, resolved.path, resolved.commit, resolved.md5, repo_url)
    with tempfile.TemporaryDirectory(prefix="gitml-load-") as tmp:
        path = Path(tmp) / Path(resolved.path).name
        path.write_bytes(data)
        return load_model(path, expected_md5=resolved.md5)

"""``gitml get`` / ``gitml.load``: the exact registered bytes, verified, from DVC.

A version's bytes are an integrity matter: when the object its ``dvc.lock`` names is in
neither the local DVC cache nor the DVC remote, the registry promised bytes it cannot
deliver, and that is a :class:`~gitml.errors.VerificationError` (exit 5), like bytes
that do not match their md5.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitml.dvcio.fetch import read_output
from gitml.errors import DvcError, GitError, RegistryError, VerificationError
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
        try:
            info = reader.resolve(ref)
        except RegistryError:
            # Not a version or a recorded stage: maybe a git revision (``credit@HEAD~1``).
            if ref.stage is None:
                raise
            stages = reader.known_stages()
            if ref.stage in stages:
                raise
            return _at_revision(reader, ref, text, stages)
        if not info.artifact or not info.md5:
            why = reader.no_artifact_reason(ref.model, info.commit, info.artifact)
            raise RegistryError(f"{ModelRef(ref.model, info.version)}: {why}")
        return ResolvedArtifact(ref.model, info.version, info.artifact, info.md5, info.commit)


def _at_revision(
    reader: RegistryReader, ref: ModelRef, text: str, stages: tuple[str, ...]
) -> ResolvedArtifact:
    """The model's artefact at the git revision ``ref.stage`` names."""
    assert ref.stage is not None
    try:
        commit = GitRepo(reader.root).resolve(ref.stage)
    except GitError:
        raise RegistryError(
            f"{text}: not a version, a stage ({', '.join(stages) or 'none'}) or a git revision"
        ) from None
    path = reader.artifact_path_at(ref.model, commit)
    md5 = reader.artifact_md5(commit, path) if path else None
    if path is None or not md5:
        raise RegistryError(f"{text}: {reader.no_artifact_reason(ref.model, commit, path)}")
    return ResolvedArtifact(ref.model, None, path, md5, commit)


def _read_bytes(root: Path | str, resolved: ResolvedArtifact, repo_url: str | None) -> bytes:
    """The artefact's bytes, verified; an object nobody stores is a VerificationError."""
    try:
        return read_output(root, resolved.path, resolved.commit, resolved.md5, repo_url)
    except DvcError:
        if repo_url is None and _missing_everywhere(root, resolved.md5):
            version = resolved.version or f"commit {resolved.commit[:12]}"
            raise VerificationError(
                f"{resolved.model} {version}: artefact {resolved.md5} ({resolved.path}) is in "
                "neither the local DVC cache nor the DVC remote; `dvc push` it from a "
                "machine that has it, or deregister the version"
            ) from None
        raise


def _missing_everywhere(root: Path | str, md5: str) -> bool:
    """Whether the default DVC remote lacks ``md5`` (asked only after a fetch failed:
    a failure for another reason, such as credentials, stays that failure)."""
    from gitml.dvcio.fetch import cache_path
    from gitml.dvcio.remote import missing_from_remote

    if cache_path(Path(root), md5).is_file():
        return False
    try:
        return bool(missing_from_remote(root, [md5]))
    except DvcError:
        return False


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
    data = _read_bytes(root, resolved, repo_url)
    write_output(Path(output), data, force=True)
    return resolved


def load(
    text: str, *, root: Path | str = ".", local: bool = False, repo_url: str | None = None
) -> Any:
    """The fitted scikit-learn object ``text`` names, loaded by skops after the hash check."""
    from gitml.storage import load_model

    resolved = resolve_artifact(root, text, local=local)
    data = _read_bytes(root, resolved, repo_url)
    with tempfile.TemporaryDirectory(prefix="gitml-load-") as tmp:
        path = Path(tmp) / Path(resolved.path).name
        path.write_bytes(data)
        return load_model(path, expected_md5=resolved.md5)

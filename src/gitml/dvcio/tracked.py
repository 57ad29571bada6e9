"""Reading a file that DVC keeps in its cache, as one revision's ``dvc.lock`` records it.

A metrics or plots file is in the DVC cache when its stage output is cached: the output
itself (``metrics: [summary.json]`` without ``cache: false``), or a directory output that
holds it (DVC's get-started ``evaluate`` stage writes ``eval/metrics.json`` inside its
``outs: [eval]``). ``dvc.lock`` names a file output by the md5 of its bytes and a
directory output by the md5 of its manifest (``<md5>.dir``): a JSON list of
``{"md5", "relpath"}`` entries, stored like any other object. Both are read from the local
cache, else the default DVC remote, and verified at every step, so the bytes returned are
the ones the revision recorded.

"Not there" is ``None``, as for a file git does not have: the path is in no output, the
directory's manifest lists no such file, or the path names a directory.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from gitml.dvcio.fetch import MIB, ObjectReader
from gitml.errors import ConfigError, DvcError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from gitml.dvcio.lock import Output

# Metrics and plots are small; a bigger object is a dataset or model read by mistake, and
# reading it whole into memory to render a comment would be the wrong way to learn that.
MAX_MANIFEST_BYTES = 64 * MIB
MAX_FILE_BYTES = 64 * MIB
_LIMIT_REASON = "gitml reads DVC-tracked metrics and plots this way, not datasets or models"
_DRIVE = re.compile(r"[A-Za-z]:[/\\]")  # C:/ or C:\, absolute on Windows


def _parts(path: str) -> tuple[str, ...]:
    """``path`` as segments relative to the repository root; ConfigError if it leaves it."""
    if not path or path.startswith(("/", "\\")) or _DRIVE.match(path):
        raise ConfigError(f"{path!r}: expected a path relative to the repository root")
    parts = tuple(part for part in PurePosixPath(path).parts if part != ".")
    if ".." in parts:
        raise ConfigError(f"{path!r}: expected a path inside the repository, without `..`")
    if not parts:
        raise ConfigError(f"{path!r}: expected a file path, not the repository root")
    return parts


def _output_parts(path: str) -> tuple[str, ...] | None:
    """An output's path as segments, or None for one no repository path can be under
    (outside the repository, or absolute: DVC allows external outputs)."""
    try:
        return _parts(path)
    except ConfigError:
        return None


def locate(outputs: Mapping[str, Output], path: str) -> tuple[Output, str | None] | None:
    """Which output of ``outputs`` (a revision's ``dvc.lock``) holds ``path``.

    ``(output, None)`` when ``path`` is an output itself; ``(output, relpath)`` when it
    lies inside a directory output (``relpath`` POSIX, relative to the output); None when
    no output holds it. ``./`` segments are ignored; an absolute path or one with ``..``
    is a ConfigError. The deepest output wins (DVC forbids overlapping outputs, but a lock
    edited by hand need not obey).
    """
    wanted = _parts(path)
    by_parts: dict[tuple[str, ...], Output] = {}
    for output in outputs.values():
        parts = _output_parts(output.path)
        if parts is not None:
            by_parts[parts] = output
    for depth in range(len(wanted), 0, -1):
        holder = by_parts.get(wanted[:depth])
        if holder is None:
            continue
        if depth == len(wanted):
            return holder, None
        if holder.is_dir:
            return holder, "/".join(wanted[depth:])
        # A file output cannot contain anything: look further up.
    return None


def manifest_entries(data: bytes, what: str) -> dict[str, str]:
    """``{relpath: md5}`` of a DVC directory manifest (the bytes of a ``<md5>.dir`` object).

    ``what`` names the manifest in errors. An entry without an md5 (cloud-versioned
    outputs record only a version id) maps to ``""``.
    """
    try:
        entries = json.loads(data)
    except ValueError:
        entries = None
    if not isinstance(entries, list):
        raise DvcError(f"{what}: expected a JSON list of {{md5, relpath}} entries")
    files: dict[str, str] = {}
    for entry in entries:
        relpath = entry.get("relpath") if isinstance(entry, dict) else None
        if not isinstance(relpath, str):
            raise DvcError(f"{what}: expected entries with a `relpath`, got {entry!r:.200}")
        md5 = entry.get("md5")
        files[relpath] = md5 if isinstance(md5, str) else ""
    return files


def _manifest(objects: ObjectReader, output: Output, label: str) -> dict[str, str]:
    """``{relpath: md5}`` of the directory output ``output`` (its md5 known), verified."""
    assert output.md5 is not None
    what = f"{label}: the manifest of DVC directory output {output.path}"
    manifest = objects.read(output.md5, what, MAX_MANIFEST_BYTES, _LIMIT_REASON)
    return manifest_entries(manifest, f"{what} (md5 {output.md5})")


def read_tracked(
    root: Path,
    outputs: Mapping[str, Output],
    path: str,
    rev: str | None,
    repo_url: str | None = None,
) -> bytes | None:
    """The bytes of ``path`` as revision ``rev``'s ``dvc.lock`` (``outputs``) records them.

    For a file output or a file inside a directory output, read from the local DVC cache
    of ``root``, else its default DVC remote (``repo_url``: another repository's), each
    object verified by md5. None when the revision's DVC outputs have no file at ``path``
    (the caller's "absent"). Call it for paths git does not have: a ``cache: false``
    output is in ``dvc.lock`` too but only git keeps its bytes.

    Raises ConfigError for a path outside the repository, DvcError when an object is in
    neither the cache nor the remote (or is over 64 MiB), VerificationError when its
    bytes do not match the recorded md5.
    """
    found = locate(outputs, path)
    if found is None:
        return None
    output, relpath = found
    if relpath is None and output.is_dir:
        return None  # a directory, not a file
    label = f"{path} at {rev or 'workspace'}"
    if output.md5 is None:
        raise DvcError(f"{label}: dvc.lock records no md5 for output {output.path}")
    with ObjectReader(root, repo_url) as objects:
        if relpath is None:
            return objects.read(output.md5, label, MAX_FILE_BYTES, _LIMIT_REASON)
        md5 = _manifest(objects, output, label).get(relpath)
        if md5 is None:
            return None  # not in the directory at this revision, or a folder inside it
        if not md5:
            raise DvcError(f"{label}: the manifest of {output.path} records no md5 for it")
        return objects.read(md5, label, MAX_FILE_BYTES, _LIMIT_REASON)


def list_tracked(
    root: Path,
    outputs: Mapping[str, Output],
    directory: str,
    rev: str | None,
    repo_url: str | None = None,
) -> tuple[str, ...] | None:
    """The files under ``directory`` (repository paths, sorted) as the manifest of the
    directory output that is or holds it records them at ``rev``; None when no directory
    output holds it. Errors as :func:`read_tracked`'s."""
    found = locate(outputs, directory)
    if found is None or not found[0].is_dir:
        return None
    output, relpath = found
    label = f"{directory} at {rev or 'workspace'}"
    if output.md5 is None:
        raise DvcError(f"{label}: dvc.lock records no md5 for output {output.path}")
    with ObjectReader(root, repo_url) as objects:
        files = _manifest(objects, output, label)
    prefix = f"{relpath}/" if relpath else ""
    base = "/".join(_parts(output.path))
    return tuple(sorted(f"{base}/{name}" for name in files if name.startswith(prefix)))

"""What the DVC remote holds for an artefact: present at all, and the right bytes.

Presence is cheap (one existence check per object). Promotion asks for the bytes: it
reads the object from the remote and checks its md5, because a copy changed in the
remote (by accident or on purpose) would otherwise be recorded in a stage and fail, or
worse, load, at deploy time.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from gitml.errors import DvcError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from contextlib import AbstractContextManager
    from pathlib import Path

_CHUNK = 1 << 20


def missing_from_remote(root: Path | str, md5s: list[str], remote: str | None = None) -> list[str]:
    """Which of ``md5s`` the DVC remote (default: the repository's default) does not have."""
    with _remote_odb(root, remote, "status") as odb:
        return [md5 for md5 in md5s if not odb.exists(md5)]


def wrong_in_remote(root: Path | str, md5s: list[str], remote: str | None = None) -> dict[str, str]:
    """``{md5: what is wrong}`` for each of ``md5s`` the remote lacks or holds other bytes
    for; a directory output (``<md5>.dir``) is checked manifest and files alike."""
    problems: dict[str, str] = {}
    with _remote_odb(root, remote, "fetch") as odb:
        for md5 in md5s:
            problem = _check_object(odb, md5)
            if problem:
                problems[md5] = problem
    return problems


def _check_object(odb: Any, md5: str) -> str | None:
    if not odb.exists(md5):
        return "not in the DVC remote"
    path = odb.oid_to_path(md5)
    digest = hashlib.md5(usedforsecurity=False)
    manifest = b"" if md5.endswith(".dir") else None
    with odb.fs.open(path, "rb") as stored:
        for chunk in iter(lambda: stored.read(_CHUNK), b""):
            digest.update(chunk)
            if manifest is not None:
                manifest += chunk
    actual = digest.hexdigest()
    if actual != md5.removesuffix(".dir"):
        return f"the remote's copy has md5 {actual} (changed or corrupt in the remote)"
    if manifest is None:
        return None
    for entry in _manifest_entries(manifest):
        problem = _check_object(odb, entry["md5"])
        if problem:
            return f"{entry.get('relpath', '?')}: {problem}"
    return None


def _manifest_entries(manifest: bytes) -> Iterator[dict[str, str]]:
    try:
        entries = json.loads(manifest)
    except ValueError:
        entries = None
    if not isinstance(entries, list):
        raise DvcError("a directory manifest in the DVC remote is not a JSON list")
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("md5"), str):
            raise DvcError("a directory manifest in the DVC remote has an entry without md5")
        yield entry


def _remote_odb(root: Path | str, remote: str | None, command: str) -> AbstractContextManager[Any]:
    from contextlib import contextmanager

    @contextmanager
    def opened() -> Iterator[Any]:
        try:
            from dvc.repo import Repo

            repo = Repo(str(root))
        except Exception as exc:  # DVC's errors share no useful base class here
            raise _remote_error(exc) from None
        with repo:
            try:
                odb = repo.cloud.get_remote_odb(remote, command)
            except Exception as exc:
                raise _remote_error(exc) from None
            yield odb

    return opened()


def _remote_error(exc: Exception) -> DvcError:
    if isinstance(exc, DvcError):
        return exc
    name = type(exc).__name__
    hint = ""
    if name == "NoRemoteError":
        hint = ": add one with `dvc remote add -d NAME URL` (or skip with --no-verify-remote)"
    return DvcError(f"cannot check the DVC remote ({name}: {exc}){hint}")

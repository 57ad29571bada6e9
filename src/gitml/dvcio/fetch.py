"""Getting the bytes of a DVC-tracked output at a revision, verified by its md5.

The local cache is tried first (no DVC import); otherwise DVC's API fetches the object
from the configured remote. Either way the bytes are checked against the md5 that
``dvc.lock`` records before anyone uses them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from gitml.errors import DvcError, VerificationError


def cache_path(root: Path, md5: str) -> Path:
    """Where DVC 3 keeps the object with this md5 in the repository's local cache."""
    return root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def read_output(
    root: Path | str, path: str, rev: str | None, md5: str, repo_url: str | None = None
) -> bytes:
    """The bytes of ``path`` as recorded at ``rev`` (md5 ``md5``), verified.

    ``repo_url`` makes DVC read another repository (e.g. a ``--repo`` URL) instead.
    """
    root = Path(root)
    cached = cache_path(root, md5)
    if cached.is_file():
        data = cached.read_bytes()
    else:
        data = _from_remote(root, path, rev, md5, repo_url)
    actual = _md5(data)
    if actual != md5:
        raise VerificationError(
            f"{path} at {rev or 'workspace'}: content md5 {actual} differs from the recorded {md5}"
        )
    return data


def _from_remote(root: Path, path: str, rev: str | None, md5: str, url: str | None) -> bytes:
    """The object ``md5`` from the default DVC remote of the current checkout (or of
    ``url``'s default branch).

    Objects are content-addressed, so the current remote configuration (and its
    credentials) serves any revision, even one committed before the remote was added.
    """
    try:
        from dvc.repo import Repo

        with Repo.open(url) if url else Repo(str(root)) as repo:
            odb = repo.cloud.get_remote_odb(None, "fetch")
            data: bytes = odb.fs.read_bytes(odb.oid_to_path(md5))
            return data
    except Exception as exc:  # DVC raises many unrelated types; one message for all
        name = type(exc).__name__
        reason = "not in the DVC remote" if isinstance(exc, FileNotFoundError) else f"{name}: {exc}"
        raise DvcError(
            f"{path} at {rev or 'workspace'} (md5 {md5}): not in the local DVC cache and "
            f"cannot be fetched ({reason}); check the remote and your credentials"
        ) from None

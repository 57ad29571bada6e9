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


def read_output(root: Path | str, path: str, rev: str | None, md5: str) -> bytes:
    """The bytes of ``path`` as recorded at ``rev`` (md5 ``md5``), verified."""
    root = Path(root)
    cached = cache_path(root, md5)
    if cached.is_file():
        data = cached.read_bytes()
    else:
        try:
            import dvc.api

            data = dvc.api.read(path, repo=str(root), rev=rev, mode="rb")
        except Exception as exc:  # DVC raises many unrelated types; one message for all
            raise DvcError(
                f"{path} at {rev or 'workspace'}: cannot fetch from the DVC cache or remote "
                f"({type(exc).__name__}: {exc}); run `dvc pull` or check the remote"
            ) from None
    actual = _md5(data)
    if actual != md5:
        raise VerificationError(
            f"{path} at {rev or 'workspace'}: content md5 {actual} differs from the recorded {md5}"
        )
    return data

"""Is an object in the DVC remote? (The only question promotion and registration ask.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.errors import DvcError

if TYPE_CHECKING:
    from pathlib import Path


def missing_from_remote(root: Path | str, md5s: list[str], remote: str | None = None) -> list[str]:
    """Which of ``md5s`` the DVC remote (default: the repository's default) does not have."""
    try:
        from dvc.repo import Repo

        with Repo(str(root)) as repo:
            odb = repo.cloud.get_remote_odb(remote, "status")
            return [md5 for md5 in md5s if not odb.exists(md5)]
    except DvcError:
        raise
    except Exception as exc:  # DVC's errors share no useful base class here
        name = type(exc).__name__
        hint = ""
        if name == "NoRemoteError":
            hint = ": add one with `dvc remote add -d NAME URL` (or skip with --no-verify-remote)"
        raise DvcError(f"cannot check the DVC remote ({name}: {exc}){hint}") from None

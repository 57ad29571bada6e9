"""Shared pieces of the adoption fixtures: fixed dates, commits, and a git + DVC repository.

The caller provides the isolated environment (``tests.conftest.isolated_environment``):
a git identity, ``main`` as the default branch and DVC kept away from the user's config.
"""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING

from tests.helpers import dvc, run

if TYPE_CHECKING:
    from pathlib import Path

BASE = "main"
REMOTE = "dvc-remote"


class Clock:
    """Fixed, strictly increasing commit and tag dates, one minute apart.

    GTO orders registry events by whole-second tag times, so two events must never share
    a second; fixed dates also make every build of a fixture the same history.
    """

    def __init__(self, start: int = 1_767_225_600) -> None:  # 2026-01-01T00:00:00Z
        self._now = start

    def tick(self) -> dict[str, str]:
        """Advance one minute; the environment that dates the next commit or tag then."""
        self._now += 60
        stamp = f"@{self._now} +0000"
        return {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}

    @property
    def now(self) -> int:
        """The current time, in seconds since the epoch."""
        return self._now


def commit(repo: Path, clock: Clock, message: str) -> str:
    """Stage everything and commit it at the clock's next minute; the new commit's sha."""
    run("git", "add", "-A", cwd=repo)
    run("git", "commit", "-q", "-m", message, cwd=repo, env=clock.tick())
    return run("git", "rev-parse", "HEAD", cwd=repo).stdout.strip()


def init_repo(path: Path, *, remote: bool = True) -> Path:
    """``git init`` + ``dvc init``; with ``remote``, a default local DVC remote beside it."""
    path.mkdir(parents=True)
    run("git", "init", "-q", "-b", BASE, cwd=path)
    dvc(path, "init", "-q")
    if remote:
        # Relative to the repository, so a copy of repository and remote side by side
        # (as the per-test fixtures make) uses its own copy of the remote.
        dvc(path, "remote", "add", "-d", "storage", f"../{REMOTE}")
    return path


def assert_remote_complete(repo: Path) -> None:
    """Every cached output of every commit is in the DVC remote (what the fixtures promise).

    Pushing after each commit, as teams do, is what fills it: one ``dvc push
    --all-commits`` at the end left some earlier revisions' directory outputs out.
    """
    missing = json.loads(dvc(repo, "status", "--cloud", "--all-commits", "--json").stdout)
    assert not missing, f"{repo}: not in the DVC remote: {missing}"


def copy_built(template: Path, dest: Path) -> Path:
    """Copy a built repository and its DVC remote (if any) into the folder ``dest``.

    The remote is named relatively (``../dvc-remote``), so the copy pushes to and pulls
    from its own copy of the remote, never the template's.
    """
    repo = dest / template.name
    shutil.copytree(template, repo, symlinks=True)
    remote = template.parent / REMOTE
    if remote.is_dir():
        shutil.copytree(remote, dest / REMOTE, symlinks=True)
    return repo

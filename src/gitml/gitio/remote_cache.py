"""Reading another repository's registry by URL without cloning it in full.

A bare, blob-less partial clone per URL lives in the user's cache directory; each query
fetches only refs, tags and commits, and git fetches the few blobs a query reads (the
config and lock files) on demand.
"""

from __future__ import annotations

import hashlib
import subprocess  # noqa: TID251 - gitio is the one place that runs git
from typing import TYPE_CHECKING

from gitml.errors import GitError
from gitml.usercache import cache_dir

if TYPE_CHECKING:
    from pathlib import Path

REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")


def _git(*args: str, cwd: Path | None = None) -> None:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        raise GitError(f"git {args[0]}: {lines[-1] if lines else 'failed'}")


def partial_clone(url: str) -> Path:
    """A bare partial clone of ``url`` with up-to-date branches and tags; its path."""
    if url.startswith("-"):
        raise GitError(f"invalid repository URL {url!r}")
    target = cache_dir("repos") / hashlib.sha256(url.encode()).hexdigest()[:16]
    if not (target / "HEAD").exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        _git("clone", "--quiet", "--bare", "--filter=blob:none", "--no-checkout", url, str(target))
    _git("fetch", "--quiet", "--prune", "--filter=blob:none", "origin", *REFSPECS, cwd=target)
    return target

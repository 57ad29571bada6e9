"""A fingerprint of a repository's refs, read from git's ref files without running git.

With git's default "files" ref backend, every ref lives either in ``packed-refs`` (one file
that ``git clone`` and ``git gc`` write) or in a loose file under ``refs/``. Those bytes
are exactly what git itself reads to list the refs, so equal bytes mean equal refs. A
query that only needs to know whether the refs changed reads them in a fraction of a
millisecond per thousand refs, where even ``git show-ref`` needs a process and several
milliseconds at ten thousand tags.

Whenever the files cannot be read this way (the reftable backend, ``GIT_DIR`` set, a
path that is not a repository's top level, many loose refs), :func:`ref_fingerprint`
returns None and callers fall back to :func:`gitml.gitio.refs.ref_listing`.
"""

from __future__ import annotations

import os
from pathlib import Path

# More loose ref files than this (a repository whose refs were never packed) cost more to
# read one by one than git's own listing.
MAX_LOOSE_REFS = 256


def git_dirs(root: Path) -> tuple[Path, Path] | None:
    """The git directory of the work tree (or bare repository) at ``root`` and its common
    directory (where shared refs live: they differ in a linked worktree), or None."""
    dot_git = root / ".git"
    if dot_git.is_dir():
        git_dir = dot_git
    elif dot_git.is_file():  # a linked worktree: "gitdir: <path>"
        text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
        if not text.startswith("gitdir: "):
            return None
        git_dir = (root / text[8:]).resolve()
    elif (root / "HEAD").is_file() and (root / "refs").is_dir():
        git_dir = root  # a bare repository
    else:
        return None
    common = git_dir
    commondir = git_dir / "commondir"
    if commondir.is_file():
        common = (git_dir / commondir.read_text(encoding="utf-8").strip()).resolve()
    return git_dir, common


def ref_fingerprint(root: Path) -> bytes | None:
    """The bytes of the shared ref store at ``root`` (packed-refs, then each loose ref's
    name and content), or None when they cannot be read directly."""
    if os.environ.get("GIT_DIR") or os.environ.get("GIT_COMMON_DIR"):
        return None
    try:
        dirs = git_dirs(root)
        if dirs is None:
            return None
        common = dirs[1]
        if (common / "reftable").exists():
            return None
        try:
            packed = (common / "packed-refs").read_bytes()
        except FileNotFoundError:
            packed = b""
        loose = _loose_refs(common / "refs")
    except (OSError, UnicodeDecodeError):
        return None
    if loose is None:
        return None
    parts = [b"packed-refs\0", packed]
    for name, content in sorted(loose):
        parts += [b"\0", name.encode("utf-8", "surrogateescape"), b"\0", content]
    return b"".join(parts)


def _loose_refs(refs_dir: Path) -> list[tuple[str, bytes]] | None:
    """(relative name, content) of every loose ref file, or None past MAX_LOOSE_REFS."""
    found: list[tuple[str, bytes]] = []
    pending = [refs_dir]
    while pending:
        folder = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
                    continue
                if entry.name.endswith(".lock"):
                    continue  # an update in flight; its result shows in the next read
                if len(found) >= MAX_LOOSE_REFS:
                    return None
                with open(entry.path, "rb") as ref_file:
                    found.append((os.path.relpath(entry.path, refs_dir), ref_file.read()))
    return found

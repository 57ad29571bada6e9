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

# Not typing.TYPE_CHECKING, and os.path rather than pathlib: this module is on the path of a
# replayed query (gitml.cli.replay), which imports neither.
TYPE_CHECKING = False
if TYPE_CHECKING:
    StrPath = str | os.PathLike[str]

# More loose ref files than this (a repository whose refs were never packed) cost more to
# read one by one than git's own listing.
MAX_LOOSE_REFS = 256


def git_dirs(root: StrPath) -> tuple[str, str] | None:
    """The git directory of the work tree (or bare repository) at ``root`` and its common
    directory (where shared refs live: they differ in a linked worktree), or None."""
    root = os.fspath(root)
    dot_git = os.path.join(root, ".git")
    if os.path.isdir(dot_git):
        git_dir = dot_git
    elif os.path.isfile(dot_git):  # a linked worktree: "gitdir: <path>"
        with open(dot_git, encoding="utf-8", errors="replace") as link:
            text = link.read().strip()
        if not text.startswith("gitdir: "):
            return None
        git_dir = os.path.realpath(os.path.join(root, text[8:]))
    elif os.path.isfile(os.path.join(root, "HEAD")) and os.path.isdir(os.path.join(root, "refs")):
        git_dir = root  # a bare repository
    else:
        return None
    common = git_dir
    commondir = os.path.join(git_dir, "commondir")
    if os.path.isfile(commondir):
        with open(commondir, encoding="utf-8") as pointer:
            common = os.path.realpath(os.path.join(git_dir, pointer.read().strip()))
    return git_dir, common


def ref_fingerprint(root: StrPath) -> bytes | None:
    """The bytes of the shared ref store at ``root`` (packed-refs, then each loose ref's
    name and content), or None when they cannot be read directly."""
    if os.environ.get("GIT_DIR") or os.environ.get("GIT_COMMON_DIR"):
        return None
    try:
        dirs = git_dirs(root)
        if dirs is None:
            return None
        common = dirs[1]
        if os.path.exists(os.path.join(common, "reftable")):
            return None
        try:
            with open(os.path.join(common, "packed-refs"), "rb") as packed_file:
                packed = packed_file.read()
        except FileNotFoundError:
            packed = b""
        loose = _loose_refs(os.path.join(common, "refs"))
    except (OSError, UnicodeDecodeError):
        return None
    if loose is None:
        return None
    parts = [b"packed-refs\0", packed]
    for name, content in sorted(loose):
        parts += [b"\0", name.encode("utf-8", "surrogateescape"), b"\0", content]
    return b"".join(parts)


def _loose_refs(refs_dir: str) -> list[tuple[str, bytes]] | None:
    """(relative name, content) of every loose ref file, or None past MAX_LOOSE_REFS."""
    found: list[tuple[str, bytes]] = []
    pending = [refs_dir]
    while pending:
        folder = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                    continue
                if entry.name.endswith(".lock"):
                    continue  # an update in flight; its result shows in the next read
                if len(found) >= MAX_LOOSE_REFS:
                    return None
                with open(entry.path, "rb") as ref_file:
                    found.append((os.path.relpath(entry.path, refs_dir), ref_file.read()))
    return found

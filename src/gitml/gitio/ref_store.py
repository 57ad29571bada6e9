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

``packed-refs`` grows with the registry (1.7 MB at 10,000 versions), so the fingerprint
holds its digest, not its bytes, and the digest is kept in the user cache with the file's
``stat`` signature (device, inode, size, modification and change times). A later read
with the same signature takes the kept digest without reading the file. That is git's own
rule for trusting its index by ``stat``, including its answer to "racy" files: a digest is
kept only when the file's times are well before the moment it was read, because any
later write, rename or restore gives the file a change time (set by the kernel, never by
the writer) at or after that moment.
"""

from __future__ import annotations

import os
import time

from gitml import usercache

# Not typing.TYPE_CHECKING, and os.path rather than pathlib: this module is on the path of a
# replayed query (gitml.cli.replay), which imports neither.
TYPE_CHECKING = False
if TYPE_CHECKING:
    StrPath = str | os.PathLike[str]

# A packed-refs file changed less than this long before it was read may still be changing
# within the file system's time resolution: its digest is not kept ("racy", as git says).
SETTLED_NS = 2_000_000_000
_FORMAT = "packed-refs-digest/1"

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
    """What the shared ref store at ``root`` holds: the digest of packed-refs, then each
    loose ref's name and content; or None when the files cannot be read directly. Equal
    fingerprints mean equal refs."""
    if os.environ.get("GIT_DIR") or os.environ.get("GIT_COMMON_DIR"):
        return None
    try:
        dirs = git_dirs(root)
        if dirs is None:
            return None
        common = dirs[1]
        if os.path.exists(os.path.join(common, "reftable")):
            return None
        packed = _packed_refs_digest(os.path.join(common, "packed-refs"))
        loose = _loose_refs(os.path.join(common, "refs"))
    except (OSError, UnicodeDecodeError):
        return None
    if loose is None:
        return None
    parts = [b"packed-refs\0", packed.encode()]
    for name, content in sorted(loose):
        parts += [b"\0", name.encode("utf-8", "surrogateescape"), b"\0", content]
    return b"".join(parts)


def _signature(stat: os.stat_result) -> tuple[int, int, int, int, int]:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def _packed_refs_digest(path: str) -> str:
    """The digest of the bytes of ``packed-refs`` at ``path`` ("" when there is none),
    from the user cache when the file's ``stat`` signature is the one it was kept with."""
    try:
        signature = _signature(os.stat(path))
    except FileNotFoundError:
        return ""
    kept_at = None
    if usercache.enabled():
        kept_at = usercache.cache_path("refs", usercache.digest(os.path.realpath(path)))
        kept = usercache.read_marshal(kept_at, _FORMAT)
        if type(kept) is tuple and len(kept) == 2 and kept[0] == signature:
            return str(kept[1])
    started = time.time_ns()
    with open(path, "rb") as packed_file:
        before = _signature(os.fstat(packed_file.fileno()))
        digest = usercache.digest(packed_file.read())
        after = _signature(os.fstat(packed_file.fileno()))
    settled = max(after[3], after[4]) < started - SETTLED_NS
    if kept_at is not None and before == after and settled:
        usercache.write_marshal(kept_at, _FORMAT, (after, digest))
    return digest


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

"""Annotated tag objects, read in one ``git cat-file --batch`` and remembered by object id.

A tag object never changes (its id is the hash of its content), so what a registry read
learnt about a tag holds forever: the user cache keeps every tag of a repository by id,
and a later read asks git only for the tags it has not seen, usually none or the one
just pushed. The cache is an optimisation only: without it (``GITML_NO_CACHE=1``, a
read-only home, a corrupt file) every tag is read from git and the answer is the same.
"""

from __future__ import annotations

import os
import subprocess  # noqa: TID251 - gitio is the one place that runs git
from typing import TYPE_CHECKING, Any, BinaryIO

from gitml import usercache
from gitml.errors import GitError

if TYPE_CHECKING:
    from pathlib import Path

# (target object, tagger name, tagger email, tagger time in Unix seconds, message);
# None for an object that is no annotated tag with a tagger (a lightweight tag's commit).
TagFields = tuple[str, str, str, int, str] | None

# The cache file's format (a marshal file: a 16,000-tag cache loads in a quarter of
# JSON's time).
_FORMAT = "tag-objects/2"


def read_tag_objects(repo: Path, oids: list[str]) -> dict[str, TagFields]:
    """What each object in ``oids`` records, through one ``git cat-file --batch``."""
    if not oids:
        return {}
    # The ids go in through a file (through a pipe, subprocess writes them in small
    # chunks, a poll each), and --buffer stops git flushing after every object. The
    # objects are parsed as they arrive, in large reads: on two cores, parsing 16,000
    # tags overlaps git's reading them instead of waiting for it.
    with _unnamed_file() as request, _unnamed_file() as errors:
        request.write("".join(f"{oid}\n" for oid in oids).encode("ascii"))
        request.seek(0)
        try:
            process = subprocess.Popen(
                ["git", "cat-file", "--batch", "--buffer"],
                cwd=repo,
                stdin=request,
                stdout=subprocess.PIPE,
                stderr=errors,
            )
        except OSError as exc:
            raise GitError(f"cannot run git: {exc}") from None
        assert process.stdout is not None
        _widen_pipe(process.stdout.fileno())
        found: list[TagFields] = []
        pending = b""
        with process:
            assert process.stdout is not None
            read = process.stdout.read1  # type: ignore[attr-defined]  # a BufferedReader
            while chunk := read(_READ_SIZE):
                data = pending + chunk if pending else chunk
                pending = data[parse_objects(data, found) :]
        if process.returncode != 0:
            errors.seek(0)
            message = errors.read().decode("utf-8", "replace").strip().splitlines()
            raise GitError(f"git cat-file: {message[-1] if message else 'failed'}")
    if pending or len(found) != len(oids):
        raise GitError(f"git cat-file: {len(found)} of {len(oids)} objects, then the output ended")
    return dict(zip(oids, found, strict=True))


_READ_SIZE = 1 << 20


def _unnamed_file() -> BinaryIO:
    """A read-write file with no name: in memory on Linux (``memfd_create``), else a
    temporary file (``tempfile``'s import alone is ~6 ms of a first query)."""
    if hasattr(os, "memfd_create"):
        return open(os.memfd_create("gitml-cat-file"), "w+b")
    import tempfile

    return tempfile.TemporaryFile()


def _widen_pipe(descriptor: int) -> None:
    """Let git write up to ``_READ_SIZE`` ahead of the parser (Linux; 64 KiB by default),
    so that neither waits on the other for every few objects."""
    try:
        import fcntl

        fcntl.fcntl(descriptor, fcntl.F_SETPIPE_SZ, _READ_SIZE)
    except (ImportError, AttributeError, OSError):
        pass  # another platform, or a lower pipe-max-size: the default pipe still works


def parse_objects(data: bytes, found: list[TagFields]) -> int:
    """Append each whole object of ``cat-file --batch`` output in ``data`` to ``found``, as
    :data:`TagFields`; return where the first incomplete one starts (``len(data)`` when
    none is), so output read in pieces parses piece by piece."""
    position = 0
    end = len(data)
    while position < end:
        newline = data.find(b"\n", position)
        if newline < 0:
            break
        header = data[position:newline].split()
        if len(header) != 3:  # "<oid> missing": a ref to an object the repository lacks
            found.append(None)
            position = newline + 1
            continue
        stop = newline + 1 + int(header[2])
        if stop >= end:  # the object, then its newline, are not all here yet
            break
        found.append(_tag_fields(data[newline + 1 : stop]) if header[1] == b"tag" else None)
        position = stop + 1
    return position


def _tag_fields(content: bytes) -> TagFields:
    """Target, tagger and message of a raw tag object (None without a tagger line).

    Git writes the headers in a fixed order: object, type, tag, tagger, then a blank line
    and the message.
    """
    text = content.decode("utf-8", "replace")
    if not text.startswith("object "):
        return None
    target = text[7 : text.find("\n")]
    start = text.find("\ntagger ")
    body = text.find("\n\n")
    if start < 0 or (0 <= body < start):
        return None
    line_end = text.find("\n", start + 1)
    line = text[start + 8 : line_end if line_end >= 0 else len(text)]
    # "Name <email> 1700000000 +0000"; git allows no "<" or ">" inside name or email.
    opening, closing = line.find("<"), line.rfind(">")
    when = line[closing + 1 :].split()
    if opening < 0 or closing < opening or not when or not when[0].lstrip("-").isdigit():
        return None
    message = text[body + 2 :] if body >= 0 else ""
    return (target, line[:opening].strip(), line[opening + 1 : closing], int(when[0]), message)


def _cache_file(repo: Path) -> Path:
    return usercache.cache_dir("tags") / f"{usercache.digest(str(repo.resolve()))}.marshal"


def _known_entries(entries: Any) -> dict[str, TagFields]:
    """The entries of a cache file's payload that have :data:`TagFields`' shape."""
    if type(entries) is not dict:
        return {}
    # An entry of another shape is read from git again (a shape check per entry,
    # inline: this runs for every tag of the repository).
    return {
        oid: fields
        for oid, fields in entries.items()
        if fields is None or (type(fields) is tuple and len(fields) == 5 and type(fields[3]) is int)
    }


def tags_by_id(repo: Path, oids: list[str]) -> dict[str, TagFields]:
    """What each object in ``oids`` records: from the cache, and from git for the rest.

    The cache is then rewritten to hold exactly ``oids``, so deleted tags leave it.
    """
    if not usercache.enabled():
        return read_tag_objects(repo, oids)
    cache_file = _cache_file(repo)
    known = _known_entries(usercache.read_marshal(cache_file, _FORMAT))
    unknown = [oid for oid in oids if oid not in known]
    found = {oid: known[oid] for oid in oids if oid in known}
    found.update(read_tag_objects(repo, unknown))
    if unknown or len(known) != len(found):
        usercache.write_marshal(cache_file, _FORMAT, found)
    return found

"""Annotated tag objects, read in one ``git cat-file --batch`` and cached by object id.

A tag object never changes (its id is the hash of its content), so what a registry read
learnt about a tag holds forever: the user cache keeps the tags of each repository by
id, and a later read asks git only for the tags it has not seen, usually none or the one
just pushed. This is gitml's only cache of repository data, and it cannot be stale. It
is an optimisation only: without it (``GITML_NO_CACHE=1``, a read-only home, a corrupt
or oversized file) every tag is read from git and the answer is the same.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import subprocess  # noqa: TID251 - gitio is the one place that runs git
from typing import TYPE_CHECKING, Any

from gitml import usercache
from gitml.errors import GitError
from gitml.fsutil import atomic_write_bytes

if TYPE_CHECKING:
    from pathlib import Path

# (target object, tagger name, tagger email, tagger time in Unix seconds, message);
# None for an object that is no annotated tag with a tagger (a lightweight tag's commit).
TagFields = tuple[str, str, str, int, str] | None

CACHE_FORMAT = 1
# A registry with pathological tag messages must not fill the user's disk: a larger cache
# is not written (reads then ask git for every tag, as with the cache off).
MAX_CACHE_BYTES = 64 << 20


def read_tag_objects(repo: Path, oids: list[str]) -> dict[str, TagFields]:
    """What each object in ``oids`` records, through one ``git cat-file --batch``."""
    if not oids:
        return {}
    request = "".join(f"{oid}\n" for oid in oids).encode("ascii")
    try:
        result = subprocess.run(
            ["git", "cat-file", "--batch"], cwd=repo, input=request, capture_output=True
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git cat-file: {message[-1] if message else 'failed'}")
    found = parse_objects(result.stdout)
    if len(found) != len(oids):
        raise GitError(f"git cat-file: {len(found)} of {len(oids)} objects, then the output ended")
    return dict(zip(oids, found, strict=True))


def parse_objects(data: bytes) -> list[TagFields]:
    """Each object of ``cat-file --batch`` output, as :data:`TagFields`, in order.

    Output that ends inside an object yields the objects before it; the caller compares
    the count with what it asked for.
    """
    found: list[TagFields] = []
    position = 0
    while position < len(data):
        newline = data.find(b"\n", position)
        if newline < 0:
            break
        header = data[position:newline].split()
        if len(header) != 3:  # "<oid> missing": a ref to an object the repository lacks
            found.append(None)
            position = newline + 1
            continue
        stop = newline + 1 + int(header[2])
        if stop >= len(data):  # the object, then its newline, are not all here
            break
        found.append(_tag_fields(data[newline + 1 : stop]) if header[1] == b"tag" else None)
        position = stop + 1
    return found


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


def cache_file(repo: Path) -> Path:
    """The tag cache of the repository at ``repo``: one JSON file, named by its path."""
    name = hashlib.sha256(str(repo.resolve()).encode("utf-8", "surrogateescape")).hexdigest()
    return usercache.cache_dir("tags") / f"{name[:32]}.json"


def _read_cache(path: Path) -> dict[str, TagFields]:
    """The cached tags with the shape :data:`TagFields` has; anything else is ignored."""
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(document, dict) or document.get("format") != CACHE_FORMAT:
        return {}
    tags = document.get("tags")
    if not isinstance(tags, dict):
        return {}
    cached: dict[str, TagFields] = {}
    for oid, entry in tags.items():
        if entry is None:
            cached[oid] = None
        elif _is_tag_fields(entry):
            cached[oid] = (entry[0], entry[1], entry[2], entry[3], entry[4])
    return cached


def _is_tag_fields(entry: Any) -> bool:
    """Whether a cached entry is :data:`TagFields` as JSON wrote it (a list)."""
    return (
        isinstance(entry, list)
        and len(entry) == 5
        and type(entry[3]) is int
        and all(isinstance(entry[i], str) for i in (0, 1, 2, 4))
    )


def _write_cache(path: Path, tags: dict[str, TagFields]) -> None:
    data = json.dumps({"format": CACHE_FORMAT, "tags": tags}, separators=(",", ":")).encode()
    if len(data) > MAX_CACHE_BYTES:
        return
    with contextlib.suppress(OSError):  # a read-only or full home: the next read asks git
        atomic_write_bytes(path, data)


def tags_by_id(repo: Path, oids: list[str]) -> dict[str, TagFields]:
    """What each object in ``oids`` records: from the cache, and from git for the rest.

    The cache is then rewritten to hold exactly ``oids``, so deleted tags leave it.
    """
    if not usercache.enabled():
        return read_tag_objects(repo, oids)
    path = cache_file(repo)
    known = _read_cache(path)
    unknown = [oid for oid in oids if oid not in known]
    found = {oid: known[oid] for oid in oids if oid in known}
    found.update(read_tag_objects(repo, unknown))
    if unknown or len(known) != len(found):
        _write_cache(path, found)
    return found

"""Every tag and branch of a repository: one ``git show-ref``, one ``cat-file --batch``.

The listing names each ref and the object it points at without reading any object;
annotated tags' targets, taggers and messages then come from the user cache of tag
objects, or from one ``git cat-file --batch`` for the tags not seen before. A registry
query never runs a process per tag.
"""

from __future__ import annotations

import subprocess  # noqa: TID251 - gitio is the one place that runs git
from typing import TYPE_CHECKING, NamedTuple

from gitml.errors import GitError

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path


class TagRecord(NamedTuple):
    """An annotated tag: name, the commit it points at, tagger, time and message.

    A tuple, not a dataclass: a registry reads thousands of these per query.
    """

    name: str
    commit: str
    tagger: str
    email: str
    timestamp: int  # tagger date, Unix seconds
    message: str

    @property
    def created_at(self) -> datetime:
        """The tagger date, in UTC."""
        from datetime import UTC, datetime

        return datetime.fromtimestamp(self.timestamp, tz=UTC)


class RefSnapshot(NamedTuple):
    """All annotated tags, lightweight tag names, and branch tips (local and remote)."""

    tags: list[TagRecord]
    lightweight_tags: list[str]
    branches: dict[str, str]  # "main", "origin/main" -> commit sha
    listing: bytes  # these refs as :func:`ref_listing` prints them


def read_refs(repo: Path, listing: bytes | None = None) -> RefSnapshot:
    """Every tag and branch of ``repo``: the ref listing, then the tag objects it names.

    ``listing`` is :func:`ref_listing`'s output when the caller has it already. Tag
    objects come from the user cache by id, and from one ``git cat-file --batch`` for the
    ones not seen before (see :mod:`gitml.gitio.tag_objects`).
    """
    if listing is None:
        listing = ref_listing(repo)
    lines = listing.decode("utf-8", "replace").splitlines()
    tag_refs: list[tuple[str, str]] = []
    branches: dict[str, str] = {}
    for line in lines:
        oid, _, refname = line.partition(" ")
        if refname.startswith("refs/tags/"):
            tag_refs.append((refname[10:], oid))
        elif refname.startswith("refs/heads/"):
            branches[refname[11:]] = oid
        elif refname.startswith("refs/remotes/") and not refname.endswith("/HEAD"):
            branches[refname[13:]] = oid
    from gitml.gitio.tag_objects import tags_by_id  # not needed for a bare listing

    objects = tags_by_id(repo, list(dict.fromkeys(oid for _, oid in tag_refs)))
    tags: list[TagRecord] = []
    lightweight: list[str] = []
    for name, oid in tag_refs:
        fields = objects.get(oid)
        if fields is None:
            lightweight.append(name)
        else:
            tags.append(TagRecord(name, *fields))
    return RefSnapshot(tags, lightweight, branches, listing)


def ref_listing(repo: Path) -> bytes:
    """Every ref with the object id it names, one ``<id> <name>`` line each, sorted by name.

    ``git show-ref`` reads no object (names and ids come from the ref store) and is about
    twice as fast as ``for-each-ref`` at this, so it stays cheap at any size. Git objects
    are immutable, so two equal listings describe the same tags, tag messages and branch
    tips: the listing identifies a registry's whole state.
    """
    try:
        process = subprocess.Popen(
            ["git", "show-ref"], cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}") from None
    # Read directly rather than through communicate(): its poll loop costs more than git's
    # work on a large listing, and show-ref writes at most a line to stderr.
    assert process.stdout is not None
    assert process.stderr is not None
    with process:
        listing = process.stdout.read()
        errors = process.stderr.read()
    if process.returncode == 1 and not listing and not errors:
        return b""  # a repository without refs
    if process.returncode != 0:
        message = errors.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git show-ref: {message[-1] if message else 'failed'}")
    return listing

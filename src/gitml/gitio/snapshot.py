"""Every tag and branch tip of a repository: one ``git show-ref``, one ``cat-file --batch``.

The listing names each ref and the object it points at without reading any object;
annotated tags' targets, taggers and messages then come from the tag cache, or from one
``git cat-file --batch`` for the tags not seen before (:mod:`gitml.gitio.tag_objects`).
A registry query never runs a process per tag.
"""

from __future__ import annotations

import subprocess  # noqa: TID251 - gitio is the one place that runs git
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from gitml.errors import GitError
from gitml.gitio.tag_objects import tags_by_id

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True, slots=True)
class TagRecord:
    """An annotated tag: name, the commit it points at, tagger, time and message."""

    name: str
    commit: str
    tagger: str
    email: str
    timestamp: int  # tagger date, Unix seconds
    message: str

    @property
    def created_at(self) -> datetime:
        """The tagger date, in UTC."""
        return datetime.fromtimestamp(self.timestamp, tz=UTC)


@dataclass(frozen=True)
class RefSnapshot:
    """All annotated tags, lightweight tag names, and branch tips (local and remote)."""

    tags: list[TagRecord]
    lightweight_tags: list[str]
    branches: dict[str, str]  # "main", "origin/main" -> commit sha


def read_refs(repo: Path) -> RefSnapshot:
    """Every tag and branch of ``repo``: the ref listing, then the tag objects it names."""
    tag_refs: list[tuple[str, str]] = []
    branches: dict[str, str] = {}
    for line in ref_listing(repo).decode("utf-8", "replace").splitlines():
        oid, _, refname = line.partition(" ")
        if refname.startswith("refs/tags/"):
            tag_refs.append((refname.removeprefix("refs/tags/"), oid))
        elif refname.startswith("refs/heads/"):
            branches[refname.removeprefix("refs/heads/")] = oid
        elif refname.startswith("refs/remotes/") and not refname.endswith("/HEAD"):
            branches[refname.removeprefix("refs/remotes/")] = oid
    objects = tags_by_id(repo, list(dict.fromkeys(oid for _, oid in tag_refs)))
    tags: list[TagRecord] = []
    lightweight: list[str] = []
    for name, oid in tag_refs:
        fields = objects.get(oid)
        if fields is None:
            lightweight.append(name)
        else:
            tags.append(TagRecord(name, *fields))
    return RefSnapshot(tags, lightweight, branches)


def ref_listing(repo: Path) -> bytes:
    """Every ref with the object id it names, one ``<id> <name>`` line each, sorted by name.

    ``git show-ref`` reads no object (names and ids come from the ref store), so it stays
    cheap however many versions a registry holds.
    """
    try:
        result = subprocess.run(["git", "show-ref"], cwd=repo, capture_output=True)
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}") from None
    if result.returncode == 1 and not result.stdout and not result.stderr:
        return b""  # a repository without refs
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git show-ref: {message[-1] if message else 'failed'}")
    return result.stdout

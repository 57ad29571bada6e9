"""Every tag and branch of a repository from one ``git for-each-ref`` process.

Annotated tags come with their target commit, tagger and message, so a registry query
never runs a process per tag.
"""

from __future__ import annotations

import subprocess  # noqa: TID251 - gitio is the one place that runs git
from typing import TYPE_CHECKING, NamedTuple

from gitml.errors import GitError

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

# Fields are NUL-separated; a record ends with NUL, US, NUL (none of which occur in refs,
# names, dates or messages, which git stores as NUL-free text).
_FIELDS = (
    "%(refname)",
    "%(objecttype)",
    "%(objectname)",
    "%(*objectname)",
    "%(taggername)",
    "%(taggeremail:trim)",
    "%(taggerdate:unix)",
    "%(contents)",
)
_FORMAT = "%00".join(_FIELDS) + "%00%1f%00"
_END = "\0\x1f\0"
_NAMESPACES = ("refs/tags", "refs/heads", "refs/remotes")


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
    listing: bytes = b""  # these refs as :func:`ref_listing` prints them


def _for_each_ref(repo: Path, fields: str) -> bytes:
    """``git for-each-ref --format=FIELDS`` over tags, branches and remote-tracking refs."""
    try:
        result = subprocess.run(
            ["git", "for-each-ref", f"--format={fields}", *_NAMESPACES],
            cwd=repo,
            capture_output=True,
            check=False,
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git for-each-ref: {message[-1] if message else 'failed'}")
    return result.stdout


def read_refs(repo: Path) -> RefSnapshot:
    """Read every tag and branch of ``repo`` with a single ``git for-each-ref``."""
    output = _for_each_ref(repo, _FORMAT)
    tags: list[TagRecord] = []
    lightweight: list[str] = []
    branches: dict[str, str] = {}
    listing: list[str] = []
    fields = len(_FIELDS)
    for record in output.decode("utf-8", "replace").split(_END):
        parts = record.lstrip("\n").split("\0")
        if len(parts) != fields:
            continue  # the empty tail after the last record
        refname, objtype, objname, peeled, tagger, email, date, contents = parts
        listing.append(f"{objname} {refname}\n")
        if refname.startswith("refs/tags/"):
            if objtype == "tag" and peeled and date:
                tags.append(TagRecord(refname[10:], peeled, tagger, email, int(date), contents))
            else:
                lightweight.append(refname[10:])
        elif refname.startswith("refs/heads/"):
            branches[refname[11:]] = objname
        elif not refname.endswith("/HEAD"):
            branches[refname[13:]] = objname  # refs/remotes/
    return RefSnapshot(tags, lightweight, branches, "".join(listing).encode("utf-8"))


def ref_listing(repo: Path) -> bytes:
    """Every tag, branch and remote-tracking ref with the object id it names, as git prints it.

    No object is read (names and ids come from the ref store), so this costs a fraction of
    :func:`read_refs`. Git objects are immutable, so two equal listings describe the same
    tags, tag messages and branch tips: the listing identifies a registry's whole state.
    """
    return _for_each_ref(repo, "%(objectname) %(refname)")

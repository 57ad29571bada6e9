"""Every tag and branch of a repository from one ``git for-each-ref`` process.

Annotated tags come with their target commit, tagger and message, so a registry query
never runs a process per tag.
"""

from __future__ import annotations

import subprocess  # noqa: TID251 - gitio is the one place that runs git
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from gitml.errors import GitError

if TYPE_CHECKING:
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


@dataclass(frozen=True)
class TagRecord:
    """An annotated tag: name, the commit it points at, tagger, time and message."""

    name: str
    commit: str
    tagger: str
    email: str
    created_at: datetime
    message: str


@dataclass(frozen=True)
class RefSnapshot:
    """All annotated tags, lightweight tag names, and branch tips (local and remote)."""

    tags: tuple[TagRecord, ...]
    lightweight_tags: tuple[str, ...]
    branches: dict[str, str]  # "main", "origin/main" -> commit sha


def read_refs(repo: Path) -> RefSnapshot:
    """Read every tag and branch of ``repo`` with a single ``git for-each-ref``."""
    try:
        result = subprocess.run(
            [
                "git",
                "for-each-ref",
                f"--format={_FORMAT}",
                "refs/tags",
                "refs/heads",
                "refs/remotes",
            ],
            cwd=repo,
            capture_output=True,
            check=False,
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git for-each-ref: {message[-1] if message else 'failed'}")
    tags, lightweight, branches = [], [], {}
    for record in result.stdout.decode("utf-8", "replace").split(_END):
        record = record.lstrip("\n")
        if not record:
            continue
        parts = record.split("\0")
        if len(parts) != len(_FIELDS):
            continue
        refname, objtype, objname, peeled, tagger, email, date, contents = parts
        if refname.startswith("refs/heads/"):
            branches[refname.removeprefix("refs/heads/")] = objname
        elif refname.startswith("refs/remotes/"):
            if not refname.endswith("/HEAD"):
                branches[refname.removeprefix("refs/remotes/")] = objname
        elif objtype == "tag" and peeled and date:
            tags.append(
                TagRecord(
                    name=refname.removeprefix("refs/tags/"),
                    commit=peeled,
                    tagger=tagger,
                    email=email,
                    created_at=datetime.fromtimestamp(int(date), tz=UTC),
                    message=contents,
                )
            )
        else:
            lightweight.append(refname.removeprefix("refs/tags/"))
    return RefSnapshot(tuple(tags), tuple(lightweight), branches)

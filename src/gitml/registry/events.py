"""Registry events: what each registry tag records, with who, when and which commit.

Tag messages written by gitml carry ``key: value`` fields (artifact hash, pull request,
merger, metrics); tags written by GTO alone carry free text and parse with no fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gitml.registry.names import Action, TagName

if TYPE_CHECKING:
    from datetime import datetime

    from gitml.gitio.refs import TagRecord


@dataclass(frozen=True)
class Event:
    """One registry tag, interpreted."""

    model: str
    action: Action
    tag: str
    commit: str
    created_at: datetime
    author: str
    email: str
    message: str
    version: str | None = None
    stage: str | None = None
    counter: int | None = None
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def md5(self) -> str | None:
        """The artefact hash the tag records (gitml tags), or None."""
        return self.fields.get("md5")

    @property
    def pull_request(self) -> int | None:
        """The pull request number recorded in the tag, if any."""
        value = self.fields.get("pull-request", "").lstrip("#")
        return int(value) if value.isdigit() else None

    @property
    def is_rollback(self) -> bool:
        """Whether this assignment was recorded as a rollback."""
        return self.fields.get("kind") == "rollback"


def parse_fields(message: str) -> dict[str, str]:
    """``key: value`` lines of a tag message (after its subject line)."""
    fields = {}
    for line in message.splitlines()[1:]:
        key, sep, value = line.partition(": ")
        if sep and key and " " not in key and key == key.lower():
            fields[key] = value.strip()
    return fields


def format_message(subject: str, fields: dict[str, str | None]) -> str:
    """A tag message: a subject line, a blank line, then ``key: value`` lines."""
    lines = [subject, ""]
    lines += [f"{key}: {value}" for key, value in fields.items() if value not in (None, "")]
    return "\n".join(lines) + "\n"


def event_from_tag(record: TagRecord) -> Event | None:
    """The registry event a tag records, or None for a tag of another tool."""
    parsed = TagName.parse(record.name)
    if parsed is None:
        return None
    return Event(
        model=parsed.model,
        action=parsed.action,
        tag=record.name,
        commit=record.commit,
        created_at=record.created_at,
        author=record.tagger,
        email=record.email,
        message=record.message.strip(),
        version=parsed.version,
        stage=parsed.stage,
        counter=parsed.counter,
        fields=parse_fields(record.message),
    )

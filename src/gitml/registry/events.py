"""Registry events: what each registry tag records, with who, when and which commit.

A tag gitml wrote carries a :class:`~gitml.registry.record.Record`; a tag written by
GTO alone (or by hand) carries free text and has none. Which of them a read believes is
the reader's decision (:mod:`gitml.registry.state`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from gitml.registry.names import Action, TagName
from gitml.registry.record import Kind, Record, parse_record

if TYPE_CHECKING:
    from gitml.gitio.snapshot import TagRecord


@dataclass(frozen=True, slots=True)
class Event:
    """One registry tag, interpreted."""

    model: str
    action: Action
    tag: str
    commit: str
    timestamp: int  # tagger date, Unix seconds (GTO's resolution too)
    author: str
    email: str
    message: str
    version: str | None = None
    stage: str | None = None
    counter: int | None = None
    record: Record | None = None  # None: no gitml record, or one that disagrees with the name

    def __repr__(self) -> str:
        return f"Event({self.tag!r}, {self.action.value}, {self.commit[:12]})"

    @property
    def created_at(self) -> datetime:
        """The tagger date, in UTC."""
        return datetime.fromtimestamp(self.timestamp, tz=UTC)

    @property
    def recorded_version(self) -> str | None:
        """The version the tag names, or for an assignment the one its record names."""
        return self.version or (self.record.version if self.record else None)

    @property
    def pull_request(self) -> int | None:
        """The pull request number the record holds, if any."""
        return self.record.pull_request if self.record else None

    @property
    def is_rollback(self) -> bool:
        """Whether this assignment was recorded as a rollback."""
        return self.record is not None and self.record.kind is Kind.ROLLBACK


def event_from_tag(record: TagRecord) -> Event | None:
    """The registry event a tag records, or None for a tag of another tool."""
    parsed = TagName.parse(record.name)
    if parsed is None:
        return None
    found = parse_record(record.message)
    return Event(
        parsed.model,
        parsed.action,
        record.name,
        record.commit,
        record.timestamp,
        record.tagger,
        record.email,
        record.message.strip(),
        parsed.version,
        parsed.stage,
        parsed.counter,
        found if found is not None and found.agrees_with(parsed) else None,
    )

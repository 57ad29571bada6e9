"""Registry events: what each registry tag records, with who, when and which commit.

Tag messages written by gitml carry ``key: value`` fields (artifact hash, pull request,
merger, metrics); tags written by GTO alone carry free text and parse with no fields.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from gitml.registry.names import Action, TagName

if TYPE_CHECKING:
    from gitml.gitio.snapshot import TagRecord


class Event:
    """One registry tag, interpreted; its message fields are parsed on first use."""

    __slots__ = (
        "_fields",
        "_raw_message",
        "action",
        "author",
        "commit",
        "counter",
        "email",
        "model",
        "stage",
        "tag",
        "timestamp",
        "version",
    )

    def __init__(
        self,
        model: str,
        action: Action,
        tag: str,
        commit: str,
        timestamp: int,
        author: str,
        email: str,
        message: str,
        version: str | None = None,
        stage: str | None = None,
        counter: int | None = None,
    ):
        self.model = model
        self.action = action
        self.tag = tag
        self.commit = commit
        self.timestamp = timestamp  # tagger date, Unix seconds (GTO's resolution too)
        self.author = author
        self.email = email
        self._raw_message = message
        self.version = version
        self.stage = stage
        self.counter = counter
        self._fields: dict[str, str] | None = None

    def __repr__(self) -> str:
        return f"Event({self.tag!r}, {self.action.value}, {self.commit[:12]})"

    @property
    def created_at(self) -> datetime:
        """The tagger date, in UTC."""
        return datetime.fromtimestamp(self.timestamp, tz=UTC)

    @property
    def message(self) -> str:
        """The tag message, stripped."""
        return self._raw_message.strip()

    @property
    def fields(self) -> dict[str, str]:
        """The ``key: value`` fields of the message (gitml tags), parsed once."""
        if self._fields is None:
            self._fields = parse_fields(self._raw_message)
        return self._fields

    def field(self, key: str) -> str | None:
        """One ``key: value`` field of the message, or None."""
        return self.fields.get(key)

    @property
    def md5(self) -> str | None:
        """The artefact hash the tag records (gitml tags), or None."""
        return self.field("md5")

    @property
    def pull_request(self) -> int | None:
        """The pull request number recorded in the tag, if any."""
        value = (self.field("pull-request") or "").lstrip("#")
        return int(value) if value.isdigit() else None

    @property
    def is_rollback(self) -> bool:
        """Whether this assignment was recorded as a rollback."""
        return self.field("kind") == "rollback"


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
        parsed.model,
        parsed.action,
        record.name,
        record.commit,
        record.timestamp,
        record.tagger,
        record.email,
        record.message,
        parsed.version,
        parsed.stage,
        parsed.counter,
    )

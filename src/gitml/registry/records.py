"""What registry queries return: immutable, typed records with a documented JSON shape.

Named tuples rather than dataclasses: a remembered answer is rebuilt from JSON without
importing ``dataclasses`` (whose ``inspect`` import alone is ~10 ms of a query that takes
a few tens), and a history of tens of thousands of entries builds several times faster.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class VersionInfo(NamedTuple):
    """One registered version of a model."""

    model: str
    version: str
    commit: str
    md5: str | None
    artifact: str | None
    registered_at: datetime | None
    author: str
    email: str
    tag: str | None
    pull_request: int | None = None
    merged_by: str | None = None
    active: bool = True
    stages: tuple[str, ...] = ()
    fields: dict[str, str] = {}  # noqa: RUF012 - never mutated; the reader passes its own

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: every field, dates as ISO 8601 strings."""
        data = self._asdict()
        data["registered_at"] = _iso(self.registered_at)
        data["stages"] = list(self.stages)
        data["fields"] = dict(self.fields)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VersionInfo:
        """The record :meth:`to_dict` described."""
        return cls(
            **{
                **data,
                "registered_at": _from_iso(data["registered_at"]),
                "stages": tuple(data["stages"]),
            }
        )


class StageInfo(NamedTuple):
    """Which version a stage holds: recorded (latest assignment) and desired (branch tip)."""

    stage: str
    branch: str
    version: str | None  # the recorded version (latest assignment), if any
    assigned_at: datetime | None = None
    tip_commit: str | None = None  # the stage branch tip, if the branch exists
    tip_md5: str | None = None
    tip_version: str | None = None  # the registered version whose artefact the tip holds

    @property
    def pending(self) -> bool:
        """The branch tip holds another artefact than the recorded version's."""
        return self.tip_commit is not None and self.tip_version != self.version

    @property
    def unregistered(self) -> bool:
        """The branch tip holds an artefact that no registered version has."""
        return self.tip_md5 is not None and self.tip_version is None

    def to_dict(self) -> dict[str, Any]:
        """JSON shape of a stage."""
        return {
            "stage": self.stage,
            "branch": self.branch,
            "version": self.version,
            "assigned_at": _iso(self.assigned_at),
            "tip_commit": self.tip_commit,
            "tip_md5": self.tip_md5,
            "tip_version": self.tip_version,
            "pending": self.pending,
            "unregistered": self.unregistered,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageInfo:
        """The record :meth:`to_dict` described (``pending`` and the like are derived)."""
        return cls(
            stage=data["stage"],
            branch=data["branch"],
            version=data["version"],
            assigned_at=_from_iso(data["assigned_at"]),
            tip_commit=data["tip_commit"],
            tip_md5=data["tip_md5"],
            tip_version=data["tip_version"],
        )


class ModelSummary(NamedTuple):
    """A model's row in ``gitml registry``."""

    model: str
    latest: str | None
    versions: int
    stages: tuple[StageInfo, ...]
    deprecated: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON shape of a registry row."""
        return {
            "model": self.model,
            "latest": self.latest,
            "versions": self.versions,
            "deprecated": self.deprecated,
            "stages": [s.to_dict() for s in self.stages],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSummary:
        """The record :meth:`to_dict` described."""
        return cls(
            model=data["model"],
            latest=data["latest"],
            versions=data["versions"],
            stages=tuple(StageInfo.from_dict(stage) for stage in data["stages"]),
            deprecated=data["deprecated"],
        )


class HistoryEntry(NamedTuple):
    """One event of ``gitml history``.

    A named tuple rather than a frozen dataclass: a history lists every event of a model,
    tens of thousands in a large registry, and a tuple is several times cheaper to build.
    """

    timestamp: datetime
    model: str
    event: str  # registration | deregistration | promotion | rollback | unassignment | deprecation
    version: str | None
    stage: str | None
    commit: str
    author: str
    email: str
    tag: str
    pull_request: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON shape of an event."""
        data = self._asdict()
        data["timestamp"] = _iso(self.timestamp)
        return data

    def to_row(self) -> list[Any]:
        """The fields as a JSON list, the time as Unix seconds (compact, quick to read)."""
        return [self.timestamp.timestamp(), *self[1:]]

    @classmethod
    def from_row(cls, row: list[Any]) -> HistoryEntry:
        """The entry :meth:`to_row` wrote."""
        return cls._make((datetime.fromtimestamp(row[0], UTC), *row[1:]))

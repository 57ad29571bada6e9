"""What registry queries return: immutable, typed records with a documented JSON shape."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class VersionInfo:
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
    record: dict[str, Any] = field(default_factory=dict)  # the registration's gitml record

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: every field, dates as ISO 8601 strings."""
        data = asdict(self)
        data["registered_at"] = _iso(self.registered_at)
        data["stages"] = list(self.stages)
        return data


@dataclass(frozen=True)
class StageInfo:
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


@dataclass(frozen=True)
class ModelSummary:
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


@dataclass(frozen=True)
class HistoryEntry:
    """One event of ``gitml history``."""

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
        data = asdict(self)
        data["timestamp"] = _iso(self.timestamp)
        return data

"""What registry queries return: immutable, typed records with a documented JSON shape."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime

    from gitml.registry.record import Record


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class RecordedLineage:
    """What a registration record says the version was built from and who let it in.

    ``author`` is the pull request's author as GitHub named it at registration; when it is
    set, ``approvers`` is the whole list of approvals (empty: nobody approved); when it is
    None, the record says nothing about reviews.
    """

    inputs: dict[str, str] = field(default_factory=dict)  # DVC data input path -> md5
    params_digest: str | None = None
    pipeline_stages: dict[str, str] = field(default_factory=dict)  # stage -> sha256
    author: str | None = None
    approvers: tuple[str, ...] = ()
    run_url: str | None = None

    @classmethod
    def of(cls, record: Record) -> RecordedLineage:
        """The lineage and oversight fields of a registration record."""
        return cls(
            inputs=dict(record.inputs),
            params_digest=record.params_digest,
            pipeline_stages=dict(record.stages),
            author=record.author,
            approvers=tuple(record.approvers),
            run_url=record.run_url,
        )

    @property
    def recorded(self) -> bool:
        """Whether the record carries a lineage (records written before gitml recorded
        lineage, and GTO's tags, carry none)."""
        return bool(self.inputs or self.params_digest or self.pipeline_stages)

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: ``{inputs, params_digest, pipeline_stages, author, approvers,
        run_url}`` (``approvers`` a list)."""
        data = asdict(self)
        data["approvers"] = list(self.approvers)
        return data


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
    registered: bool = True  # False: a commit assigned to a stage without a version tag
    model_deprecated: bool = False
    # The registration record's lineage and oversight (all empty without a record).
    lineage: RecordedLineage = field(default_factory=RecordedLineage)

    @property
    def deregistered(self) -> bool:
        """Registered once, and deregistered since (GTO's inactive version)."""
        return self.registered and not self.active

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: every field, dates as ISO 8601 strings, plus ``deregistered``."""
        data = asdict(self)
        data["registered_at"] = _iso(self.registered_at)
        data["stages"] = list(self.stages)
        data["deregistered"] = self.deregistered
        data["lineage"] = self.lineage.to_dict()
        return data


@dataclass(frozen=True)
class ModelVersions:
    """Every version of one model, as ``gto show MODEL`` lists them: the greatest
    registered version first (deregistered ones included, marked), then the commits
    assigned to a stage without a version tag, the latest assignment first."""

    model: str
    latest: str | None
    deprecated: bool
    versions: tuple[VersionInfo, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: ``{model, latest, deprecated, versions: [version record, ...]}``,
        each version as ``gitml show MODEL@vX.Y.Z --json`` gives its record (``active``,
        ``deregistered``, ``registered``, ``stages``, ``registered_at``, ``md5``, ...)."""
        return {
            "model": self.model,
            "latest": self.latest,
            "deprecated": self.deprecated,
            "versions": [v.to_dict() for v in self.versions],
        }


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
        """The branch tip holds an artefact of the model, and not the recorded version's.

        A tip without the model's artefact (a branch that merely shares the stage's name)
        asks for no promotion: it is not pending.
        """
        return self.tip_md5 is not None and self.tip_version != self.version

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
    deregistered: tuple[str, ...] = ()  # versions registered, then deregistered

    def to_dict(self) -> dict[str, Any]:
        """JSON shape of a registry row (``versions`` counts the active ones)."""
        return {
            "model": self.model,
            "latest": self.latest,
            "versions": self.versions,
            "deprecated": self.deprecated,
            "deregistered": list(self.deregistered),
            "stages": [s.to_dict() for s in self.stages],
        }


@dataclass(frozen=True)
class HistoryEntry:
    """One event of ``gitml history``."""

    timestamp: datetime
    model: str
    # registration | deregistration | promotion | rollback | unassignment | deprecation,
    # or an observation of a version: drift-check, canary
    event: str
    version: str | None
    stage: str | None
    commit: str
    author: str
    email: str
    tag: str
    pull_request: int | None = None
    model_deprecated: bool = False  # the model is deprecated now
    version_deregistered: bool = False  # the event's version is deregistered now
    detail: str | None = None  # an observation's outcome: "drift (income) on 4000 rows"

    @property
    def description(self) -> str:
        """What happened, in words: ``promoted v0.2.0 to production``."""
        version = version_label(self.version)
        if self.event == "registration":
            return f"registered {version}"
        if self.event == "deregistration":
            return f"deregistered {version}"
        if self.event == "promotion":
            return f"promoted {version} to {self.stage}"
        if self.event == "rollback":
            return f"rolled {self.stage} back to {version}"
        if self.event == "unassignment":
            return f"unassigned {version} from {self.stage}"
        if self.event == "drift-check":
            where = f" in {self.stage}" if self.stage else ""
            return f"drift check of {version}{where}: {self.detail}"
        if self.event == "canary":
            return f"canary of {version} for {self.stage}: {self.detail}"
        return f"deprecated {self.model}"

    def to_dict(self) -> dict[str, Any]:
        """JSON shape of an event: every field, the timestamp as ISO 8601, and the
        ``description`` in words."""
        data = asdict(self)
        data["timestamp"] = _iso(self.timestamp)
        data["description"] = self.description
        return data


def version_label(version: str | None) -> str:
    """A version as people read it: ``v0.2.0``, or ``commit 1a2b3c4d5e6f`` for a commit
    assigned to a stage without a version tag."""
    if version is None:
        return "an unknown version"
    if version.startswith("v"):
        return version
    return f"commit {version[:12]}"


@dataclass(frozen=True)
class HeldAt:
    """What one stage held at an instant (``gitml registry --at``)."""

    stage: str
    version: str | None  # None: nothing held then
    assigned_at: datetime | None = None  # its latest assignment to the stage by then
    deregistered: bool = False  # the version is deregistered now (it was active then)

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: ``{stage, held, version, assigned_at, deregistered}`` (``held`` is
        false and ``version`` null when the stage held nothing at that instant)."""
        return {
            "stage": self.stage,
            "held": self.version is not None,
            "version": self.version,
            "assigned_at": _iso(self.assigned_at),
            "deregistered": self.deregistered,
        }


@dataclass(frozen=True)
class ModelAt:
    """A model's row in ``gitml registry --at DATE``: each stage's holder at ``at``."""

    model: str
    at: datetime
    stages: tuple[HeldAt, ...]
    deprecated: bool = False  # deprecated at that instant

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: ``{model, at, deprecated, stages: [stage held, ...]}``."""
        return {
            "model": self.model,
            "at": _iso(self.at),
            "deprecated": self.deprecated,
            "stages": [s.to_dict() for s in self.stages],
        }


@dataclass(frozen=True)
class Tenure:
    """One unbroken hold of a stage by one version (``gitml history --stage S --tenures``).

    ``began``: promotion, rollback or fallback (an earlier holder showing again after the
    later one was unassigned or deregistered); ``ended``: replaced, rolled back,
    unassigned, deregistered or still holding (then ``end`` is None).
    """

    model: str
    stage: str
    version: str
    start: datetime
    end: datetime | None
    began: str
    ended: str
    deregistered: bool = False  # the version is deregistered now

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: ``{model, stage, version, from, to, began, ended, deregistered}``,
        times as ISO 8601 (``to`` null while the version still holds the stage)."""
        return {
            "model": self.model,
            "stage": self.stage,
            "version": self.version,
            "from": _iso(self.start),
            "to": _iso(self.end),
            "began": self.began,
            "ended": self.ended,
            "deregistered": self.deregistered,
        }

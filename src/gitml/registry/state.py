"""The registry's state, computed from its events the way GTO computes ``gto show``.

* A version is active while its latest registration event is not a deregistration.
* A stage holds, per model, the active version whose latest assignment to that stage is
  the most recent (an unassignment ends that version's hold; an older one shows again).
* ``latest`` is the greatest semantic version that is active.
* A model whose latest event is a deprecation is hidden, as in ``gto show``.

The state is built once per query and never changes afterwards, so every derived answer
is computed on first use and kept: a registry of 10,000 versions is answered from one
pass over its tags, not one pass per question.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from gitml.registry.events import Event, event_from_tag
from gitml.registry.names import Action, SemVer, version_precedence
from gitml.registry.record import Kind

if TYPE_CHECKING:
    from datetime import datetime

    from gitml.gitio.snapshot import RefSnapshot
    from gitml.registry.record import Record


class VersionState:
    """One version of a model: its registration and every event about it (oldest first).

    Events arrive in time order through :meth:`add`, which keeps the registration, the
    active flag and each stage's last event up to date as it goes: a registry of 10,000
    versions asks these of every version, and one pass over the events answers them all.
    """

    __slots__ = (
        "_last_stage_event",
        "_registry_status",
        "commit",
        "events",
        "model",
        "registration",
        "version",
    )

    def __init__(self, model: str, version: str, commit: str):
        self.model = model
        self.version = version
        self.commit = commit
        self.events: list[Event] = []
        self.registration: Event | None = None  # None for a commit assigned unregistered
        self._registry_status: bool | None = None  # the last (de)registration, if any
        self._last_stage_event: dict[str, Event] = {}

    def __repr__(self) -> str:
        return f"VersionState({self.model!r}, {self.version!r}, {self.commit[:12]})"

    def add(self, event: Event) -> None:
        """Record ``event``, the newest so far."""
        self.events.append(event)
        action = event.action
        if action is Action.REGISTER:
            if self.registration is None:
                self.registration = event
            self._registry_status = True
        elif action is Action.DEREGISTER:
            self._registry_status = False
        elif event.stage is not None:
            self._last_stage_event[event.stage] = event

    @property
    def registered(self) -> bool:
        """Whether a ``@v`` tag registered this version."""
        return self.registration is not None

    @property
    def active(self) -> bool:
        """Registered and not deregistered since (GTO's "active")."""
        status = self._registry_status
        return bool(self.events) if status is None else status

    @property
    def record(self) -> Record | None:
        """The record of the registration (None for a tag GTO wrote)."""
        return self.registration.record if self.registration else None

    @property
    def recorded_md5(self) -> str | None:
        """The artefact hash the registration records: a claim until the reader checks it
        against ``dvc.lock`` at the commit."""
        return self.record.md5 if self.record else None

    @property
    def semver(self) -> SemVer | None:
        """The parsed version (None for commit-named versions)."""
        return SemVer.parse(self.version)

    def holds_since(self, stage: str) -> datetime | None:
        """When this version's current hold of ``stage`` began, or None if it holds none."""
        event = self._last_stage_event.get(stage)
        return event.created_at if event is not None and event.action == Action.ASSIGN else None


class ModelState:
    """Every version and event of one model (events oldest first)."""

    def __init__(self, name: str):
        self.name = name
        self.versions: dict[str, VersionState] = {}
        self.events: list[Event] = []

    def __repr__(self) -> str:
        return f"ModelState({self.name!r}, {len(self.versions)} versions)"

    @property
    def deprecated(self) -> bool:
        """Whether the model's latest event deprecates it."""
        return bool(self.events) and self.events[-1].action == Action.DEPRECATE

    @cached_property
    def _registered_by_commit(self) -> dict[str, VersionState]:
        found: dict[str, VersionState] = {}
        for version in self.versions.values():
            if version.registered:
                found.setdefault(version.commit, version)
        return found

    def version_at(self, commit: str) -> VersionState | None:
        """The registered version whose tag points at ``commit``."""
        return self._registered_by_commit.get(commit)

    @cached_property
    def _active(self) -> list[VersionState]:
        # Registered and not deregistered since: the last (de)registration registers.
        return [v for v in self.versions.values() if v._registry_status]

    @cached_property
    def _active_sorted(self) -> tuple[VersionState, ...]:
        # Stable: of versions with equal precedence (two builds), the first seen leads.
        ordered = sorted(self._active, key=lambda v: version_precedence(v.version), reverse=True)
        return tuple(ordered)

    def active_versions(self) -> list[VersionState]:
        """Active versions, greatest semantic version first."""
        return list(self._active_sorted)

    @property
    def latest(self) -> VersionState | None:
        """The greatest active registered version."""
        return self._active_sorted[0] if self._active_sorted else None

    @property
    def active_count(self) -> int:
        """How many registered versions are active."""
        return len(self._active)

    @cached_property
    def _holders(self) -> dict[str, list[VersionState]]:
        # Per stage, the active versions whose last event there is an assignment, the
        # hold that began last first; on a tie the version seen later wins (as GTO, which
        # keeps the last of equal times).
        holds: dict[str, list[tuple[int, int, VersionState]]] = {}
        for seen, version in enumerate(self.versions.values()):
            if not version.active:
                continue
            for stage, event in version._last_stage_event.items():
                if event.action == Action.ASSIGN:
                    holds.setdefault(stage, []).append((event.timestamp, seen, version))
        return {
            stage: [version for _, _, version in sorted(found, key=lambda h: h[:2], reverse=True)]
            for stage, found in holds.items()
        }

    def stage_holder(self, stage: str) -> VersionState | None:
        """The version recorded in ``stage`` (latest assignment wins), if any."""
        holders = self._holders.get(stage)
        return holders[0] if holders else None

    def stage_holders(self, stage: str) -> list[VersionState]:
        """Every version that would hold ``stage`` if the ones before it did not, the
        recorded holder first (a reader skips a holder whose record git contradicts)."""
        return list(self._holders.get(stage, ()))

    def held_before(self, stage: str, version: str) -> bool:
        """Whether ``version`` was ever assigned to ``stage``: a return to it is a rollback,
        by the stage's own history rather than by anything a commit message says."""
        found = self.versions.get(version)
        return found is not None and any(
            e.action == Action.ASSIGN and e.stage == stage for e in found.events
        )

    def stages(self) -> list[str]:
        """Every stage this model was ever assigned to, in first-use order."""
        seen: dict[str, None] = {}
        for event in self.events:
            if event.stage:
                seen.setdefault(event.stage, None)
        return list(seen)

    def max_counter(self) -> int:
        """The highest ``#n`` among this model's tags (GTO numbers the next one n + 1)."""
        return max((e.counter or 0 for e in self.events), default=0)


@dataclass(frozen=True)
class RegistryState:
    """All models; the tags that looked like registry tags but are not (``skipped``); and
    the registry tags that are no gitml record, with why (``ignored``)."""

    models: dict[str, ModelState]
    skipped: list[str]
    ignored: list[tuple[str, str]] = field(default_factory=list)


# What verify prints for a tag that no read believes, and how to fix it.
NO_RECORD = (
    "no gitml record (a tag pushed by hand or by another tool); reads ignore it: delete it "
    "(git push --delete origin TAG), or set registry.accept_gto_tags in gitml.yaml if GTO "
    "writes this registry"
)


def build_state(snapshot: RefSnapshot, *, records_only: bool = False) -> RegistryState:
    """Index every registry tag into per-model, per-version state (in time order).

    ``records_only`` (a gitml registry) believes only tags that carry a gitml record
    whose fields agree with the tag's name and commit; the others are listed as ignored.
    Without it (a GTO registry), every tag GTO's grammar accepts counts, as in GTO.
    """
    events = []
    skipped = []
    ignored = []
    for record in snapshot.tags:
        event = event_from_tag(record)
        if event is None:
            if "@" in record.name or "#" in record.name:
                skipped.append(record.name)
            continue
        problem = _record_problem(event) if records_only else None
        if problem:
            ignored.append((event.tag, problem))
        else:
            events.append(event)
    skipped += [t for t in snapshot.lightweight_tags if "@v" in t or "#" in t]
    # Sorted by tag time (whole seconds, as GTO); the counter breaks ties within a second.
    events.sort(key=lambda event: (event.timestamp, event.counter or 0))
    # Which version each commit registered, so an assignment finds its version in O(1).
    registered = {(e.model, e.commit): e.version for e in events if e.action == Action.REGISTER}
    models: dict[str, ModelState] = {}
    for event in events:
        # An assignment belongs to the version registered at its commit, else the commit.
        key = event.version or registered.get((event.model, event.commit)) or event.commit
        assignment = event.action in (Action.ASSIGN, Action.UNASSIGN)
        if records_only and assignment and (event.record is None or event.record.version != key):
            ignored.append((event.tag, "its record names another version than its commit"))
            continue
        model = models.get(event.model)
        if model is None:
            model = models[event.model] = ModelState(event.model)
        model.events.append(event)
        if event.action == Action.DEPRECATE:
            continue
        version = model.versions.get(key)
        if version is None:
            version = model.versions[key] = VersionState(event.model, key, event.commit)
        version.add(event)
    return RegistryState(models, skipped, ignored)


def _record_problem(event: Event) -> str | None:
    """Why a gitml registry does not believe ``event`` (None: it does)."""
    record = event.record
    if record is None:
        return NO_RECORD
    if record.kind is Kind.REGISTRATION and record.commit != event.commit:
        return f"its record names commit {record.commit} but the tag points at {event.commit}"
    return None

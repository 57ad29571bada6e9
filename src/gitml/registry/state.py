"""The registry's state, computed from its events the way GTO computes ``gto show``.

* A version is active while its latest registration event is not a deregistration.
* A stage holds, per model, the active version whose latest assignment to that stage is
  the most recent (an unassignment ends that version's hold; an older one shows again).
* ``latest`` is the greatest semantic version that is active.
* A model whose latest event is a deprecation is hidden, as in ``gto show``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gitml.registry.events import Event, event_from_tag
from gitml.registry.names import Action, SemVer

if TYPE_CHECKING:
    from datetime import datetime

    from gitml.gitio.refs import RefSnapshot


@dataclass
class VersionState:
    """One version of a model: its registration and every event about it."""

    model: str
    version: str
    commit: str
    events: list[Event] = field(default_factory=list)

    @property
    def registration(self) -> Event | None:
        """The registration event (None for a commit assigned without registering)."""
        return next((e for e in self.events if e.action == Action.REGISTER), None)

    @property
    def registered(self) -> bool:
        """Whether a ``@v`` tag registered this version."""
        return self.registration is not None

    @property
    def active(self) -> bool:
        """Registered and not deregistered since (GTO's "active")."""
        direct = [e for e in self.events if e.action in (Action.REGISTER, Action.DEREGISTER)]
        if direct:
            return direct[-1].action == Action.REGISTER
        return bool(self.events)

    @property
    def md5(self) -> str | None:
        """The artefact hash recorded at registration (gitml tags only)."""
        registration = self.registration
        return registration.md5 if registration else None

    @property
    def semver(self) -> SemVer | None:
        """The parsed version (None for commit-named versions)."""
        return SemVer.parse(self.version)

    def stage_events(self, stage: str) -> list[Event]:
        """Assignments and unassignments of this version to ``stage``, oldest first."""
        return [e for e in self.events if e.stage == stage]

    def holds_since(self, stage: str) -> datetime | None:
        """When this version's current hold of ``stage`` began, or None if it holds none."""
        events = self.stage_events(stage)
        if events and events[-1].action == Action.ASSIGN:
            return events[-1].created_at
        return None


@dataclass
class ModelState:
    """Every version and event of one model."""

    name: str
    versions: dict[str, VersionState] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    @property
    def deprecated(self) -> bool:
        """Whether the model's latest event deprecates it."""
        return bool(self.events) and self.events[-1].action == Action.DEPRECATE

    def version_at(self, commit: str) -> VersionState | None:
        """The registered version whose tag points at ``commit``."""
        for version in self.versions.values():
            if version.commit == commit and version.registered:
                return version
        return None

    def active_versions(self) -> list[VersionState]:
        """Active versions, greatest semantic version first."""
        active = [v for v in self.versions.values() if v.active and v.registered]
        return sorted(active, key=lambda v: v.semver or SemVer(0, 0, 0), reverse=True)

    @property
    def latest(self) -> VersionState | None:
        """The greatest active registered version."""
        versions = self.active_versions()
        return versions[0] if versions else None

    def stage_holder(self, stage: str) -> VersionState | None:
        """The version recorded in ``stage`` (latest assignment wins), if any."""
        best: tuple[datetime, VersionState] | None = None
        for version in self.versions.values():
            if not version.active:
                continue
            since = version.holds_since(stage)
            if since is not None and (best is None or since >= best[0]):
                best = (since, version)
        return best[1] if best else None

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


@dataclass
class RegistryState:
    """All models, plus the tags that looked like registry tags but were skipped."""

    models: dict[str, ModelState]
    skipped: list[str] = field(default_factory=list)


def build_state(refs: RefSnapshot) -> RegistryState:
    """Index every registry tag into per-model, per-version state (in time order)."""
    events = []
    skipped = []
    for record in refs.tags:
        event = event_from_tag(record)
        if event is not None:
            events.append(event)
        elif "@" in record.name or "#" in record.name:
            skipped.append(record.name)
    skipped += [t for t in refs.lightweight_tags if "@v" in t or "#" in t]
    # Sorted by tag time (whole seconds, as GTO); the counter breaks ties within a second.
    events.sort(key=lambda e: (e.created_at, e.counter or 0))
    # Which version each commit registered, so an assignment finds its version in O(1).
    registered = {(e.model, e.commit): e.version for e in events if e.action == Action.REGISTER}
    models: dict[str, ModelState] = {}
    for event in events:
        model = models.setdefault(event.model, ModelState(event.model))
        model.events.append(event)
        if event.action == Action.DEPRECATE:
            continue
        # An assignment belongs to the version registered at its commit, else the commit.
        key = event.version or registered.get((event.model, event.commit)) or event.commit
        version = model.versions.setdefault(key, VersionState(event.model, key, event.commit))
        version.events.append(event)
    return RegistryState(models, skipped)

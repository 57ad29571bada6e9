"""``gitml history``: the registry's events in time order, of one model or of all.

Each event names the version it concerns as GTO does: the version its tag (or record)
names, else the version registered at the tagged commit, else the commit itself (an
assignment made without registering, ``gto assign --skip-registration``). Marks say what
is true now: the model is deprecated, the version is deregistered.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

from gitml.registry.names import Action
from gitml.registry.records import HistoryEntry

if TYPE_CHECKING:
    from gitml.registry.events import Event
    from gitml.registry.state import ModelState, RegistryState

# What ``gitml history`` calls each kind of event (an assignment is a promotion).
EVENT_KINDS = {
    Action.REGISTER: "registration",
    Action.DEREGISTER: "deregistration",
    Action.ASSIGN: "promotion",
    Action.UNASSIGN: "unassignment",
    Action.DEPRECATE: "deprecation",
}


def _order(event: Event) -> tuple[int, int]:
    # As the registry state sorts them: tag time (whole seconds, as GTO), then the counter.
    return (event.timestamp, event.counter or 0)


def history_entries(models: list[ModelState], stage: str | None = None) -> list[HistoryEntry]:
    """The events of ``models``, oldest first (``stage``: only that stage's events)."""
    entries = []
    merged = heapq.merge(*(m.events for m in models), key=_order)
    by_name = {m.name: m for m in models}
    for event in merged:
        if stage is not None and event.stage != stage:
            continue
        entries.append(_entry(by_name[event.model], event))
    return entries


def _entry(state: ModelState, event: Event) -> HistoryEntry:
    kind = EVENT_KINDS[event.action]
    if event.action == Action.ASSIGN and event.is_rollback:
        kind = "rollback"
    version = event.recorded_version
    if version is None and event.action in (Action.ASSIGN, Action.UNASSIGN):
        holder = state.version_at(event.commit)
        version = holder.version if holder else event.commit
    found = state.versions.get(version) if version else None
    return HistoryEntry(
        timestamp=event.created_at,
        model=state.name,
        event=kind,
        version=version,
        stage=event.stage,
        commit=event.commit,
        author=event.author,
        email=event.email,
        tag=event.tag,
        pull_request=event.pull_request,
        model_deprecated=state.deprecated,
        version_deregistered=found is not None and found.registered and not found.active,
    )


def models_with_events(state: RegistryState) -> list[ModelState]:
    """Every model that has registry events, by name."""
    return [state.models[name] for name in sorted(state.models)]

"""Time travel over a stage's history: who held it at an instant, and each hold's tenure.

Pure logic over a model's events (no git, no I/O), with the semantics of
:mod:`gitml.registry.state` evaluated at an instant instead of now:

* only events at or before the instant count (whole seconds, as tags carry);
* a version counts while it is active *at that instant*: deregistered later, it still
  held the stage then; deregistered by then, it did not;
* a stage holds the active version whose latest assignment or unassignment there (at or
  before the instant) is an assignment, the most recent such assignment winning, so an
  unassignment lets an earlier holder show again, as ``gto show`` and the live registry do.

Evaluated at the newest event, these give exactly what :meth:`ModelState.stage_holder`
gives now. A tenure is one unbroken hold of a stage by one version, from the instant it
began to hold to the instant it stopped (or ``None``: it still holds).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from itertools import groupby
from typing import TYPE_CHECKING

from gitml.errors import UsageError
from gitml.registry.names import Action
from gitml.registry.records import HeldAt, ModelAt, Tenure

if TYPE_CHECKING:
    from collections.abc import Container, Iterable, Sequence

    from gitml.registry.state import ModelState, VersionState

# What a date alone means: the end of that day in UTC (tags carry whole seconds, so the
# last second of the day includes every event of that day).
END_OF_DAY = time(23, 59, 59, tzinfo=UTC)
AT_FORMS = (
    "a date like 2026-03-01 (the end of that day, UTC) or a time like 2026-03-01T12:00:00+02:00"
)

# How a tenure began: a promotion, a rollback (a return to a version that held the stage
# before), or a fallback (no new assignment: the later holder was unassigned or deregistered
# and this version, assigned earlier and still active, shows again).
BEGAN = ("promotion", "rollback", "fallback")
# How a tenure ended.
ENDED = ("replaced", "rolled back", "unassigned", "deregistered", "still holding")


@dataclass(frozen=True, slots=True)
class Step:
    """One event of a model, reduced to what decides who holds a stage.

    ``version`` is the version the registry files the event under (for an assignment
    without a version tag, the commit); ``rollback``: the assignment was recorded as one.
    """

    timestamp: int  # Unix seconds
    version: str
    action: Action
    stage: str | None = None
    rollback: bool = False


@dataclass(frozen=True, slots=True)
class Hold:
    """The version holding a stage at an instant, and its latest assignment there."""

    version: str
    assigned_at: int


@dataclass(frozen=True, slots=True)
class Span:
    """One tenure: ``version`` held the stage from ``start`` to ``end`` (None: still does)."""

    version: str
    start: int
    end: int | None
    began: str  # one of BEGAN
    ended: str  # one of ENDED


def parse_instant(text: str) -> datetime:
    """An ISO 8601 date or date-time, as an aware datetime.

    A date alone means the end of that day, UTC; a time without an offset is UTC.
    Anything else is a :class:`~gitml.errors.UsageError` naming the value.

    >>> parse_instant("2026-03-01").isoformat()
    '2026-03-01T23:59:59+00:00'
    >>> parse_instant("2026-03-01T12:00:00+02:00").isoformat()
    '2026-03-01T12:00:00+02:00'
    """
    value = text.strip()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        return datetime.combine(day, END_OF_DAY)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--at {text!r}: not an ISO 8601 date or time; expected {AT_FORMS}"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def model_steps(model: ModelState) -> list[Step]:
    """The steps of ``model`` in the registry's time order (deprecations left out: they
    hide a model, they move no stage)."""
    filed_under = {id(e): v.version for v in model.versions.values() for e in v.events}
    return [
        Step(e.timestamp, filed_under[id(e)], e.action, e.stage, e.is_rollback)
        for e in model.events
        if id(e) in filed_under
    ]


class _Replay:
    """The state of one stage after the steps applied so far, in time order.

    The holder is the newest assignment here whose version has not moved here since, is
    active and is believed. Asking that of every candidate at each second made a long
    history quadratic; instead the assignments wait in a heap, newest on top (in one
    second, the version whose first event came later), and an entry is dropped only once
    it reaches the top stale. An entry is stale when its version was unassigned or assigned
    again here since (the newer move stands for it), is deregistered now (registering it
    again pushes its assignment back), or is one the reader does not believe.
    """

    def __init__(self, stage: str, ignore: Container[str]):
        self.stage = stage
        self.ignore = ignore
        self.seen: dict[str, int] = {}  # first appearance: the registry's tie-break
        self.registry_status: dict[str, bool] = {}  # the last (de)registration
        self.last_here: dict[str, Step] = {}  # the last (un)assignment in this stage
        self._move: dict[str, int] = {}  # the number of that (un)assignment, per version
        self._moves = 0
        # (-assigned at, -first seen, move number, version): heapq pops the smallest.
        self._heap: list[tuple[int, int, int, str]] = []
        self._believed: dict[str, bool] = {}  # `ignore` asked once per version

    def apply(self, step: Step) -> None:
        version = step.version
        self.seen.setdefault(version, len(self.seen))
        if step.action is Action.REGISTER:
            was_deregistered = self.registry_status.get(version) is False
            self.registry_status[version] = True
            if was_deregistered:
                self._push(version)
        elif step.action is Action.DEREGISTER:
            self.registry_status[version] = False
        elif step.stage == self.stage and step.action in (Action.ASSIGN, Action.UNASSIGN):
            self.last_here[version] = step
            self._moves += 1
            self._move[version] = self._moves
            self._push(version)

    def _push(self, version: str) -> None:
        """Make ``version``'s last move here a candidate, if that move is an assignment."""
        step = self.last_here.get(version)
        if step is not None and step.action is Action.ASSIGN:
            entry = (-step.timestamp, -self.seen[version], self._move[version], version)
            heapq.heappush(self._heap, entry)

    def holder(self) -> Hold | None:
        """Who holds the stage now: the top entry, once the stale ones above it are gone."""
        while self._heap:
            negative_time, _, move, version = self._heap[0]
            # Never registered (a commit assigned as is): active once it has an event.
            active = self.registry_status.get(version, True)
            if move == self._move[version] and active and self._believes(version):
                return Hold(version, -negative_time)
            heapq.heappop(self._heap)
        return None

    def _believes(self, version: str) -> bool:
        # Asked only of the newest candidate, and once: each question may read a dvc.lock.
        if version not in self._believed:
            self._believed[version] = version not in self.ignore
        return self._believed[version]


def holder_at(
    steps: Iterable[Step], stage: str, instant: float, ignore: Container[str] = ()
) -> Hold | None:
    """Who held ``stage`` at ``instant`` (Unix seconds), by the steps at or before it.

    ``steps`` come in the registry's time order; ``ignore`` names versions the reader
    does not believe (git contradicts their record), skipped as if they held nothing.
    """
    replay = _Replay(stage, ignore)
    for step in steps:
        if step.timestamp > instant:
            break
        replay.apply(step)
    return replay.holder()


def tenures(steps: Sequence[Step], stage: str, ignore: Container[str] = ()) -> list[Span]:
    """Every tenure of ``stage``, oldest first, from the same semantics as :func:`holder_at`.

    Steps of one second are applied together (the registry tells no order within a
    second it could show at an instant), then the holder is compared with the one before.
    """
    replay = _Replay(stage, ignore)
    spans: list[Span] = []
    current: Hold | None = None
    start = 0
    began = ""
    assigned: set[str] = set()  # versions assigned to the stage in earlier seconds
    for second, group in groupby(steps, key=lambda s: s.timestamp):
        batch = list(group)
        for step in batch:
            replay.apply(step)
        now = replay.holder()
        if (now.version if now else None) != (current.version if current else None):
            arrival = _arrival(batch, stage, now.version, assigned) if now else None
            if current is not None:
                ended = _departure(batch, stage, current.version, arrival)
                spans.append(Span(current.version, start, second, began, ended))
            current, start, began = now, second, arrival or ""
        # Only now: a return to a version is judged against the seconds before its own.
        assigned.update(s.version for s in batch if s.action is Action.ASSIGN and s.stage == stage)
    if current is not None:
        spans.append(Span(current.version, start, None, began, "still holding"))
    return spans


def _arrival(batch: list[Step], stage: str, version: str, held_before: set[str]) -> str:
    """How ``version`` came to hold ``stage`` in this second."""
    for step in reversed(batch):
        if step.action is Action.ASSIGN and step.stage == stage and step.version == version:
            # A rollback is a return to a version the stage held before, by the stage's
            # own history (a GTO tag records no kind; a gitml record agrees by design).
            return "rollback" if step.rollback or version in held_before else "promotion"
    return "fallback"


def _departure(batch: list[Step], stage: str, version: str, arrival: str | None) -> str:
    """How ``version``'s hold of ``stage`` ended in this second (``arrival``: how the next
    holder came, None when nobody holds the stage any more)."""
    mine = [s for s in batch if s.version == version]
    if any(s.action is Action.DEREGISTER for s in mine):
        return "deregistered"
    if any(s.action is Action.UNASSIGN and s.stage == stage for s in mine):
        return "unassigned"
    return "rolled back" if arrival == "rollback" else "replaced"


# -- the registry's records, from a model's state ------------------------------------


def stage_at(
    state: ModelState, stage: str, instant: datetime, ignore: Container[str] = ()
) -> HeldAt:
    """What ``stage`` of ``state`` held at ``instant`` (``ignore``: versions not believed)."""
    hold = holder_at(model_steps(state), stage, instant.timestamp(), ignore)
    if hold is None:
        return HeldAt(stage, None)
    return HeldAt(
        stage, hold.version, _utc(hold.assigned_at), _deregistered(state.versions[hold.version])
    )


def model_at(
    state: ModelState, stages: Iterable[str], instant: datetime, ignore: Container[str] = ()
) -> ModelAt:
    """What each of ``stages`` held at ``instant``, and whether the model was deprecated
    then (its latest event by then deprecates it)."""
    moment = instant.timestamp()
    before = [e for e in state.events if e.timestamp <= moment]
    return ModelAt(
        model=state.name,
        at=instant,
        stages=tuple(stage_at(state, s, instant, ignore) for s in stages),
        deprecated=bool(before) and before[-1].action is Action.DEPRECATE,
    )


def stage_tenures(state: ModelState, stage: str, ignore: Container[str] = ()) -> list[Tenure]:
    """Every tenure of ``stage`` of ``state``, oldest first."""
    return [
        Tenure(
            model=state.name,
            stage=stage,
            version=span.version,
            start=_utc(span.start),
            end=_utc(span.end) if span.end is not None else None,
            began=span.began,
            ended=span.ended,
            deregistered=_deregistered(state.versions[span.version]),
        )
        for span in tenures(model_steps(state), stage, ignore)
    ]


def _deregistered(version: VersionState) -> bool:
    """Registered once and deregistered since: what ran then is marked so now."""
    return version.registered and not version.active


def _utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)

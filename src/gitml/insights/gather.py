"""Gathering the insights' events from the registry tags and one ``git log``.

The registry gives each registration (with its record: author, pull request, commit)
and each production hold (``tenures``: how it began and ended). One ``git log`` over the
registered commits gives the commit graph, from which each merge's pull request is
found (:mod:`gitml.insights.pull_requests`): one git call per query, not per version.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from gitml.gitio.repo import GitRepo
from gitml.insights.events import Commit, DriftCheck, History, Hold, Proposal
from gitml.insights.pull_requests import GraphCommit, first_parent_line, merged_commits
from gitml.registry.names import Action
from gitml.registry.observation import ObservationKind
from gitml.registry.observations import read_observations
from gitml.registry.timeline import model_steps, tenures

if TYPE_CHECKING:
    from collections.abc import Iterable

    from gitml.registry.reader import RegistryReader
    from gitml.registry.state import ModelState

PRODUCTION = "production"
# Commit, parents, author time, committer time, full message; records split by 0x1e.
_LOG_FORMAT = "--format=%H%x00%P%x00%at%x00%ct%x00%B%x1e"


def gather(reader: RegistryReader, model: str | None = None, stage: str = PRODUCTION) -> History:
    """The proposals and ``stage`` holds of ``model`` (every model when None)."""
    names = [model] if model is not None else sorted(reader.state.models)
    states = [reader.model_state(name) for name in names]
    registrations = [
        (state, event)
        for state in states
        for version in state.versions.values()
        for event in [version.registration]
        if event is not None
    ]
    graph = read_graph(reader.root, {e.commit for _, e in registrations})
    line = first_parent_line(graph, (e.commit for _, e in registrations))
    proposals = []
    for state, event in registrations:
        record = event.record
        merged = merged_commits(graph, event.commit, line)
        node = graph.get(event.commit)
        retraining = next((c for c in reversed(merged) if c.is_retraining), None)
        proposals.append(
            Proposal(
                model=state.name,
                version=event.version or event.commit,
                tag=event.tag,
                commit=event.commit,
                registered_at=event.created_at,
                author=record.author if record else None,
                pull_request=record.pull_request if record else None,
                merged_at=_utc(node.committed) if node and merged else None,
                first_commit=_commit(merged[0]) if merged else None,
                retraining=_commit(retraining) if retraining else None,
            )
        )
    proposals.sort(key=lambda p: (p.registered_at, p.model, p.tag))
    holds = [hold for state in states for hold in _holds(reader, state, stage)]
    holds.sort(key=lambda h: (h.start, h.model))
    checks = tuple(
        DriftCheck(
            model=e.observation.model,
            version=e.observation.version,
            at=e.created_at,
            verdict=e.observation.verdict,
            tag=e.tag,
            commit=e.commit,
        )
        for e in read_observations(reader, model).believed
        if e.observation.kind is ObservationKind.DRIFT
    )
    return History(tuple(proposals), tuple(holds), stage, checks)


def read_graph(root: object, tips: Iterable[str]) -> dict[str, GraphCommit]:
    """Every commit behind ``tips``, by sha, from one ``git log`` (revisions on stdin)."""
    revisions = "\n".join(sorted(tips))
    if not revisions:
        return {}
    repo = GitRepo(str(root))
    output = repo.run_input(["log", "--stdin", _LOG_FORMAT], revisions + "\n").stdout
    graph = {}
    for entry in output.split("\x1e"):
        fields = entry.lstrip("\n").split("\0", 4)
        if len(fields) != 5:
            continue
        sha, parents, authored, committed, message = fields
        graph[sha] = GraphCommit(
            sha, tuple(parents.split()), int(authored), int(committed), message
        )
    return graph


def _holds(reader: RegistryReader, state: ModelState, stage: str) -> list[Hold]:
    """Every hold of ``stage``, with the tags recorded where each began and ended.

    The tenures of :func:`~gitml.registry.timeline.tenures`, over only the steps that
    can move ``stage``: those of versions ever assigned to it, other stages' and (mostly)
    registrations left out. The holder is the same (no other version ever competes for
    the stage), and a registry of thousands of versions, most never in production, is
    replayed in a fraction of the time.
    """
    steps = model_steps(state)
    moves = [s for s in steps if s.stage == stage and s.action is not Action.REGISTER]
    here = {s.version for s in moves if s.action is Action.ASSIGN}
    # A registration moves nothing unless a deregistration follows; it only orders two
    # versions assigned in one second, so it is kept when that happens.
    tied = len({s.timestamp for s in moves}) < len(moves)
    keep = {s.version for s in steps if s.action is Action.DEREGISTER}
    relevant = [
        s
        for s in steps
        if s.version in here
        and (
            s.stage == stage
            or s.action is Action.DEREGISTER
            or (s.action is Action.REGISTER and (tied or s.version in keep))
        )
    ]
    # The tag of each (second, version) and of each second of the stage: the last of a
    # second wins, as the registry orders them. Keyed by the version the registry files
    # an event under, so a GTO tag without a record is found too.
    moving = (Action.ASSIGN, Action.UNASSIGN, Action.DEREGISTER)
    tags: dict[tuple[int, str | None], str] = {}
    for version in state.versions.values():
        for event in version.events:
            if event.action in moving and event.stage in (stage, None):
                tags[(event.timestamp, version.version)] = event.tag
    for event in state.events:
        if event.stage == stage and event.action in moving:
            tags[(event.timestamp, None)] = event.tag
    holds = []
    for span in tenures(relevant, stage, _Contradicted(reader, state)):
        holds.append(
            Hold(
                model=state.name,
                version=span.version,
                start=_utc(span.start),
                end=_utc(span.end) if span.end is not None else None,
                began=span.began,
                ended=span.ended,
                start_tag=tags.get((span.start, span.version)),
                end_tag=_end_tag(tags, span.end, span.version, span.ended),
                commit=state.versions[span.version].commit,
            )
        )
    return holds


def _end_tag(
    tags: dict[tuple[int, str | None], str], end: int | None, version: str, ended: str
) -> str | None:
    """The tag that ended a hold: the version's own unassignment or deregistration, else
    the assignment of the stage in that second (a rollback or a replacement)."""
    if end is None:
        return None
    if ended in ("unassigned", "deregistered"):
        return tags.get((end, version))
    return tags.get((end, None))


class _Contradicted:
    """The versions of one model whose record git contradicts (as the registry's reads
    skip them), asked only for the candidates of a stage."""

    def __init__(self, reader: RegistryReader, state: ModelState):
        self._reader = reader
        self._state = state

    def __contains__(self, version: object) -> bool:
        found = self._state.versions.get(version) if isinstance(version, str) else None
        return found is not None and self._reader.contradicted(found)


def _commit(commit: GraphCommit) -> Commit:
    return Commit(commit.sha, _utc(commit.authored))


def _utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)

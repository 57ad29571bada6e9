"""Reading observation tags as facts, and writing them so that concurrent runs converge.

An observation is believed only when git agrees with it: its tag points at the
registered commit of the version it names, and that version's artefact md5 (``dvc.lock``
at that commit) is the md5 it recorded. Anything else, a tag pushed by hand with a
well-formed record on another commit included, is left out of every read and listed by
:func:`read_observations` as rejected, with the reason (``gitml verify`` reports it).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from gitml.errors import RegistryError
from gitml.gitio.repo import GitRepo, TagPushRejected, TagWriter
from gitml.registry.observation import (
    Observation,
    ObservationKind,
    ObservationTag,
    observation_message,
    observation_tag,
    parse_observation,
)
from gitml.registry.records import HistoryEntry

if TYPE_CHECKING:
    from pathlib import Path

    from gitml.registry.reader import RegistryReader

MAX_RACE_RETRIES = 5


@dataclass(frozen=True)
class ObservedEvent:
    """One believed observation: its tag, who wrote it and when, and what it records."""

    tag: str
    commit: str
    timestamp: int  # tagger date, Unix seconds
    tagger: str
    email: str
    observation: Observation

    @property
    def created_at(self) -> datetime:
        """The tagger date, in UTC."""
        return datetime.fromtimestamp(self.timestamp, tz=UTC)

    @property
    def outcome(self) -> str:
        """The verdict in words: ``drift (income, age) on 4000 rows``, or for a canary
        ``stopped after 2 windows against v0.1.0: error rate 0.04 > 0.01``."""
        o = self.observation
        if o.kind is ObservationKind.CANARY:
            windows = o.windows or 0
            told = (
                f"{o.verdict} after {windows} window{'' if windows == 1 else 's'} "
                f"against {o.against or '?'}"
            )
            return f"{told}: {o.rule}" if o.rule else told
        shown = ", ".join(o.names[:5]) + (", …" if len(o.names) > 5 else "")
        return f"{o.verdict}{f' ({shown})' if o.names else ''} on {o.rows} rows"

    @property
    def event(self) -> str:
        """What ``gitml history`` calls it: ``drift-check`` or ``canary``."""
        return "drift-check" if self.observation.kind is ObservationKind.DRIFT else "canary"


@dataclass(frozen=True)
class Observations:
    """Believed observations (oldest first) and rejected tags with the reason each."""

    believed: tuple[ObservedEvent, ...]
    rejected: tuple[tuple[str, str], ...]

    def of(
        self, model: str, version: str | None = None, kind: ObservationKind | None = None
    ) -> list[ObservedEvent]:
        """The believed observations of ``model`` (of one version, of one kind, when given)."""
        return [
            e
            for e in self.believed
            if e.observation.model == model
            and version in (None, e.observation.version)
            and kind in (None, e.observation.kind)
        ]


def read_observations(reader: RegistryReader, model: str | None = None) -> Observations:
    """Every observation tag in the reader's snapshot (of ``model`` when given), judged."""
    believed: list[ObservedEvent] = []
    rejected: list[tuple[str, str]] = []
    for tag in reader.snapshot.tags:
        name = ObservationTag.parse(tag.name)
        if name is None or (model is not None and name.model != model):
            continue
        observation = parse_observation(tag.message)
        problem = _problem(reader, name, tag.commit, observation)
        if problem is not None or observation is None:
            rejected.append((tag.name, problem or "no valid record"))
            continue
        believed.append(
            ObservedEvent(tag.name, tag.commit, tag.timestamp, tag.tagger, tag.email, observation)
        )
    for name_only in reader.snapshot.lightweight_tags:
        parsed = ObservationTag.parse(name_only)
        if parsed is not None and (model is None or parsed.model == model):
            rejected.append((name_only, "a lightweight tag: it carries no record"))
    believed.sort(key=lambda e: (e.timestamp, e.observation.model, _number(e.tag)))
    return Observations(tuple(believed), tuple(sorted(rejected)))


def _number(tag: str) -> int:
    parsed = ObservationTag.parse(tag)
    return parsed.number if parsed else 0


def _problem(
    reader: RegistryReader, name: ObservationTag, commit: str, observation: Observation | None
) -> str | None:
    """Why git does not back ``observation`` (None: it does)."""
    if observation is None:
        return "no valid gitml record in the tag message"
    if observation.kind is not name.kind or observation.model != name.model:
        return f"the record says {observation.kind.value} of {observation.model}, the name not"
    state = reader.state.models.get(observation.model)
    version = state.versions.get(observation.version) if state else None
    if version is None or version.registration is None:
        return f"{observation.model}@{observation.version} is not a registered version"
    if version.commit != commit:
        return (
            f"the tag points at {commit[:12]}, {observation.model}@{observation.version} "
            f"was registered at {version.commit[:12]}"
        )
    actual = reader.version_md5(version)
    if actual != observation.md5:
        return f"md5 {observation.md5} is not the artefact's at that commit ({actual or 'none'})"
    return None


def write_observation(
    root: Path | str,
    observation: Observation,
    commit: str,
    subject: str,
    *,
    push: bool = False,
    remote: str = "origin",
) -> str:
    """Tag ``commit`` with ``observation`` under the next free ``gitml.<kind>/<model>/<n>``;
    with ``push``, publish it, taking the next number when another run took this one."""
    writer = TagWriter(GitRepo(root))
    message = observation_message(subject, observation)
    if push:
        # A local tag of this series that the remote holds with other content was never
        # published (a run killed before its push): the remote's wins, as for stage tags.
        on_remote = writer.remote_tags(remote)
        for name, oid in writer.local_tags().items():
            if _same_series(name, observation) and on_remote.get(name, oid) != oid:
                writer.delete_local(name)
    for _ in range(MAX_RACE_RETRIES):
        if push:
            writer.fetch_tags(remote)
        taken = [_series_number(name, observation) for name in writer.local_tags()]
        number = 1 + max((n for n in taken if n is not None), default=0)
        tag = observation_tag(observation.kind, observation.model, number)
        writer.create(tag, commit, message)
        if not push:
            return tag
        try:
            writer.push(remote, tag)
        except TagPushRejected:
            writer.delete_local(tag)
            continue
        return tag
    raise RegistryError(
        f"{observation.model}: gave up after {MAX_RACE_RETRIES} tag races; run again"
    )


def _series_number(tag: str, observation: Observation) -> int | None:
    """``tag``'s number when it is an observation of the same kind and model."""
    parsed = ObservationTag.parse(tag)
    if parsed is None or parsed.kind is not observation.kind or parsed.model != observation.model:
        return None
    return parsed.number


def _same_series(tag: str, observation: Observation) -> bool:
    return _series_number(tag, observation) is not None


def with_observations(
    entries: list[HistoryEntry], observed: list[ObservedEvent], stage: str | None = None
) -> list[HistoryEntry]:
    """``entries`` with the observations of their versions merged in, in time order (a
    registry event first at the same second: a check follows what it checked)."""
    found = [
        HistoryEntry(
            timestamp=e.created_at,
            model=e.observation.model,
            event=e.event,
            version=e.observation.version,
            stage=e.observation.stage,
            commit=e.commit,
            author=e.tagger,
            email=e.email,
            tag=e.tag,
            detail=e.outcome,
        )
        for e in observed
        if stage is None or e.observation.stage == stage
    ]
    return list(heapq.merge(entries, found, key=lambda entry: entry.timestamp))

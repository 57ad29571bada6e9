"""Section 8: post-market monitoring, and the drift evidence git holds.

A drift check run with ``--record`` (as the monitor workflow runs it) is an observation
tag on the version's commit, whatever it found: those of this version are listed with
their tags. A check run without it leaves no trace in git (it is a job's log). One that
found drift leads, through ``gitml retrain --drift-report``, to a retraining commit
whose message cites it ("Why: gitml drift: verdict drift for credit on 4000 rows"). Such
a commit concerns this version when it is in this version's history since the previous
version (the drift that led to it), or was made while this version held a stage (the
drift found in it, which prompted its successor).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from gitml.dossier.model import DriftEvidence, Param, RecordedCanary, RecordedCheck
from gitml.report.values import format_value

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gitml.config import Config
    from gitml.dossier.sources import GitSources
    from gitml.registry.observations import ObservedEvent
    from gitml.registry.records import Tenure


def thresholds(config: Config | None) -> tuple[Param, ...]:
    """The drift thresholds in force at the registered commit (defaults filled in)."""
    from gitml.files import CONFIG_FILE
    from gitml.monitor.thresholds import DriftThresholds

    mapping = config.drift if config is not None else {}
    values = asdict(DriftThresholds.from_mapping(mapping, CONFIG_FILE, "drift"))
    return tuple(Param(name, format_value(value)) for name, value in values.items())


def source(config: Config | None) -> str | None:
    """Where the scheduled drift check gets live data, in words."""
    data = config.monitor_data if config is not None else None
    if data is None:
        return None
    return f"{data.kind}: {data.value}"


def _cites(line: str, model: str) -> bool:
    # "gitml drift: verdict drift for credit on 4000 rows; drifted: ..."
    return f" for {model} on " in line.split(";", 1)[0]


def drift_evidence(
    sources: GitSources,
    model: str,
    commit: str,
    previous: str | None,
    tenures: Mapping[str, list[Tenure]],
) -> tuple[str, tuple[DriftEvidence, ...]]:
    """The default branch, and the retraining commits citing drift of ``model`` that led
    to the version at ``commit`` (since ``previous``) or were made while it held a stage."""
    revision, branch = sources.default_branch()
    found: list[DriftEvidence] = []
    # One log finds the candidates (few, usually none); ancestry is asked of those only.
    for sha, stamp, line in sources.drift_commits([revision, commit]):
        if not _cites(line, model):
            continue
        if sources.is_ancestor(sha, commit):
            if previous is None or not sources.is_ancestor(sha, previous):
                found.append(_evidence(sources, sha, stamp, line, "led to this version"))
            continue
        for stage, held in tenures.items():
            if any(_within(stamp, t) for t in held):
                relation = f"while this version held {stage}"
                found.append(_evidence(sources, sha, stamp, line, relation))
                break
    return branch, tuple(sorted(found, key=lambda e: (e.at, e.commit.value)))


def _within(stamp: int, tenure: Tenure) -> bool:
    start = tenure.start.timestamp()
    return start <= stamp and (tenure.end is None or stamp <= tenure.end.timestamp())


def _evidence(sources: GitSources, sha: str, stamp: int, line: str, relation: str) -> DriftEvidence:
    from datetime import UTC, datetime

    at = datetime.fromtimestamp(stamp, tz=UTC).isoformat()
    return DriftEvidence(sources.commit(sha), at, line, relation)


def recorded_checks(sources: GitSources, checks: list[ObservedEvent]) -> tuple[RecordedCheck, ...]:
    """The recorded drift checks of the version, oldest first, each with its tag object."""
    found = []
    for check in checks:
        proof = sources.tag(check.tag)
        if proof is None:
            continue  # a tag without an object id cannot be proven: left out
        o = check.observation
        at = check.created_at.isoformat()
        found.append(RecordedCheck(proof, at, o.stage, o.verdict, o.rows, o.names))
    return tuple(found)


def recorded_canaries(
    sources: GitSources, canaries: list[ObservedEvent]
) -> tuple[RecordedCanary, ...]:
    """The canary analyses of the version as the candidate, oldest first, with their tags."""
    found = []
    for seen in canaries:
        proof = sources.tag(seen.tag)
        if proof is None:
            continue
        o = seen.observation
        at = seen.created_at.isoformat()
        found.append(RecordedCanary(proof, at, o.stage, o.verdict, o.against, o.windows, o.rule))
    return tuple(found)

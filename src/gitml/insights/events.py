"""What the delivery figures are computed from: registrations and production holds.

Plain values, gathered from the registry and git by :mod:`gitml.insights.gather` and
read by :mod:`gitml.insights.figures`, which never touches git: a scripted history in a
test gives the same figures as the repository it describes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime


@dataclass(frozen=True, slots=True)
class Commit:
    """A commit, with the time its author wrote it."""

    sha: str
    time: datetime


@dataclass(frozen=True, slots=True)
class Proposal:
    """One registered version: what proposed it and when.

    ``first_commit``: the oldest commit of the pull request the registered merge commit
    brought in (None when the commit is no merge, e.g. a squash merge); ``retraining``:
    the ``gitml retrain`` commit among them, if any.
    """

    model: str
    version: str
    tag: str
    commit: str
    registered_at: datetime
    author: str | None = None
    pull_request: int | None = None
    merged_at: datetime | None = None
    first_commit: Commit | None = None
    retraining: Commit | None = None


@dataclass(frozen=True, slots=True)
class Hold:
    """One unbroken hold of the production stage by one version.

    ``began``: promotion, rollback or fallback; ``ended``: replaced, rolled back,
    unassigned, deregistered or still holding (``end`` None). ``start_tag`` and
    ``end_tag`` are the registry tags recorded at those instants (None: none there, as
    for a fallback); ``commit`` is the version's commit.
    """

    model: str
    version: str
    start: datetime
    end: datetime | None
    began: str
    ended: str
    start_tag: str | None = None
    end_tag: str | None = None
    commit: str | None = None  # the commit the version's tags point at


@dataclass(frozen=True, slots=True)
class DriftCheck:
    """One recorded drift check (an observation tag git backs) of a version."""

    model: str
    version: str
    at: datetime
    verdict: str  # ok | warn | drift
    tag: str
    commit: str

    @property
    def alert(self) -> bool:
        """Whether the check found drift."""
        return self.verdict == "drift"


@dataclass(frozen=True, slots=True)
class History:
    """Everything the figures read: proposals, production holds and recorded drift
    checks, oldest first."""

    proposals: tuple[Proposal, ...]
    holds: tuple[Hold, ...]
    stage: str = "production"
    drift_checks: tuple[DriftCheck, ...] = ()

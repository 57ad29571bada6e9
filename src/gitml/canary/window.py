"""What each version answered in one window, and the labels that arrived meanwhile.

A record is one scored row of a request: its score (none when the request failed), the
latency of its request and whether it failed. Labels come later, through feedback, by
prediction id: :class:`PredictionMemory` remembers which version gave which score to an
id (the most recent ones, bounded), and a label that arrives in a window counts in that
window for the version that made the prediction, whenever it was made. An id the memory
does not hold (never seen, forgotten, or labelled before) is counted, not an error.
"""

from __future__ import annotations

import math
import numbers
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from gitml.errors import GitmlError

if TYPE_CHECKING:
    from numpy.typing import NDArray

MAX_REMEMBERED = 1_000_000  # predictions awaiting a label: about 100 MB at most


class FeedbackError(GitmlError):
    """A label the analysis cannot take: not 0 or 1, or an id that is not a string."""


def label_value(prediction_id: object, value: object) -> int:
    """``value`` as a 0/1 label; FeedbackError naming the id and the value otherwise.

    Takes 0, 1, 0.0, 1.0 and booleans (numpy's too); a string such as ``"1"`` is refused,
    as JSON tells numbers and text apart (a CSV reader converts its cells first).
    """
    if not isinstance(prediction_id, str) or not prediction_id:
        raise FeedbackError(f"feedback id {prediction_id!r}: expected a non-empty string")
    if type(value) is int and (value == 0 or value == 1):
        return value  # the common case, first: a server takes many labels per request
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, numbers.Real) and value in (0, 1):
        return 1 if value == 1 else 0
    raise FeedbackError(f"feedback for {prediction_id}: label {value!r}: expected 0 or 1")


@dataclass
class VersionWindow:
    """One version's records in one window (appended in pieces, joined when judged)."""

    records: int = 0
    errors: int = 0
    _scores: list[NDArray[np.float64]] = field(default_factory=list)
    _latencies: list[NDArray[np.float64]] = field(default_factory=list)
    labelled_scores: list[float] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)

    def add(
        self, scores: NDArray[np.float64], latencies: NDArray[np.float64], failed: NDArray[np.bool_]
    ) -> None:
        """Take records: scores of failed records are left out, unknown latencies (NaN) too."""
        self.records += int(failed.size)
        self.errors += int(failed.sum())
        kept = scores[~failed]
        kept = kept[np.isfinite(kept)]
        if kept.size:
            self._scores.append(kept)
        timed = latencies[np.isfinite(latencies)]
        if timed.size:
            self._latencies.append(timed)

    def add_label(self, score: float, label: int) -> None:
        """A label for one of this version's predictions."""
        self.labelled_scores.append(score)
        self.labels.append(label)

    @property
    def scores(self) -> NDArray[np.float64]:
        """The scores of the records that were answered."""
        return np.concatenate(self._scores) if self._scores else np.empty(0)

    @property
    def latencies(self) -> NDArray[np.float64]:
        """Request latencies of the records, in seconds (where known)."""
        return np.concatenate(self._latencies) if self._latencies else np.empty(0)


@dataclass
class Window:
    """One window of the canary: both versions' records and the labels that arrived."""

    index: int
    started: float
    stable: VersionWindow = field(default_factory=VersionWindow)
    candidate: VersionWindow = field(default_factory=VersionWindow)
    unknown_labels: int = 0

    def side(self, name: str) -> VersionWindow:
        """``"candidate"`` or ``"stable"``'s records."""
        return self.candidate if name == "candidate" else self.stable


class PredictionMemory:
    """Which side scored which prediction id, for the most recent ``limit`` ids."""

    def __init__(self, limit: int = MAX_REMEMBERED) -> None:
        self._limit = limit
        self._held: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def remember(self, ids: list[str], side: str, scores: NDArray[np.float64]) -> None:
        """Remember the scored ids (the oldest are forgotten beyond the limit)."""
        self._held.update(
            (prediction_id, (side, score))
            for prediction_id, score in zip(ids, scores.tolist(), strict=True)
            if math.isfinite(score)
        )
        while len(self._held) > self._limit:
            self._held.popitem(last=False)

    def take(self, prediction_id: str) -> tuple[str, float] | None:
        """The side and score of ``prediction_id``, forgotten now (a second label is unknown)."""
        return self._held.pop(prediction_id, None)

    def __len__(self) -> int:
        return len(self._held)

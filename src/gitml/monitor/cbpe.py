"""Confidence-based performance estimation (CBPE): a model's quality without labels.

A calibrated probability is the chance the label is 1. So on a batch of scored rows, the
expected count of true positives at a threshold is the sum of the calibrated
probabilities of the rows predicted positive, the expected false positives the sum of
their complements, and so on for every cell of the confusion matrix. From those come the
expected ROC AUC (the expected true and false positive rates at every score, integrated),
the expected accuracy at the decision threshold, and the expected log loss of the
model's own scores. The estimate is as good as the calibration: a version whose
baseline carries a calibration map (isotonic, fitted on its evaluation set) is
re-calibrated through it first; without one the scores are taken as calibrated.

This is NannyML's CBPE for binary classification, written over numpy; the tests check
it against NannyML itself and against realised performance on generated data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import ArrayLike, NDArray

MAX_KNOTS = 200  # a calibration map stays a few KB in the baseline file
_EPS = 1e-15  # log loss clips probabilities to [eps, 1 - eps], as scikit-learn does


@dataclass(frozen=True)
class Calibration:
    """A monotone map from a model's score to the probability of a positive label:
    piecewise linear through ``(scores[i], probabilities[i])``, flat outside."""

    scores: tuple[float, ...]
    probabilities: tuple[float, ...]

    def apply(self, scores: ArrayLike) -> NDArray[np.float64]:
        """The calibrated probabilities of ``scores``."""
        return np.interp(np.asarray(scores, dtype=float), self.scores, self.probabilities)

    def to_dict(self) -> dict[str, list[float]]:
        """The baseline's ``calibration`` object."""
        return {"scores": list(self.scores), "probabilities": list(self.probabilities)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        """The map a baseline's ``calibration`` object holds (validated by the schema)."""
        return cls(tuple(data["scores"]), tuple(data["probabilities"]))


def fit_calibration(scores: ArrayLike, labels: ArrayLike) -> Calibration:
    """An isotonic calibration map of ``scores`` against 0/1 ``labels``, kept to at most
    :data:`MAX_KNOTS` knots (the ends of each flat step of the isotonic fit)."""
    from sklearn.isotonic import IsotonicRegression

    x = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=float)
    fit = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(x, y)
    knots_x, knots_y = fit.X_thresholds_, fit.y_thresholds_
    if len(knots_x) > MAX_KNOTS:
        keep = np.unique(np.linspace(0, len(knots_x) - 1, MAX_KNOTS).round().astype(int))
        knots_x, knots_y = knots_x[keep], knots_y[keep]
    return Calibration(
        tuple(round(float(v), 6) for v in knots_x), tuple(round(float(v), 6) for v in knots_y)
    )


@dataclass(frozen=True)
class PerformanceEstimate:
    """Expected quality of a batch's scores (None where a figure is undefined: an
    expected ROC AUC needs some expected positives and some expected negatives)."""

    rows: int
    roc_auc: float | None
    accuracy: float | None
    log_loss: float | None

    def to_dict(self) -> dict[str, float | int | None]:
        """A JSON-ready dict."""
        return {
            "rows": self.rows,
            "roc_auc": self.roc_auc,
            "accuracy": self.accuracy,
            "log_loss": self.log_loss,
        }


def expected_roc_auc(
    scores: NDArray[np.float64], probabilities: NDArray[np.float64]
) -> float | None:
    """The ROC AUC expected when row ``i`` is positive with ``probabilities[i]``, rows
    ranked by ``scores`` (tied scores move together, as one threshold step)."""
    positives = float(probabilities.sum())
    negatives = float(len(probabilities) - positives)
    if positives <= 0 or negatives <= 0:
        return None
    order = np.argsort(-scores, kind="mergesort")
    ranked, p = scores[order], probabilities[order]
    # The last row of each run of equal scores: a threshold step takes the run whole.
    ends = np.r_[np.nonzero(np.diff(ranked))[0], len(ranked) - 1]
    tp = np.cumsum(p)[ends]
    fp = np.cumsum(1.0 - p)[ends]
    tpr = np.r_[0.0, tp / positives]
    fpr = np.r_[0.0, fp / negatives]
    return float(np.trapezoid(tpr, fpr))


def estimate_performance(
    scores: Sequence[float] | NDArray[np.float64],
    threshold: float,
    calibration: Calibration | None = None,
) -> PerformanceEstimate:
    """Expected ROC AUC, accuracy at ``threshold`` and log loss of ``scores``."""
    s = np.asarray(scores, dtype=float)
    if s.size == 0:
        return PerformanceEstimate(0, None, None, None)
    p = np.clip(calibration.apply(s) if calibration else s, 0.0, 1.0)
    predicted = s >= threshold
    accuracy = float(np.where(predicted, p, 1.0 - p).mean())
    q = np.clip(s, _EPS, 1.0 - _EPS)
    log_loss = float(-(p * np.log(q) + (1.0 - p) * np.log(1.0 - q)).mean())
    auc = expected_roc_auc(s, p)
    return PerformanceEstimate(
        int(s.size),
        _finite(auc),
        _finite(accuracy),
        _finite(log_loss),
    )


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None

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

This is the binary-classification CBPE of NannyML, written over numpy (a window of 5,000
scores takes about 2 ms). ``tests/test_cbpe.py`` checks it against NannyML itself and
against realised performance on generated data with known labels: at 5,000 rows a
window's estimate is as close to its realised ROC AUC as the window's own label noise
allows (about 0.01), provided the calibration map was fitted on enough reference rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gitml.monitor.baseline_file import calibration_problem, rounded

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import ArrayLike, NDArray

MAX_KNOTS = 200  # a calibration map stays a few KB in the baseline file
_EPS = 1e-15  # log loss clips probabilities to [eps, 1 - eps], as scikit-learn does
# Below this many expected positives (or negatives) a batch has, for all the estimate
# can tell, one class only: an expected ROC AUC would divide by rounding noise.
_MIN_EXPECTED_CLASS = 1e-9


@dataclass(frozen=True)
class Calibration:
    """A monotone map from a model's score to the probability of a positive label:
    piecewise linear through ``(scores[i], probabilities[i])``, flat outside."""

    scores: tuple[float, ...]
    probabilities: tuple[float, ...]

    def __post_init__(self) -> None:
        problem = calibration_problem(self.scores, self.probabilities)
        if problem:
            raise ValueError(f"calibration: {problem}")

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
    :data:`MAX_KNOTS` knots, each rounded to the baseline's 6 significant digits.

    The isotonic fit is the piecewise-linear curve through the ends of its flat steps
    (what scikit-learn's ``IsotonicRegression.predict`` interpolates), so those ends are
    the knots; past :data:`MAX_KNOTS`, evenly spaced ones are kept, the first and last
    always. Raises ValueError for empty, misaligned or non-finite scores, or labels that
    are not 0 or 1.
    """
    from sklearn.isotonic import IsotonicRegression

    x = _finite_scores(scores)
    y = np.asarray(labels, dtype=float).ravel()
    if x.size == 0 or x.size != y.size:
        raise ValueError(f"{y.size} labels for {x.size} scores (expected as many, >= 1)")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("labels must be 0 or 1")
    fit = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(x, y)
    knots_x, knots_y = fit.X_thresholds_, fit.y_thresholds_
    if len(knots_x) > MAX_KNOTS:
        keep = np.unique(np.linspace(0, len(knots_x) - 1, MAX_KNOTS).round().astype(int))
        knots_x, knots_y = knots_x[keep], knots_y[keep]
    # Rounding may merge two knots a hair apart; the first of them stays (the map is
    # still monotone, and moves by less than the rounding).
    xs, ys = [rounded(float(v)) for v in knots_x], [rounded(float(v)) for v in knots_y]
    kept = [i for i in range(len(xs)) if i == 0 or xs[i] != xs[i - 1]]
    return Calibration(tuple(xs[i] for i in kept), tuple(ys[i] for i in kept))


@dataclass(frozen=True)
class PerformanceEstimate:
    """Expected quality of a batch's scores (None where a figure is undefined: nothing
    is defined for no rows, and an expected ROC AUC needs some expected positives and
    some expected negatives)."""

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
    if scores.size == 0:
        return None
    order = np.argsort(-scores, kind="stable")
    ranked, p = scores[order], probabilities[order]
    # The last row of each run of equal scores: a threshold step takes the run whole.
    ends = np.r_[np.nonzero(np.diff(ranked))[0], len(ranked) - 1]
    tp, fp = np.cumsum(p)[ends], np.cumsum(1.0 - p)[ends]
    # The totals are the sums' last steps, so both rates end at exactly 1.
    positives, negatives = float(tp[-1]), float(fp[-1])
    if positives < _MIN_EXPECTED_CLASS or negatives < _MIN_EXPECTED_CLASS:
        return None
    tpr = np.r_[0.0, tp / positives]
    fpr = np.r_[0.0, fp / negatives]
    return float(np.trapezoid(tpr, fpr))


def estimate_performance(
    scores: Sequence[float] | NDArray[np.float64],
    threshold: float,
    calibration: Calibration | None = None,
) -> PerformanceEstimate:
    """Expected ROC AUC, accuracy at ``threshold`` (a score at or above it predicts a
    positive) and log loss of ``scores``, through ``calibration`` (None: the scores are
    taken as calibrated probabilities). Raises ValueError for a NaN or infinite score:
    a caller drops rows the model did not score before asking."""
    s = _finite_scores(scores)
    if s.size == 0:
        return PerformanceEstimate(0, None, None, None)
    p = np.clip(calibration.apply(s) if calibration is not None else s, 0.0, 1.0)
    accuracy = float(np.where(s >= threshold, p, 1.0 - p).mean())
    q = np.clip(s, _EPS, 1.0 - _EPS)
    log_loss = float(-(p * np.log(q) + (1.0 - p) * np.log1p(-q)).mean())
    return PerformanceEstimate(int(s.size), expected_roc_auc(s, p), accuracy, log_loss)


def _finite_scores(scores: ArrayLike) -> NDArray[np.float64]:
    """``scores`` as a float vector, or ValueError naming the first non-finite one."""
    s = np.asarray(scores, dtype=float).ravel()
    bad = np.flatnonzero(~np.isfinite(s))
    if bad.size:
        raise ValueError(f"scores must be finite numbers: row {int(bad[0])} is {s[bad[0]]}")
    return s

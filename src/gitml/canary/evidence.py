"""When is a candidate's worse figure more than chance? One-sided tests for the judge.

A window holds a few hundred candidate records, so its figures are noisy: a candidate
identical to the stable version shows an ROC AUC 0.03 lower in about one window in ten
at 500 labels. A rule therefore fails a window only when the candidate is worse by more
than the rule's tolerance *and* the difference is significant at the policy's
confidence (each function returns whether it is). The tolerance says how much worse is
acceptable; the test says the difference is real. Each test is the textbook one:

* error rates: the difference of two proportions, with the Agresti-Caffo adjustment
  (one success and one failure added to each side) so that zero errors still has a
  standard error;
* realised ROC AUC: the Hanley-McNeil standard error of each side's AUC, the sides
  independent (different records);
* estimated (CBPE) ROC AUC: the delta-method standard error of the estimate over the
  sampling of rows (:func:`cbpe_auc_standard_error`; labels are not drawn, so it is a
  quarter of Hanley-McNeil's at 500 rows, and matches the spread of the estimate over
  resampled windows within a few percent on the example's data);
* the 99th latency percentile: distribution-free order-statistic bounds, the
  candidate's lower bound above the stable version's upper bound;
* score PSI: Pearson's chi-squared goodness of fit of the candidate's score bins to its
  baseline's fractions, with the Wilson-Hilferty normal approximation of its tail.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

_FLOOR = 1e-4  # an empty baseline bin, floored as PSI floors it (monitor.stats.PSI_EPS)


def z_for(confidence: float) -> float:
    """The one-sided standard normal quantile of ``confidence`` (0.999 -> 3.09)."""
    return NormalDist().inv_cdf(confidence)


def rate_increase_significant(
    errors_candidate: int, n_candidate: int, errors_stable: int, n_stable: int, z: float
) -> bool:
    """Whether the candidate's error rate is above the stable version's beyond chance."""
    pc = (errors_candidate + 1) / (n_candidate + 2)
    ps = (errors_stable + 1) / (n_stable + 2)
    se = math.sqrt(pc * (1 - pc) / (n_candidate + 2) + ps * (1 - ps) / (n_stable + 2))
    return (pc - ps) > z * se


def auc_standard_error(auc: float, positives: float, negatives: float) -> float:
    """Hanley & McNeil (1982): the standard error of an ROC AUC from its class counts."""
    q1 = auc / (2 - auc)
    q2 = 2 * auc * auc / (1 + auc)
    variance = (
        auc * (1 - auc)
        + max(positives - 1, 0) * (q1 - auc * auc)
        + max(negatives - 1, 0) * (q2 - auc * auc)
    ) / max(positives * negatives, 1e-12)
    return math.sqrt(max(variance, 0.0))


def auc_drop_significant(drop: float, se_candidate: float, se_stable: float, z: float) -> bool:
    """Whether a stable-minus-candidate AUC ``drop`` is beyond chance."""
    return drop > z * math.hypot(se_candidate, se_stable)


def quantile_bounds(values: NDArray[np.float64], q: float, z: float) -> tuple[float, float]:
    """Distribution-free lower and upper confidence bounds of the ``q`` quantile of
    ``values``: the order statistics whose ranks bracket ``n q`` by ``z`` binomial
    standard deviations (the sample minimum or maximum where the bracket runs off)."""
    ordered = np.sort(values)
    n = ordered.size
    spread = z * math.sqrt(n * q * (1 - q))
    low = math.floor(n * q - spread)  # 1-based rank
    high = math.ceil(n * q + spread) + 1
    lower = float(ordered[low - 1]) if low >= 1 else -math.inf
    upper = float(ordered[min(high, n) - 1])
    return lower, upper


def latency_increase_significant(
    candidate: NDArray[np.float64], stable: NDArray[np.float64], q: float, z: float
) -> bool:
    """Whether the candidate's ``q`` latency quantile is above the stable one's beyond chance."""
    lower, _ = quantile_bounds(candidate, q, z)
    _, upper = quantile_bounds(stable, q, z)
    return lower > upper


def bins_differ_significantly(
    counts: NDArray[np.int64], fractions: NDArray[np.float64], z: float
) -> bool:
    """Whether bin ``counts`` are unlikely draws from the bin ``fractions`` (chi-squared)."""
    n = int(counts.sum())
    k = counts.size
    if n == 0 or k < 2:
        return False
    expected = n * np.maximum(fractions / fractions.sum(), _FLOOR)
    statistic = float(((counts - expected) ** 2 / expected).sum())
    dof = k - 1
    # Wilson-Hilferty: (X/k)^(1/3) is close to normal with mean 1 - 2/(9k), var 2/(9k).
    mean, var = 1 - 2 / (9 * dof), 2 / (9 * dof)
    return ((statistic / dof) ** (1 / 3) - mean) / math.sqrt(var) > z


def cbpe_auc_standard_error(
    scores: NDArray[np.float64], probabilities: NDArray[np.float64]
) -> float:
    """The standard error, over the sampling of rows, of the CBPE expected ROC AUC.

    The estimate is a ratio of two V-statistics over pairs of rows, ``U / D`` with
    ``U = mean over (i, j) of p_i (1 - p_j) [s_i > s_j]`` (ties a half) and ``D =
    mean(p) mean(1 - p)``; the delta method on their first-order projections gives
    ``Var ≈ 4/n Var_i(u_i - A d_i) / D²``. Labels are not drawn, so this is well below
    Hanley-McNeil's error of a realised AUC on as many rows.
    """
    n = scores.size
    order = np.argsort(scores, kind="mergesort")
    s, p = scores[order], probabilities[order]
    q = 1.0 - p
    starts = np.r_[0, np.flatnonzero(np.diff(s)) + 1]
    group = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, n]))
    p_tie, q_tie = np.add.reduceat(p, starts), np.add.reduceat(q, starts)
    q_below = (np.cumsum(q_tie) - q_tie + 0.5 * q_tie)[group]  # negatives a row outranks
    p_above = (p_tie.sum() - np.cumsum(p_tie) + 0.5 * p_tie)[group]  # positives above it
    mean_p, mean_q = float(p.mean()), float(q.mean())
    d = mean_p * mean_q
    if d <= 0:
        return math.inf
    u_i = (p * q_below + q * p_above) / (2 * n)
    d_i = (p * mean_q + q * mean_p) / 2
    auc = float((p * q_below).sum()) / (n * n * d)
    return math.sqrt(4 / n * float(np.var(u_i - auc * d_i)) / (d * d))

"""Distribution distances and two-sample tests for drift, on numpy arrays.

Where SciPy has the statistic it computes it: the chi-squared contingency test, Fisher's
exact test, the Jensen-Shannon distance and the Kolmogorov distribution behind the KS
p-value. What is left here is what SciPy lacks: the population stability index, the
Kolmogorov-Smirnov distance to a reference kept as a *quantile grid*, and the pooling
of categories too thin for the chi-squared approximation. ``tests/test_monitor_stats.py``
checks each function against SciPy or a direct computation.

The baseline keeps no raw reference rows, only summaries, so the comparisons work from
summaries: :func:`bin_counts` bins a sample by the baseline's cut points,
:func:`ks_statistic` compares a sample with a reference quantile grid (see there for the
approximation), and :func:`grid_fractions` and :func:`ks_between_grids` compare two grids
(``gitml report``, when a pull request moves a model's baseline).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

# Empty bins are floored at PSI_EPS before PSI takes logarithms: small enough not to
# dominate a real shift, large enough that one empty bin does not make PSI infinite.
PSI_EPS = 1e-4


def _vector(values: ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def _distribution(values: ArrayLike, name: str) -> np.ndarray:
    """Non-negative weights scaled to sum to 1 (counts or fractions alike)."""
    array = _vector(values, name)
    if array.size == 0 or np.any(array < 0) or not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be a non-empty vector of finite, non-negative weights")
    total = array.sum()
    if total <= 0:
        raise ValueError(f"{name} sums to 0")
    return array / total


def _grid(values: ArrayLike, name: str) -> np.ndarray:
    """A quantile grid: at least two finite values that never decrease."""
    grid = _vector(values, name)
    if grid.size < 2 or np.any(np.diff(grid) < 0) or not np.all(np.isfinite(grid)):
        raise ValueError(f"{name} must be >= 2 finite, non-decreasing values")
    return grid


def bin_counts(values: ArrayLike, cuts: ArrayLike, *, assume_sorted: bool = False) -> np.ndarray:
    """Counts of ``values`` in the bins ``(-inf, c0], (c0, c1], ..., (c_last, inf)``.

    ``cuts`` are strictly increasing; the result has ``len(cuts) + 1`` entries. Bins are
    closed on the right so that a value equal to a cut point (a tie, or an integer feature
    whose deciles are its own values) falls in the bin that cut point ends. With
    ``assume_sorted`` the values are taken as sorted ascending and only the cut points are
    looked up (``O(bins log n)`` instead of ``O(n log bins)``).
    """
    x = _vector(values, "values")
    c = _vector(cuts, "cuts")
    if assume_sorted:
        ends = np.searchsorted(x, c, side="right")
        return np.diff(np.concatenate([[0], ends, [x.size]])).astype(np.int64)
    index = np.searchsorted(c, x, side="left")
    return np.bincount(index, minlength=c.size + 1).astype(np.int64)


def psi(expected_fractions: ArrayLike, actual_fractions: ArrayLike, eps: float = PSI_EPS) -> float:
    """Population stability index: ``sum((a - e) * ln(a / e))`` over bins.

    Both vectors are bin fractions (or counts: each is scaled to sum to 1). Bins below
    ``eps`` are floored at ``eps`` without renormalising, the usual convention, so an
    empty bin on one side adds a large but finite term. PSI is the symmetric
    Kullback-Leibler divergence ``KL(a||e) + KL(e||a)`` of the floored fractions.
    """
    e = _distribution(expected_fractions, "expected_fractions")
    a = _distribution(actual_fractions, "actual_fractions")
    if e.shape != a.shape:
        raise ValueError(f"fractions differ in length: {e.size} and {a.size}")
    e = np.maximum(e, eps)
    a = np.maximum(a, eps)
    return float(np.sum((a - e) * np.log(a / e)))


def _grid_cdf(quantiles: np.ndarray, points: np.ndarray, side: str) -> np.ndarray:
    """The reference CDF approximated through ``(quantiles[k], k / K)``.

    ``side="right"`` gives F(x), ``side="left"`` the left limit F(x-). Between distinct
    grid values the CDF is linear; where several grid values coincide (a point mass) it
    jumps, from the lowest to the highest of their probabilities.
    """
    last = quantiles.size - 1
    # Number of grid values <= x (right) or < x (left): x lies between grid[j-1] and grid[j].
    j = np.searchsorted(quantiles, points, side=side)  # type: ignore[call-overload]
    lower = np.clip(j - 1, 0, last)
    upper = np.clip(j, 0, last)
    width = quantiles[upper] - quantiles[lower]
    safe = np.where(width > 0, width, 1.0)
    within = np.where(width > 0, (points - quantiles[lower]) / safe, 0.0)
    cdf = (lower + within) / last
    return np.where(j == 0, 0.0, np.where(j > last, 1.0, cdf))


def ks_statistic(
    reference_quantiles: ArrayLike, sample: ArrayLike, *, assume_sorted: bool = False
) -> float:
    """Kolmogorov-Smirnov distance between ``sample`` and a reference quantile grid.

    ``reference_quantiles`` holds the reference's quantiles at the evenly spaced
    probabilities ``0, 1/K, ..., 1`` (the baseline stores K = 100: min, percentiles, max).
    The reference CDF is taken as the piecewise-linear curve through those points, which
    is within ``1/K`` of the reference's empirical CDF wherever that CDF is continuous,
    and reproduces point masses (ties) to the same resolution. So the result differs
    from the exact two-sample statistic against the raw reference by at most about
    ``1/K`` (0.01 with the stored grid); tests check this against ``scipy.stats.ks_2samp``.

    The supremum is exact for that curve: between two consecutive points of the sample
    or the grid the reference CDF is linear and the sample's CDF constant, so the
    largest gap is at an end of the interval, as a value or as a left limit.
    ``assume_sorted`` skips sorting a sample that is already ascending.
    """
    grid = _grid(reference_quantiles, "reference_quantiles")
    x = _vector(sample, "sample")
    if not assume_sorted:
        x = np.sort(x)
    n = x.size
    if n == 0:
        raise ValueError("sample must be non-empty")
    # At the grid's own points the curve bends or jumps: compare both one-sided limits.
    gap = np.maximum(
        np.abs(_grid_cdf(grid, grid, "right") - np.searchsorted(x, grid, side="right") / n),
        np.abs(_grid_cdf(grid, grid, "left") - np.searchsorted(x, grid, side="left") / n),
    ).max()
    # Elsewhere the curve is continuous, so at a sample value x it is one number, compared
    # with the sample's CDF at x and just below x. Distinct values only: a run of equal
    # values starts where the sample CDF jumps and ends where the next run starts.
    starts = np.flatnonzero(np.concatenate([[True], x[1:] != x[:-1]]))
    ends = np.append(starts[1:], n)
    values = x[starts]
    j = np.searchsorted(grid, values, side="right")
    off_grid = np.searchsorted(grid, values, side="left") == j
    if off_grid.any():
        values, j = values[off_grid], j[off_grid]
        last = grid.size - 1
        # Off the grid, x lies strictly inside interval i = j - 1 (or outside the grid),
        # so the curve is i/K plus the linear part; the interval's width is never 0.
        interval = np.clip(j - 1, 0, last - 1)
        widths = np.diff(grid)
        slope = np.divide(1.0, widths, out=np.zeros_like(widths), where=widths > 0)
        curve = (interval + (values - grid[interval]) * slope[interval]) / last
        curve = np.where(j > last, 1.0, np.clip(curve, 0.0, 1.0))
        gap = max(
            gap,
            np.abs(curve - ends[off_grid] / n).max(),
            np.abs(curve - starts[off_grid] / n).max(),
        )
    return float(gap)


def grid_fractions(quantiles: ArrayLike, edges: ArrayLike) -> np.ndarray:
    """Share of a grid's distribution in each bin ``(-inf, e0], (e0, e1], ..., (e_last, inf)``.

    The shares are read from the curve :func:`ks_statistic` uses for the grid. Bins close
    on the right, as the baseline's own bins do, so a point mass at an edge counts in the
    bin that edge ends.
    """
    grid = _grid(quantiles, "quantiles")
    cdf = _grid_cdf(grid, _vector(edges, "edges"), "right")
    return np.maximum(np.diff(np.concatenate([[0.0], cdf, [1.0]])), 0.0)


def ks_between_grids(a: ArrayLike, b: ArrayLike) -> float:
    """Kolmogorov-Smirnov distance ``sup |F_a - F_b|`` between two quantile grids' curves.

    Both curves are linear between the points of either grid, so their difference is
    too, and the supremum sits at one of those points, as a value or as a left limit.
    Each grid is within ``1/K`` of its own sample's empirical CDF (see
    :func:`ks_statistic`), so this is within ``2/K`` of the exact two-sample statistic of
    the samples behind the grids (checked against SciPy).
    """
    grid_a, grid_b = _grid(a, "a"), _grid(b, "b")
    points = np.union1d(grid_a, grid_b)
    right = np.abs(_grid_cdf(grid_a, points, "right") - _grid_cdf(grid_b, points, "right"))
    left = np.abs(_grid_cdf(grid_a, points, "left") - _grid_cdf(grid_b, points, "left"))
    return float(max(right.max(), left.max()))


def ks_pvalue(statistic: float, n: int, m: int) -> float:
    """Two-sided p-value of a two-sample KS statistic for sample sizes ``n`` and ``m``.

    The limiting Kolmogorov distribution at the effective size ``n * m / (n + m)``:
    ``scipy.stats.kstwobign.sf(sqrt(n * m / (n + m)) * statistic)``. Unlike the exact
    finite-size distribution (``ks_2samp(..., method="asymp")``, whose cost grows with the
    sample) it costs the same for a million rows as for a hundred, and it is slightly
    conservative at small sizes (a p-value 2.5% larger at an effective size of 1,765).
    """
    from scipy.stats import kstwobign

    if n <= 0 or m <= 0:
        raise ValueError("sample sizes must be positive")
    effective = n * m / (n + m)
    return float(np.clip(kstwobign.sf(math.sqrt(effective) * statistic), 0.0, 1.0))


def chi_squared_2samp(counts_a: ArrayLike, counts_b: ArrayLike) -> tuple[float, float]:
    """Pearson's test that two samples of counts over the same categories share a distribution.

    ``scipy.stats.chi2_contingency`` on the ``2 x k`` table, without continuity
    correction, after dropping the categories empty in both samples (SciPy refuses
    those, and they carry no evidence). Returns ``(statistic, p_value)``; fewer than two
    non-empty categories give ``(0.0, 1.0)``: there is nothing to compare.
    """
    from scipy.stats import chi2_contingency

    a = _vector(counts_a, "counts_a")
    b = _vector(counts_b, "counts_b")
    if a.shape != b.shape:
        raise ValueError(f"lengths differ: {a.size} and {b.size}")
    if np.any(a < 0) or np.any(b < 0) or a.sum() <= 0 or b.sum() <= 0:
        raise ValueError("counts must be non-negative, with a positive total in each sample")
    used = (a + b) > 0
    if used.sum() < 2:
        return 0.0, 1.0
    result = chi2_contingency(np.vstack([a[used], b[used]]), correction=False)
    return float(result.statistic), float(result.pvalue)


def jensen_shannon(p: ArrayLike, q: ArrayLike) -> float:
    """Jensen-Shannon *distance* (square root of the divergence), base 2, in [0, 1].

    ``p`` and ``q`` are counts or fractions over the same categories (each is scaled to
    sum to 1): ``scipy.spatial.distance.jensenshannon(p, q, base=2)``.
    """
    from scipy.spatial.distance import jensenshannon

    a = _distribution(p, "p")
    b = _distribution(q, "q")
    if a.shape != b.shape:
        raise ValueError(f"lengths differ: {a.size} and {b.size}")
    # Two nearly equal distributions can round to a divergence a hair below 0, whose
    # square root is NaN: their distance is 0.
    with np.errstate(invalid="ignore"):
        distance = float(jensenshannon(a, b, base=2.0))
    return 0.0 if math.isnan(distance) else distance


def expected_calibration_error(scores: ArrayLike, labels: ArrayLike, bins: int = 10) -> float:
    """Expected calibration error over ``bins`` equal-width score bins on [0, 1].

    ``sum_b (n_b / n) * |mean score in b - observed positive rate in b|``; a score of
    exactly 1 falls in the last bin.
    """
    s = _vector(scores, "scores")
    y = _vector(labels, "labels")
    if s.shape != y.shape or s.size == 0:
        raise ValueError("scores and labels must be non-empty and equally long")
    if bins < 1:
        raise ValueError("bins must be >= 1")
    index = np.minimum((np.clip(s, 0.0, 1.0) * bins).astype(np.int64), bins - 1)
    count = np.bincount(index, minlength=bins)
    score_sum = np.bincount(index, weights=s, minlength=bins)
    label_sum = np.bincount(index, weights=y, minlength=bins)
    used = count > 0
    gap = np.abs(score_sum[used] - label_sum[used]) / count[used]
    return float(np.sum(gap * count[used]) / s.size)


def pool_small_cells(
    counts_a: ArrayLike, counts_b: ArrayLike, min_expected: float = 5.0
) -> tuple[np.ndarray, np.ndarray]:
    """Merge categories too thin for the chi-squared approximation into one.

    A category is thin when the count ``b`` would expect there if both samples shared
    one distribution, ``total_b * (a + b) / (total_a + total_b)``, is below
    ``min_expected`` (Cochran's rule of thumb). Thin categories are summed into one
    pooled category appended at the end; if that one is still thin it is merged into the
    smallest remaining category. Totals never change. Without pooling, one value in a
    bin the reference left empty would make a tiny batch look significantly different.
    """
    a = _vector(counts_a, "counts_a")
    b = _vector(counts_b, "counts_b")
    if a.shape != b.shape:
        raise ValueError(f"lengths differ: {a.size} and {b.size}")
    total = a.sum() + b.sum()
    if total <= 0:
        return a, b
    expected = b.sum() * (a + b) / total
    thin = expected < min_expected
    if not thin.any():
        return a, b
    kept_a, kept_b = a[~thin], b[~thin]
    pooled_a, pooled_b = a[thin].sum(), b[thin].sum()
    if b.sum() * (pooled_a + pooled_b) / total < min_expected and kept_a.size:
        smallest = int(np.argmin(kept_a + kept_b))
        kept_a, kept_b = kept_a.copy(), kept_b.copy()
        kept_a[smallest] += pooled_a
        kept_b[smallest] += pooled_b
        return kept_a, kept_b
    return np.append(kept_a, pooled_a), np.append(kept_b, pooled_b)


def proportions_pvalue(hits_a: int, total_a: int, hits_b: int, total_b: int) -> float:
    """Two-sided p-value that two samples share one rate of hits (Fisher's exact test).

    ``scipy.stats.fisher_exact`` on ``[[hits_a, total_a - hits_a], [hits_b, total_b -
    hits_b]]``. Exact, so it stays valid for a handful of rows where the chi-squared
    approximation of the same 2x2 table claims significance it does not have.
    """
    from scipy.stats import fisher_exact

    if not (0 <= hits_a <= total_a and 0 <= hits_b <= total_b) or total_a == 0 or total_b == 0:
        raise ValueError("hits must lie between 0 and a positive total")
    table = [[hits_a, total_a - hits_a], [hits_b, total_b - hits_b]]
    return float(fisher_exact(table).pvalue)

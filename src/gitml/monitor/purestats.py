"""Distribution distances and tests in plain Python, for paths that must not load numpy.

``gitml report`` compares the drift baselines of two revisions (:mod:`.baseline_diff`);
the report path stays free of numpy and SciPy (it must start fast), and a baseline is a
few hundred numbers, so plain Python loops cost microseconds here. Each function mirrors
its vectorised sibling in :mod:`gitml.monitor.stats` (same conventions, same constants)
or a SciPy reference, and ``tests/test_monitor_purestats.py`` checks them against both.

Baselines keep no raw rows: a numeric column is a *quantile grid* (its quantiles at the
probabilities ``0, 1/K, ..., 1``). :func:`grid_cdf` reads the reference CDF from that grid
exactly as :func:`gitml.monitor.stats.ks_statistic` does, so two baselines can be
compared bin by bin (:func:`grid_fractions`) and by KS distance (:func:`ks_between_grids`).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from itertools import pairwise
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

# Empty bins are floored at this fraction before PSI takes logarithms (the convention of
# gitml.monitor.stats.psi, which imports this constant so both always agree).
PSI_EPS = 1e-4


def _distribution(values: Sequence[float], name: str) -> list[float]:
    """Non-negative finite weights scaled to sum to 1 (counts or fractions alike)."""
    weights = [float(v) for v in values]
    if not weights or any(not math.isfinite(w) or w < 0 for w in weights):
        raise ValueError(f"{name} must be a non-empty vector of finite, non-negative weights")
    total = math.fsum(weights)
    if total <= 0:
        raise ValueError(f"{name} sums to 0")
    return [w / total for w in weights]


def psi(expected: Sequence[float], actual: Sequence[float], eps: float = PSI_EPS) -> float:
    """Population stability index ``sum((a - e) * ln(a / e))`` over bins.

    Same convention as :func:`gitml.monitor.stats.psi`: each vector is scaled to sum to
    1, then bins below ``eps`` are floored at ``eps`` without renormalising.
    """
    e = _distribution(expected, "expected")
    a = _distribution(actual, "actual")
    if len(e) != len(a):
        raise ValueError(f"fractions differ in length: {len(e)} and {len(a)}")
    terms = []
    for x, y in zip(e, a, strict=True):
        x, y = max(x, eps), max(y, eps)
        terms.append((y - x) * math.log(y / x))
    return math.fsum(terms)


def jensen_shannon(p: Sequence[float], q: Sequence[float]) -> float:
    """Jensen-Shannon distance, base 2, in [0, 1] (``scipy.spatial.distance.jensenshannon``)."""
    a = _distribution(p, "p")
    b = _distribution(q, "q")
    if len(a) != len(b):
        raise ValueError(f"lengths differ: {len(a)} and {len(b)}")
    divergence = 0.0
    for x, y in zip(a, b, strict=True):
        mean = (x + y) / 2.0
        # 0 * log(0) is 0: an empty side adds nothing.
        if x > 0:
            divergence += x * math.log(x / mean) / 2.0
        if y > 0:
            divergence += y * math.log(y / mean) / 2.0
    return math.sqrt(max(divergence / math.log(2.0), 0.0))


def _check_grid(quantiles: Sequence[float]) -> None:
    if len(quantiles) < 2 or any(not math.isfinite(q) for q in quantiles):
        raise ValueError("a quantile grid needs >= 2 finite, non-decreasing values")
    if any(b < a for a, b in pairwise(quantiles)):
        raise ValueError("a quantile grid needs >= 2 finite, non-decreasing values")


def grid_cdf(quantiles: Sequence[float], x: float, *, left: bool = False) -> float:
    """The CDF through ``(quantiles[k], k / K)`` at ``x``; with ``left``, its left limit.

    Linear between distinct grid values; where several coincide (a point mass) it jumps
    from the lowest to the highest of their probabilities. The same curve as
    ``gitml.monitor.stats._grid_cdf`` (the reference ``gitml drift`` uses), point by point.
    """
    last = len(quantiles) - 1
    # How many grid values are <= x (or < x for the left limit).
    j = bisect_left(quantiles, x) if left else bisect_right(quantiles, x)
    if j == 0:
        return 0.0
    if j > last:
        return 1.0
    lower, upper = j - 1, j
    width = quantiles[upper] - quantiles[lower]
    within = (x - quantiles[lower]) / width if width > 0 else 0.0
    return (lower + within) / last


def grid_fractions(quantiles: Sequence[float], edges: Sequence[float]) -> list[float]:
    """Share of the grid's distribution in each bin ``(-inf, e0], (e0, e1], ..., (e_last, inf)``.

    Bins close on the right, as the baseline's own bins do, so a point mass at an edge
    counts in the bin that edge ends.
    """
    _check_grid(quantiles)
    cdf = [grid_cdf(quantiles, edge) for edge in edges]
    bounds = [0.0, *cdf, 1.0]
    return [max(b - a, 0.0) for a, b in pairwise(bounds)]


def ks_between_grids(a: Sequence[float], b: Sequence[float]) -> float:
    """Kolmogorov-Smirnov distance ``sup |F_a - F_b|`` between two quantile grids' CDFs.

    Both curves are linear between the points of either grid, so their difference is
    too, and the supremum sits at one of those points, as a value or as a left limit.
    Each grid is within ``1/K`` of its own sample's empirical CDF (see
    :func:`gitml.monitor.stats.ks_statistic`), so this is within ``2/K`` of the exact
    two-sample statistic of the samples behind the grids (checked against SciPy).
    """
    _check_grid(a)
    _check_grid(b)
    gap = 0.0
    for x in sorted({*a, *b}):
        right = abs(grid_cdf(a, x) - grid_cdf(b, x))
        left = abs(grid_cdf(a, x, left=True) - grid_cdf(b, x, left=True))
        gap = max(gap, right, left)
    return gap


def kolmogorov_sf(x: float) -> float:
    """Survival function of the limiting Kolmogorov distribution (``scipy.special.kolmogorov``).

    Two series, each used where it converges in a few terms: the theta-function form of
    the CDF below 1, the alternating series ``2 sum (-1)^(k-1) exp(-2 k^2 x^2)`` above.
    """
    if x <= 0:
        return 1.0
    if x < 1.0:
        factor = math.sqrt(2.0 * math.pi) / x
        cdf = factor * math.fsum(
            math.exp(-((2 * k - 1) ** 2) * math.pi**2 / (8.0 * x * x)) for k in range(1, 8)
        )
        return min(max(1.0 - cdf, 0.0), 1.0)
    terms = [(-1) ** (k - 1) * math.exp(-2.0 * k * k * x * x) for k in range(1, 12)]
    return min(max(2.0 * math.fsum(terms), 0.0), 1.0)


def ks_pvalue(statistic: float, n: int, m: int) -> float:
    """Asymptotic two-sided KS p-value at the effective size ``n m / (n + m)``.

    The same formula as :func:`gitml.monitor.stats.ks_pvalue`, without SciPy.
    """
    if n <= 0 or m <= 0:
        raise ValueError("sample sizes must be positive")
    return kolmogorov_sf(math.sqrt(n * m / (n + m)) * statistic)


def chi2_sf(statistic: float, dof: int) -> float:
    """Upper tail of the chi-squared distribution with integer ``dof`` (``scipy.stats.chi2.sf``).

    Closed forms for integer degrees of freedom: a Poisson sum for even ``dof``,
    ``erfc`` plus a half-integer sum for odd ones. Terms are summed in log space, so
    large statistics underflow to 0 instead of overflowing.
    """
    if dof < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {dof}")
    if math.isinf(statistic):
        return 0.0
    if statistic <= 0:
        return 1.0
    half = statistic / 2.0
    if dof % 2 == 0:
        logs = [-half + i * math.log(half) - math.lgamma(i + 1) for i in range(dof // 2)]
        head = 0.0
    else:
        logs = [
            -half + (i - 0.5) * math.log(half) - math.lgamma(i + 0.5)
            for i in range(1, (dof - 1) // 2 + 1)
        ]
        head = math.erfc(math.sqrt(half))
    return min(head + math.fsum(math.exp(v) for v in logs), 1.0)


def pool_small_cells(
    counts_a: Sequence[float], counts_b: Sequence[float], min_expected: float = 5.0
) -> tuple[list[float], list[float]]:
    """Merge categories too thin for the chi-squared approximation into one.

    The rule of :func:`gitml.monitor.stats.pool_small_cells`: a category is thin when
    ``b`` would expect fewer than ``min_expected`` there under one shared distribution;
    thin ones are summed into one cell appended at the end, and if that one is thin too
    it joins the smallest remaining category.
    """
    a, b = [float(x) for x in counts_a], [float(x) for x in counts_b]
    if len(a) != len(b):
        raise ValueError(f"lengths differ: {len(a)} and {len(b)}")
    total_a, total_b = math.fsum(a), math.fsum(b)
    total = total_a + total_b
    if total <= 0:
        return a, b
    thin = [total_b * (x + y) / total < min_expected for x, y in zip(a, b, strict=True)]
    if not any(thin):
        return a, b
    kept_a = [x for x, t in zip(a, thin, strict=True) if not t]
    kept_b = [y for y, t in zip(b, thin, strict=True) if not t]
    pooled_a = math.fsum(x for x, t in zip(a, thin, strict=True) if t)
    pooled_b = math.fsum(y for y, t in zip(b, thin, strict=True) if t)
    if total_b * (pooled_a + pooled_b) / total < min_expected and kept_a:
        sums = [x + y for x, y in zip(kept_a, kept_b, strict=True)]
        smallest = sums.index(min(sums))
        kept_a[smallest] += pooled_a
        kept_b[smallest] += pooled_b
        return kept_a, kept_b
    return [*kept_a, pooled_a], [*kept_b, pooled_b]


def chi_squared_2samp(counts_a: Sequence[float], counts_b: Sequence[float]) -> tuple[float, float]:
    """Pearson's 2 x k contingency test without continuity correction: ``(statistic, p)``.

    Agrees with ``scipy.stats.chi2_contingency([a, b], correction=False)`` once the
    categories empty in both samples are dropped; fewer than two non-empty categories
    give ``(0.0, 1.0)``.
    """
    a, b = [float(x) for x in counts_a], [float(x) for x in counts_b]
    if len(a) != len(b):
        raise ValueError(f"lengths differ: {len(a)} and {len(b)}")
    if any(x < 0 for x in (*a, *b)) or math.fsum(a) <= 0 or math.fsum(b) <= 0:
        raise ValueError("counts must be non-negative, with a positive total in each sample")
    used = [(x, y) for x, y in zip(a, b, strict=True) if x + y > 0]
    if len(used) < 2:
        return 0.0, 1.0
    total_a = math.fsum(x for x, _ in used)
    total_b = math.fsum(y for _, y in used)
    total = total_a + total_b
    terms = []
    for x, y in used:
        column = x + y
        for observed, row in ((x, total_a), (y, total_b)):
            expected = row * column / total
            terms.append((observed - expected) ** 2 / expected)
    statistic = math.fsum(terms)
    return statistic, chi2_sf(statistic, len(used) - 1)


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def proportions_pvalue(hits_a: int, total_a: int, hits_b: int, total_b: int) -> float:
    """Fisher's exact two-sided p-value that two samples share one rate of hits.

    Same rule as :func:`gitml.monitor.stats.proportions_pvalue` (tables no more likely
    than the observed one, up to a relative 1e-7); agrees with ``scipy.stats.fisher_exact``.
    """
    if not (0 <= hits_a <= total_a and 0 <= hits_b <= total_b) or total_a == 0 or total_b == 0:
        raise ValueError("hits must lie between 0 and a positive total")
    hits, total = hits_a + hits_b, total_a + total_b
    if hits in (0, total):
        return 1.0
    lowest, highest = max(0, hits - total_b), min(hits, total_a)
    norm = _log_choose(total, hits)
    log_pmf = [
        _log_choose(total_a, k) + _log_choose(total_b, hits - k) - norm
        for k in range(lowest, highest + 1)
    ]
    observed = log_pmf[hits_a - lowest]
    return min(1.0, math.fsum(math.exp(v) for v in log_pmf if v <= observed + 1e-7))

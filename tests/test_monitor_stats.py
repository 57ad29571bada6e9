"""gitml.monitor.stats against direct computations, exact values and SciPy's references.

Where a function hands its work to SciPy (chi-squared, Fisher, Jensen-Shannon, the KS
p-value), the test computes the same figure another way: from the formula, from exact
rational arithmetic, or from a closed form, so a wrong call (a base, a correction, a
square root) fails.
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from gitml.monitor.baseline import numeric_summary
from gitml.monitor.stats import (
    PSI_EPS,
    bin_counts,
    chi_squared_2samp,
    expected_calibration_error,
    grid_fractions,
    jensen_shannon,
    ks_between_grids,
    ks_pvalue,
    ks_statistic,
    pool_small_cells,
    proportions_pvalue,
    psi,
)

EXACT = 1e-9
# Figures that were computed exactly before SciPy computed them stay within this.
SAME = 1e-12


def _samples(kind: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A reference and a (slightly moved) sample of one shape of data."""
    rng = np.random.default_rng(seed)
    move = rng.uniform(-0.3, 0.3)
    if kind == "normal":
        return rng.normal(size=15_000), rng.normal(move, size=2_000)
    if kind == "poisson":  # few values, heavy ties
        lam = 0.6 + move
        return rng.poisson(0.6, 15_000).astype(float), rng.poisson(lam, 2_000).astype(float)
    if kind == "lognormal":  # skewed, rounded to integers like incomes
        return (
            np.round(rng.lognormal(10.5, 0.5, 15_000)),
            np.round(rng.lognormal(10.5 + move, 0.5, 2_000)),
        )
    if kind == "binary":  # two point masses, like a loan term of 36 or 60 months
        share = 0.4 + move / 3
        return (
            np.where(rng.random(15_000) < 0.4, 36.0, 60.0),
            np.where(rng.random(2_000) < share, 36.0, 60.0),
        )
    raise AssertionError(kind)


KINDS = ("normal", "poisson", "lognormal", "binary")


# --- PSI ------------------------------------------------------------------------------


def test_psi_is_symmetric_kl_like_scipy_rel_entr() -> None:
    rng = np.random.default_rng(1)
    for _ in range(20):
        e = rng.dirichlet(np.ones(10))
        a = rng.dirichlet(np.ones(10))
        reference = float(np.sum(special.rel_entr(a, e) + special.rel_entr(e, a)))
        assert psi(e, a) == pytest.approx(reference, abs=EXACT)


def test_psi_floors_empty_bins_and_accepts_counts() -> None:
    expected = np.array([0.5, 0.5, 0.0])
    actual = np.array([0.4, 0.4, 0.2])
    e = np.maximum(expected, PSI_EPS)
    reference = float(np.sum((actual - e) * np.log(actual / e)))
    assert psi(expected, actual) == pytest.approx(reference, abs=EXACT)
    assert math.isfinite(psi(expected, actual))
    # Counts are scaled to fractions first.
    assert psi([50, 50, 0], [400, 400, 200]) == pytest.approx(reference, abs=EXACT)
    assert psi([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0


def test_psi_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        psi([0.5, 0.5], [1.0])
    with pytest.raises(ValueError, match="non-negative"):
        psi([0.5, -0.5], [0.5, 0.5])
    with pytest.raises(ValueError, match="sums to 0"):
        psi([0.0, 0.0], [0.5, 0.5])


# --- bins -----------------------------------------------------------------------------


def test_bin_counts_are_closed_on_the_right() -> None:
    values = np.array([-5.0, 0.0, 0.5, 1.0, 1.0, 2.0, 3.0, 9.0])
    cuts = np.array([0.0, 1.0, 2.0])
    # (-inf, 0], (0, 1], (1, 2], (2, inf)
    assert bin_counts(values, cuts).tolist() == [2, 3, 1, 2]
    assert bin_counts(np.sort(values), cuts, assume_sorted=True).tolist() == [2, 3, 1, 2]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(-5, 5), min_size=1, max_size=60),
    st.lists(st.integers(-6, 6), min_size=0, max_size=8, unique=True),
)
def test_bin_counts_sorted_path_matches_a_loop(values: list[int], cuts: list[int]) -> None:
    edges = sorted(cuts)
    expected = [0] * (len(edges) + 1)
    for v in values:
        expected[sum(1 for c in edges if v > c)] += 1
    x = np.array(values, dtype=float)
    assert bin_counts(x, edges).tolist() == expected
    assert bin_counts(np.sort(x), edges, assume_sorted=True).tolist() == expected


# --- Kolmogorov-Smirnov ----------------------------------------------------------------


def test_ks_statistic_is_exact_for_the_curve_through_the_grid() -> None:
    # The grid of U(0, 1) is the line F(x) = x: the curve is exactly the uniform CDF, so
    # the supremum must equal SciPy's one-sample KS statistic against it.
    grid = np.linspace(0.0, 1.0, 101)
    rng = np.random.default_rng(3)
    for size in (1, 7, 500, 5_000):
        sample = rng.beta(1.3, 1.0, size)
        expected = stats.kstest(sample, "uniform").statistic
        assert ks_statistic(grid, sample) == pytest.approx(expected, abs=EXACT)
    ties = np.round(rng.random(2_000), 1)  # point masses at 0.0, 0.1, ..., 1.0
    assert ks_statistic(grid, ties) == pytest.approx(
        stats.kstest(ties, "uniform").statistic, abs=EXACT
    )


@pytest.mark.parametrize("kind", KINDS)
def test_ks_statistic_from_quantiles_is_within_a_grid_step_of_scipy(kind: str) -> None:
    for seed in range(25):
        reference, sample = _samples(kind, seed)
        grid = np.quantile(reference, np.linspace(0.0, 1.0, 101))
        exact = stats.ks_2samp(reference, sample, method="asymp").statistic
        approx = ks_statistic(grid, sample)
        assert abs(approx - exact) <= 0.01 + 1e-9, (seed, approx, exact)
        assert ks_statistic(grid, np.sort(sample), assume_sorted=True) == approx


def test_ks_statistic_of_a_constant_reference() -> None:
    grid = np.full(101, 5.0)
    assert ks_statistic(grid, [5.0, 5.0]) == 0.0
    assert ks_statistic(grid, [4.0, 5.0, 6.0, 7.0]) == pytest.approx(0.5)
    assert ks_statistic(grid, [9.0]) == 1.0


def test_ks_statistic_rejects_bad_grids() -> None:
    with pytest.raises(ValueError, match="non-decreasing"):
        ks_statistic([1.0, 0.0], [0.5])
    with pytest.raises(ValueError, match="non-empty"):
        ks_statistic([0.0, 1.0], [])


def _kolmogorov_sf(x: float) -> float:
    """The limiting Kolmogorov distribution's upper tail, ``2 sum (-1)^(k-1) exp(-2 k^2 x^2)``.

    The alternating series converges in a few terms from x = 0.5 on.
    """
    return 2.0 * math.fsum((-1) ** (k - 1) * math.exp(-2.0 * k * k * x * x) for k in range(1, 60))


@pytest.mark.parametrize(("n", "m"), [(2_000, 15_000), (50, 15_000), (1_000_000, 15_000)])
def test_ks_pvalue_is_the_kolmogorov_tail_at_the_effective_size(n: int, m: int) -> None:
    effective = n * m / (n + m)
    for statistic in (0.5 / math.sqrt(effective), 1.5 / math.sqrt(effective), 0.2, 1.0):
        expected = _kolmogorov_sf(math.sqrt(effective) * statistic)
        assert ks_pvalue(statistic, n, m) == pytest.approx(expected, rel=EXACT, abs=1e-300)
    assert ks_pvalue(0.0, n, m) == 1.0
    with pytest.raises(ValueError, match="positive"):
        ks_pvalue(0.1, 0, m)


# --- two quantile grids (a pull request moving a baseline) ------------------------------


def _entry(values: np.ndarray) -> dict:
    return numeric_summary(np.sort(values), values.size, "number", bins=10)


def _sample(kind: str, seed: int, move: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "normal":
        return rng.normal(move, size=3_000)
    if kind == "poisson":  # few distinct values: point masses at the bin edges
        return rng.poisson(0.6 + move, 3_000).astype(float)
    return rng.lognormal(10.8 + move, 0.5, 3_000).round()  # incomes


GRID_KINDS = ("normal", "poisson", "income")


def test_grid_curves_without_ties_are_linear_interpolation() -> None:
    """With distinct grid values the curve is np.interp through (grid[k], k / K)."""
    rng = np.random.default_rng(9)
    for _ in range(20):
        a = np.sort(rng.normal(size=101) + np.arange(101) * 0.05)
        b = np.sort(rng.normal(0.3, 1.2, size=101) + np.arange(101) * 0.05)
        probabilities = np.linspace(0.0, 1.0, 101)
        points = np.linspace(min(a[0], b[0]) - 1, max(a[-1], b[-1]) + 1, 20_001)
        dense = np.concatenate([points, a, b])
        gap = np.abs(np.interp(dense, a, probabilities) - np.interp(dense, b, probabilities))
        assert ks_between_grids(a, b) == pytest.approx(gap.max(), abs=SAME)
        edges = np.sort(rng.choice(a, 9, replace=False)) + 0.01
        shares = np.diff(np.concatenate([[0.0], np.interp(edges, a, probabilities), [1.0]]))
        np.testing.assert_allclose(grid_fractions(a, edges), shares, rtol=0, atol=SAME)


def test_a_point_mass_counts_in_the_bin_its_edge_ends() -> None:
    grid = [0.0, 1.0, 1.0, 1.0, 2.0]  # a quarter below 1, half the mass at 1, a quarter above
    np.testing.assert_allclose(grid_fractions(grid, [1.0]), [0.75, 0.25])
    # Linear on either side of the mass: an eighth of the distribution in each outer half.
    np.testing.assert_allclose(grid_fractions(grid, [0.5, 1.5]), [0.125, 0.75, 0.125])
    # Against an even split over [0, 2] the largest gap is at the mass: 3/4 - 1/2.
    assert ks_between_grids(grid, [0.0, 0.5, 1.0, 1.5, 2.0]) == pytest.approx(0.25)


@pytest.mark.parametrize("kind", GRID_KINDS)
def test_grid_fractions_approximate_the_exact_bin_shares(kind: str) -> None:
    """Read back through the grid, a baseline's own bins keep their shares (to 1/K each)."""
    entry = _entry(_sample(kind, 2))
    shares = grid_fractions(entry["quantiles"], entry["edges"])
    assert math.fsum(shares) == pytest.approx(1.0)
    np.testing.assert_allclose(shares, entry["fractions"], atol=0.011)


@pytest.mark.parametrize("kind", GRID_KINDS)
@pytest.mark.parametrize("move", [0.0, 0.1, 0.4])
def test_psi_between_grids_matches_psi_of_the_raw_samples(kind: str, move: float) -> None:
    """PSI of two baselines on the base's bins ~ PSI of the raw samples binned exactly."""
    base, head = _sample(kind, 3), _sample(kind, 4, move)
    base_entry, head_entry = _entry(base), _entry(head)
    edges = base_entry["edges"]
    exact = psi(bin_counts(base, edges), bin_counts(head, edges))
    ours = psi(
        grid_fractions(base_entry["quantiles"], edges),
        grid_fractions(head_entry["quantiles"], edges),
    )
    assert ours == pytest.approx(exact, abs=0.01 + 0.1 * exact)


@pytest.mark.parametrize("kind", GRID_KINDS)
@pytest.mark.parametrize("move", [0.0, 0.1, 0.4])
def test_ks_between_grids_is_within_two_steps_of_scipy(kind: str, move: float) -> None:
    base, head = _sample(kind, 5), _sample(kind, 6, move)
    exact = stats.ks_2samp(base, head).statistic
    ours = ks_between_grids(_entry(base)["quantiles"], _entry(head)["quantiles"])
    assert abs(ours - exact) <= 0.02 + EXACT


def test_identical_grids_are_zero_apart() -> None:
    entry = _entry(_sample("poisson", 7))
    grid, edges = entry["quantiles"], entry["edges"]
    assert ks_between_grids(grid, grid) == 0.0
    shares = grid_fractions(grid, edges)
    assert psi(shares, shares) == 0.0


def test_ks_pvalue_is_close_to_and_not_below_scipy_ks_2samp() -> None:
    rng = np.random.default_rng(8)
    for n, m in [(2_000, 15_000), (1_000, 1_000), (300, 15_000)]:
        a, b = rng.normal(0.1, size=n), rng.normal(size=m)
        result = stats.ks_2samp(a, b, method="asymp")
        mine = ks_pvalue(result.statistic, n, m)
        assert mine >= result.pvalue
        assert mine == pytest.approx(result.pvalue, rel=0.05, abs=1e-6)


# --- chi-squared, Jensen-Shannon, Fisher ----------------------------------------------


def _pearson(table: np.ndarray) -> float:
    """Pearson's statistic cell by cell: (observed - expected)^2 / expected."""
    total = table.sum()
    statistic = 0.0
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            expected = table[i].sum() * table[:, j].sum() / total
            statistic += (table[i, j] - expected) ** 2 / expected
    return statistic


def test_chi_squared_2samp_is_pearsons_test_without_correction() -> None:
    rng = np.random.default_rng(5)
    for k in (2, 3):
        for _ in range(10):
            a = rng.multinomial(15_000, rng.dirichlet(np.ones(k) * 5))
            b = rng.multinomial(2_000, rng.dirichlet(np.ones(k) * 5))
            statistic, pvalue = chi_squared_2samp(a, b)
            expected = _pearson(np.vstack([a, b]).astype(float))
            assert statistic == pytest.approx(expected, rel=SAME)
            # Closed forms of the chi-squared tail: erfc(sqrt(x / 2)) with one degree of
            # freedom (no continuity correction on a 2x2 table), exp(-x / 2) with two.
            tail = math.erfc(math.sqrt(expected / 2)) if k == 2 else math.exp(-expected / 2)
            assert pvalue == pytest.approx(tail, rel=1e-9, abs=1e-300)


def test_chi_squared_2samp_known_table() -> None:
    # Row totals 100 and 100, column totals 50, 80, 70: every expected count is half a
    # column, so the statistic is 2 * ((30-25)^2/25 + (40-40)^2/40 + (30-35)^2/35) = 2 + 10/7.
    statistic, pvalue = chi_squared_2samp([30, 40, 30], [20, 40, 40])
    assert statistic == pytest.approx(2 + 10 / 7, rel=SAME)
    assert pvalue == pytest.approx(math.exp(-(2 + 10 / 7) / 2), rel=SAME)


def test_chi_squared_2samp_drops_categories_empty_in_both() -> None:
    assert chi_squared_2samp([10, 0, 30], [5, 0, 9]) == pytest.approx(
        chi_squared_2samp([10, 30], [5, 9]), rel=SAME
    )
    assert chi_squared_2samp([10, 0], [5, 0]) == (0.0, 1.0)
    assert chi_squared_2samp([10.0, 20.0], [1.0, 2.0])[0] == pytest.approx(0.0, abs=SAME)


def _js_distance(p: list[float], q: list[float]) -> float:
    """sqrt(H(M) - (H(P) + H(Q)) / 2) in bits, M the mixture: the textbook definition."""

    def entropy(weights: list[float]) -> float:
        return -math.fsum(w * math.log2(w) for w in weights if w > 0)

    total_p, total_q = math.fsum(p), math.fsum(q)
    p = [x / total_p for x in p]
    q = [x / total_q for x in q]
    mixture = [(x + y) / 2 for x, y in zip(p, q, strict=True)]
    return math.sqrt(max(entropy(mixture) - (entropy(p) + entropy(q)) / 2, 0.0))


def test_jensen_shannon_is_the_base_2_distance() -> None:
    rng = np.random.default_rng(6)
    for _ in range(20):
        p = rng.dirichlet(np.ones(5))
        q = rng.dirichlet(np.ones(5))
        assert jensen_shannon(p, q) == pytest.approx(_js_distance(list(p), list(q)), rel=1e-9)
    # Zeros, counts and disjoint supports.
    assert jensen_shannon([3, 0, 1], [0, 2, 2]) == pytest.approx(
        _js_distance([3, 0, 1], [0, 2, 2]), rel=1e-9
    )
    assert jensen_shannon([1, 0], [0, 1]) == pytest.approx(1.0, rel=SAME)
    # One certain outcome against a fair coin: H(3/4, 1/4) - 1/2 bits, then the root.
    h = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    assert jensen_shannon([1, 0], [1, 1]) == pytest.approx(math.sqrt(h - 0.5), rel=SAME)
    assert jensen_shannon([0.3, 0.7], [0.3, 0.7]) == 0.0


def test_jensen_shannon_of_nearly_equal_distributions_is_a_number() -> None:
    """Rounding can leave the divergence a hair below 0: the distance is 0, not NaN."""
    rng = np.random.default_rng(11)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(200):
            p = rng.dirichlet(np.ones(8))
            q = p * (1 + rng.normal(0, 1e-9, p.size))
            distance = jensen_shannon(p, q)
            assert 0.0 <= distance < 1e-6


def _fisher_exact(hits_a: int, total_a: int, hits_b: int, total_b: int) -> Fraction:
    """Fisher's two-sided p-value in exact rationals: every table no more likely, summed."""
    hits, total = hits_a + hits_b, total_a + total_b
    lowest, highest = max(0, hits - total_b), min(hits, total_a)
    weight = {
        k: math.comb(total_a, k) * math.comb(total_b, hits - k) for k in range(lowest, highest + 1)
    }
    observed = weight[hits_a]
    return Fraction(sum(w for w in weight.values() if w <= observed), math.comb(total, hits))


@pytest.mark.parametrize(
    ("a", "n", "b", "m"),
    [
        (450, 15_000, 70, 2_000),
        (450, 15_000, 60, 2_000),
        (900, 15_000, 130, 2_000),
        (1, 15_000, 2, 20),
        (0, 100, 0, 10),
        (100, 100, 10, 10),
        (5, 10, 5, 10),  # symmetric: the observed table is the mode
        (3, 12, 9, 12),
        (8_600, 15_000, 998, 2_000),
    ],
)
def test_proportions_pvalue_is_fishers_exact_test(a: int, n: int, b: int, m: int) -> None:
    expected = float(_fisher_exact(a, n, b, m))
    assert proportions_pvalue(a, n, b, m) == pytest.approx(expected, rel=SAME)


def test_proportions_pvalue_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError, match="between 0"):
        proportions_pvalue(5, 3, 1, 2)
    with pytest.raises(ValueError, match="between 0"):
        proportions_pvalue(0, 0, 1, 2)


def test_pool_small_cells_keeps_totals_and_merges_thin_cells() -> None:
    a = np.array([7_000.0, 5_000.0, 2_990.0, 10.0, 0.0])
    b = np.array([900.0, 700.0, 380.0, 1.0, 40.0])
    pooled_a, pooled_b = pool_small_cells(a, b)
    assert pooled_a.sum() == a.sum()
    assert pooled_b.sum() == b.sum()
    # The last two cells expect fewer than 5 batch rows: they become one cell.
    assert pooled_a.tolist() == [7_000.0, 5_000.0, 2_990.0, 10.0]
    assert pooled_b.tolist() == [900.0, 700.0, 380.0, 41.0]
    # A pooled cell still too thin joins the smallest remaining one.
    thin_a, thin_b = pool_small_cells([100.0, 100.0, 1.0], [10.0, 10.0, 0.0])
    assert thin_a.tolist() == [101.0, 100.0]
    assert thin_b.tolist() == [10.0, 10.0]


def test_expected_calibration_error_matches_a_loop() -> None:
    rng = np.random.default_rng(7)
    scores = rng.random(3_000)
    labels = (rng.random(3_000) < scores**1.5).astype(float)
    total = 0.0
    for b in range(10):
        upper = (scores < (b + 1) / 10) if b < 9 else (scores <= 1.0)
        inside = (scores >= b / 10) & upper
        if inside.any():
            gap = abs(scores[inside].mean() - labels[inside].mean())
            total += gap * inside.sum() / scores.size
    assert expected_calibration_error(scores, labels) == pytest.approx(total, abs=EXACT)
    perfect = np.array([0.0, 0.0, 1.0, 1.0])
    assert expected_calibration_error(perfect, perfect) == 0.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: jensen_shannon([1], [1, 2]), "lengths differ"),
        (lambda: jensen_shannon([0, 0], [1, 1]), "sums to 0"),
        (lambda: grid_fractions([2.0, 1.0], [1.5]), "non-decreasing"),
        (lambda: ks_between_grids([1.0], [1.0, 2.0]), ">= 2"),
        (lambda: ks_between_grids([0.0, math.inf], [1.0, 2.0]), "finite"),
        (lambda: chi_squared_2samp([1, 0], [0, 0]), "positive total"),
        (lambda: chi_squared_2samp([1, 2], [1, 2, 3]), "lengths differ"),
        (lambda: chi_squared_2samp([1, -2], [1, 2]), "non-negative"),
        (lambda: pool_small_cells([1, 2], [1]), "lengths differ"),
    ],
)
def test_bad_input_is_refused(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]

"""gitml.monitor.stats agrees with SciPy's reference implementations on the same inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats
from scipy.spatial import distance

from gitml.monitor.stats import (
    PSI_EPS,
    bin_counts,
    chi_squared,
    chi_squared_2samp,
    expected_calibration_error,
    jensen_shannon,
    ks_2samp_statistic,
    ks_pvalue,
    ks_statistic,
    pool_small_cells,
    proportions_pvalue,
    psi,
)

EXACT = 1e-9


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


@pytest.mark.parametrize("kind", KINDS)
def test_ks_2samp_statistic_equals_scipy(kind: str) -> None:
    for seed in range(5):
        reference, sample = _samples(kind, seed)
        expected = stats.ks_2samp(reference, sample, method="asymp").statistic
        assert ks_2samp_statistic(reference, sample) == pytest.approx(expected, abs=EXACT)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # SciPy's p-value of tiny samples
@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(0, 6), min_size=1, max_size=40),
    st.lists(st.integers(0, 6), min_size=1, max_size=40),
)
def test_ks_2samp_statistic_equals_scipy_with_ties(a: list[int], b: list[int]) -> None:
    expected = stats.ks_2samp(a, b, method="asymp").statistic
    assert ks_2samp_statistic(a, b) == pytest.approx(expected, abs=EXACT)


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


@pytest.mark.parametrize(("n", "m"), [(2_000, 15_000), (50, 15_000), (1_000_000, 15_000)])
def test_ks_pvalue_equals_scipy_kstwobign(n: int, m: int) -> None:
    effective = n * m / (n + m)
    for statistic in (0.0, 0.5 / math.sqrt(effective), 1.5 / math.sqrt(effective), 0.2, 1.0):
        expected = stats.kstwobign.sf(math.sqrt(effective) * statistic)
        assert ks_pvalue(statistic, n, m) == pytest.approx(expected, abs=EXACT)


def test_ks_pvalue_is_close_to_and_not_below_scipy_ks_2samp() -> None:
    rng = np.random.default_rng(8)
    for n, m in [(2_000, 15_000), (1_000, 1_000), (300, 15_000)]:
        a, b = rng.normal(0.1, size=n), rng.normal(size=m)
        result = stats.ks_2samp(a, b, method="asymp")
        mine = ks_pvalue(result.statistic, n, m)
        assert mine >= result.pvalue
        assert mine == pytest.approx(result.pvalue, rel=0.05, abs=1e-6)


# --- chi-squared, Jensen-Shannon, Fisher ----------------------------------------------


def test_chi_squared_equals_scipy_chisquare() -> None:
    rng = np.random.default_rng(4)
    for _ in range(20):
        fractions = rng.dirichlet(np.ones(6))
        observed = rng.multinomial(800, rng.dirichlet(np.ones(6) * 20))
        statistic, pvalue = chi_squared(fractions, observed)
        expected = stats.chisquare(observed, fractions * observed.sum())
        assert statistic == pytest.approx(expected.statistic, abs=EXACT)
        assert pvalue == pytest.approx(expected.pvalue, abs=EXACT)


def test_chi_squared_with_an_impossible_category() -> None:
    assert chi_squared([0.5, 0.5, 0.0], [10, 10, 1]) == (math.inf, 0.0)
    statistic, pvalue = chi_squared([0.5, 0.5, 0.0], [10, 12, 0])
    expected = stats.chisquare([10, 12], [11.0, 11.0])
    assert (statistic, pvalue) == pytest.approx((expected.statistic, expected.pvalue))


def test_chi_squared_2samp_equals_scipy_contingency() -> None:
    rng = np.random.default_rng(5)
    for k in (2, 3, 7):
        for _ in range(10):
            a = rng.multinomial(15_000, rng.dirichlet(np.ones(k) * 5))
            b = rng.multinomial(2_000, rng.dirichlet(np.ones(k) * 5))
            statistic, pvalue = chi_squared_2samp(a, b)
            expected = stats.chi2_contingency(np.vstack([a, b]), correction=False)
            assert statistic == pytest.approx(expected.statistic, abs=1e-6)
            assert pvalue == pytest.approx(expected.pvalue, abs=EXACT)
    # Categories empty on both sides are dropped (SciPy would refuse them).
    with_empty = chi_squared_2samp([10, 0, 30], [5, 0, 9])
    expected = stats.chi2_contingency([[10, 30], [5, 9]], correction=False)
    assert with_empty == pytest.approx((expected.statistic, expected.pvalue))
    assert chi_squared_2samp([10, 0], [5, 0]) == (0.0, 1.0)


def test_jensen_shannon_equals_scipy_base_2() -> None:
    rng = np.random.default_rng(6)
    for _ in range(20):
        p = rng.dirichlet(np.ones(5))
        q = rng.dirichlet(np.ones(5))
        expected = distance.jensenshannon(p, q, base=2)
        assert jensen_shannon(p, q) == pytest.approx(expected, abs=EXACT)
    # Zeros, counts and disjoint supports.
    assert jensen_shannon([3, 0, 1], [0, 2, 2]) == pytest.approx(
        distance.jensenshannon([3, 0, 1], [0, 2, 2], base=2), abs=EXACT
    )
    assert jensen_shannon([1, 0], [0, 1]) == pytest.approx(1.0)
    assert jensen_shannon([0.3, 0.7], [0.3, 0.7]) == 0.0


@pytest.mark.parametrize(
    ("a", "n", "b", "m"),
    [
        (450, 15_000, 70, 2_000),
        (450, 15_000, 60, 2_000),
        (1, 15_000, 2, 20),
        (0, 100, 0, 10),
        (100, 100, 10, 10),
        (5, 10, 5, 10),  # symmetric: the observed table is the mode
        (3, 12, 9, 12),
        (8_600, 15_000, 998, 2_000),
        (30_000, 1_000_000, 480, 15_000),
    ],
)
def test_proportions_pvalue_equals_scipy_fisher(a: int, n: int, b: int, m: int) -> None:
    expected = stats.fisher_exact([[a, n - a], [b, m - b]]).pvalue
    assert proportions_pvalue(a, n, b, m) == pytest.approx(expected, abs=EXACT)


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

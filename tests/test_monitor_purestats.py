"""gitml.monitor.purestats agrees with its numpy twins and SciPy on the same inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special
from scipy import stats as scipy_stats
from scipy.spatial import distance

from gitml.monitor import purestats, stats
from gitml.monitor.baseline import numeric_summary

EXACT = 1e-9
weights = st.lists(st.floats(0.0, 1000.0), min_size=2, max_size=12).filter(lambda w: sum(w) > 0)


def _sample(kind: str, seed: int, move: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "normal":
        return np.sort(rng.normal(move, size=3_000))
    if kind == "poisson":  # few distinct values: point masses at the bin edges
        return np.sort(rng.poisson(0.6 + move, 3_000).astype(float))
    return np.sort(rng.lognormal(10.8 + move, 0.5, 3_000).round())  # incomes


def _entry(values: np.ndarray) -> dict:
    return numeric_summary(values, values.size, "number", bins=10)


@settings(max_examples=200)
@given(weights, st.data())
def test_psi_and_js_agree_with_numpy_and_scipy(expected: list[float], data: st.DataObject) -> None:
    actual = data.draw(
        st.lists(st.floats(0.0, 1000.0), min_size=len(expected), max_size=len(expected)).filter(
            lambda w: sum(w) > 0
        )
    )
    assert purestats.psi(expected, actual) == pytest.approx(
        stats.psi(expected, actual), rel=EXACT, abs=EXACT
    )
    reference = distance.jensenshannon(expected, actual, base=2)
    assert purestats.jensen_shannon(expected, actual) == pytest.approx(reference, abs=1e-7)


def test_psi_shares_its_floor_with_the_numpy_version() -> None:
    assert stats.PSI_EPS is purestats.PSI_EPS
    # One empty bin: large but finite, with the same floor on both paths.
    assert purestats.psi([0.5, 0.5, 0.0], [0.4, 0.4, 0.2]) == pytest.approx(
        stats.psi([0.5, 0.5, 0.0], [0.4, 0.4, 0.2]), rel=EXACT
    )


@pytest.mark.parametrize("kind", ["normal", "poisson", "income"])
def test_grid_cdf_is_the_curve_gitml_drift_uses(kind: str) -> None:
    grid = np.array(_entry(_sample(kind, 1))["quantiles"])
    points = np.concatenate([grid, (grid[:-1] + grid[1:]) / 2, [grid[0] - 1, grid[-1] + 1]])
    for side, left in (("right", False), ("left", True)):
        expected = stats._grid_cdf(grid, points, side)
        ours = [purestats.grid_cdf(list(grid), float(x), left=left) for x in points]
        np.testing.assert_allclose(ours, expected, rtol=0, atol=EXACT)


@pytest.mark.parametrize("kind", ["normal", "poisson", "income"])
def test_grid_fractions_approximate_the_exact_bin_shares(kind: str) -> None:
    """Read back through the grid, a baseline's own bins keep their shares (to 1/K each)."""
    entry = _entry(_sample(kind, 2))
    shares = purestats.grid_fractions(entry["quantiles"], entry["edges"])
    assert math.fsum(shares) == pytest.approx(1.0)
    np.testing.assert_allclose(shares, entry["fractions"], atol=0.011)


@pytest.mark.parametrize("kind", ["normal", "poisson", "income"])
@pytest.mark.parametrize("move", [0.0, 0.1, 0.4])
def test_psi_between_grids_matches_psi_of_the_raw_samples(kind: str, move: float) -> None:
    """PSI of two baselines on the base's bins ~ PSI of the raw samples binned by numpy."""
    base, head = _sample(kind, 3), _sample(kind, 4, move)
    base_entry, head_entry = _entry(base), _entry(head)
    edges = base_entry["edges"]
    exact = stats.psi(
        stats.bin_counts(base, edges, assume_sorted=True),
        stats.bin_counts(head, edges, assume_sorted=True),
    )
    ours = purestats.psi(
        purestats.grid_fractions(base_entry["quantiles"], edges),
        purestats.grid_fractions(head_entry["quantiles"], edges),
    )
    assert ours == pytest.approx(exact, abs=0.01 + 0.1 * exact)


@pytest.mark.parametrize("kind", ["normal", "poisson", "income"])
@pytest.mark.parametrize("move", [0.0, 0.1, 0.4])
def test_ks_between_grids_is_within_two_steps_of_scipy(kind: str, move: float) -> None:
    base, head = _sample(kind, 5), _sample(kind, 6, move)
    exact = scipy_stats.ks_2samp(base, head).statistic
    ours = purestats.ks_between_grids(_entry(base)["quantiles"], _entry(head)["quantiles"])
    assert abs(ours - exact) <= 0.02 + EXACT


def test_identical_grids_are_zero_apart() -> None:
    grid = _entry(_sample("poisson", 7))["quantiles"]
    assert purestats.ks_between_grids(grid, grid) == 0.0
    edges = _entry(_sample("poisson", 7))["edges"]
    shares = purestats.grid_fractions(grid, edges)
    assert purestats.psi(shares, shares) == 0.0


@pytest.mark.parametrize("x", [0.0, 0.05, 0.2, 0.5, 0.8, 0.99, 1.0, 1.01, 1.36, 1.63, 2.5, 6.0])
def test_kolmogorov_sf_agrees_with_scipy(x: float) -> None:
    assert purestats.kolmogorov_sf(x) == pytest.approx(special.kolmogorov(x), rel=1e-9, abs=1e-15)


def test_ks_pvalue_is_the_numpy_versions() -> None:
    for statistic, n, m in ((0.01, 1000, 2000), (0.05, 1000, 2000), (0.2, 300, 5000)):
        assert purestats.ks_pvalue(statistic, n, m) == pytest.approx(
            stats.ks_pvalue(statistic, n, m), rel=1e-9, abs=1e-15
        )
    with pytest.raises(ValueError, match="positive"):
        purestats.ks_pvalue(0.1, 0, 10)


@pytest.mark.parametrize("dof", [1, 2, 3, 4, 7, 10, 31])
@pytest.mark.parametrize("statistic", [0.0, 0.3, 1.0, 5.5, 20.0, 80.0, 900.0])
def test_chi2_sf_agrees_with_scipy(dof: int, statistic: float) -> None:
    expected = scipy_stats.chi2.sf(statistic, dof)
    assert purestats.chi2_sf(statistic, dof) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_chi2_sf_edges() -> None:
    assert purestats.chi2_sf(math.inf, 3) == 0.0
    with pytest.raises(ValueError, match="degrees of freedom"):
        purestats.chi2_sf(1.0, 0)


@settings(max_examples=150)
@given(
    st.lists(st.tuples(st.integers(0, 400), st.integers(0, 400)), min_size=1, max_size=10).filter(
        lambda rows: sum(a for a, _ in rows) > 0 and sum(b for _, b in rows) > 0
    )
)
def test_pooling_and_chi_squared_agree_with_the_numpy_versions(rows: list[tuple[int, int]]) -> None:
    a = [float(x) for x, _ in rows]
    b = [float(y) for _, y in rows]
    pooled = purestats.pool_small_cells(a, b)
    reference = stats.pool_small_cells(np.array(a), np.array(b))
    np.testing.assert_allclose(pooled[0], reference[0])
    np.testing.assert_allclose(pooled[1], reference[1])
    ours = purestats.chi_squared_2samp(a, b)
    theirs = stats.chi_squared_2samp(a, b)
    assert ours[0] == pytest.approx(theirs[0], rel=1e-9, abs=1e-12)
    assert ours[1] == pytest.approx(theirs[1], rel=1e-7, abs=1e-300)


def test_chi_squared_agrees_with_scipy_contingency() -> None:
    a, b = [120.0, 300.0, 80.0, 0.0], [90.0, 350.0, 60.0, 0.0]
    reference = scipy_stats.chi2_contingency([a[:3], b[:3]], correction=False)
    statistic, pvalue = purestats.chi_squared_2samp(a, b)
    assert statistic == pytest.approx(reference.statistic, rel=1e-9)
    assert pvalue == pytest.approx(reference.pvalue, rel=1e-9)


@pytest.mark.parametrize(
    "table", [(3, 1000, 40, 2000), (0, 50, 5, 60), (30, 1000, 31, 1000), (0, 10, 0, 10)]
)
def test_fisher_exact_agrees_with_scipy(table: tuple[int, int, int, int]) -> None:
    hits_a, total_a, hits_b, total_b = table
    reference = scipy_stats.fisher_exact([[hits_a, total_a - hits_a], [hits_b, total_b - hits_b]])
    assert purestats.proportions_pvalue(*table) == pytest.approx(reference.pvalue, rel=1e-7)
    assert purestats.proportions_pvalue(*table) == pytest.approx(
        stats.proportions_pvalue(*table), rel=1e-9
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: purestats.psi([1, 2], [1, 2, 3]), "differ in length"),
        (lambda: purestats.psi([0, 0], [1, 1]), "sums to 0"),
        (lambda: purestats.psi([-1, 2], [1, 1]), "non-negative"),
        (lambda: purestats.jensen_shannon([1], [1, 2]), "lengths differ"),
        (lambda: purestats.grid_fractions([2.0, 1.0], [1.5]), "non-decreasing"),
        (lambda: purestats.ks_between_grids([1.0], [1.0, 2.0]), ">= 2"),
        (lambda: purestats.chi_squared_2samp([1, 0], [0, 0]), "positive total"),
        (lambda: purestats.proportions_pvalue(5, 3, 1, 2), "between 0"),
    ],
)
def test_bad_input_is_refused(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]

"""Comparing two drift baselines (gitml.monitor.baseline_diff), on the example generator."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest
from scipy import stats as scipy_stats

from gitml.monitor.baseline import baseline_text, compute_baseline, read_baseline
from gitml.monitor.baseline_diff import compare_baselines
from gitml.monitor.thresholds import DriftThresholds
from tests.test_drift import batch, credit_signature, oracle

if TYPE_CHECKING:
    from gitml.signature import Signature

ROWS = 2_000
# What the generator's downturn moves (generate.py): incomes, debt-to-income, credit
# utilisation, late payments and the rates priced from them.
SHIFTED = {"annual_income", "debt_to_income", "credit_utilization", "interest_rate"}


def _baseline(frame: pd.DataFrame, signature: Signature) -> dict[str, Any]:
    computed = compute_baseline(frame, signature, oracle(frame))
    return read_baseline(baseline_text(computed), "credit.baseline.json")


@pytest.fixture(scope="module")
def signature() -> Signature:
    return credit_signature()


@pytest.fixture(scope="module")
def base(signature: Signature) -> dict[str, Any]:
    return _baseline(batch(ROWS, seed=1), signature)


def test_identical_baselines_do_not_move(base: dict[str, Any]) -> None:
    diff = compare_baselines(base, base, DriftThresholds())
    assert (diff.level, diff.material, diff.moved) == ("ok", False, ())
    assert all(f.psi == 0.0 for f in diff.features)
    assert all(f.ks == 0.0 for f in diff.features if f.kind == "numeric")
    assert (diff.score.psi, diff.score.ks) == (0.0, 0.0)


@pytest.mark.parametrize("seed", range(2, 8))
def test_a_fresh_sample_of_the_same_economy_is_not_material(
    base: dict[str, Any], signature: Signature, seed: int
) -> None:
    head = _baseline(batch(ROWS, seed=seed), signature)
    diff = compare_baselines(base, head, DriftThresholds())
    assert not diff.material, [f.reasons for f in diff.moved]


def test_a_new_batch_from_the_downturn_moves_the_shifted_features(
    base: dict[str, Any], signature: Signature
) -> None:
    mixed = pd.concat([batch(ROWS, seed=1), batch(ROWS, seed=9, shift=1.0)], ignore_index=True)
    diff = compare_baselines(base, _baseline(mixed, signature), DriftThresholds())
    assert diff.material
    assert diff.level == "drift"
    moved = {f.name for f in diff.moved}
    assert moved, "nothing moved"
    assert moved <= SHIFTED, moved - SHIFTED
    assert {"interest_rate", "debt_to_income"} <= moved
    assert diff.score.level != "ok"
    assert diff.score.mean_head is not None
    assert diff.score.mean_base is not None
    assert diff.score.mean_head > diff.score.mean_base  # more defaults expected
    assert (diff.rows_base, diff.rows_head) == (ROWS, 2 * ROWS)
    # Ranked: the moved features first, most severe first.
    assert [f.name for f in diff.features[: len(moved)]] == [f.name for f in diff.moved]
    severities = [f.severity for f in diff.moved]
    assert severities == sorted(severities, reverse=True)
    reasons = [reason for f in diff.moved for reason in f.reasons]
    assert all(r.startswith(("PSI ", "KS ")) and "(p " in r for r in reasons), reasons


def test_material_means_what_gitml_yaml_says(base: dict[str, Any], signature: Signature) -> None:
    head = _baseline(batch(ROWS, seed=1, shift=1.0), signature)
    assert compare_baselines(base, head, DriftThresholds()).material
    lenient = DriftThresholds(psi_warn=5, psi_drift=9, ks_warn=0.9, ks_drift=0.95)
    assert not compare_baselines(base, head, lenient).material
    strict = DriftThresholds(p_value=1e-300)  # no change is ever significant enough
    assert not compare_baselines(base, head, strict).material


def _categorical(frequencies: dict[str, float], present: int, rows: int) -> dict[str, Any]:
    return {
        "kind": "categorical",
        "type": "category",
        "present": present,
        "missing_rate": (rows - present) / rows,
        "frequencies": frequencies,
    }


def _with_region(base: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    return {**base, "features": {**base["features"], "region": entry}}


def test_categories_added_and_removed(base: dict[str, Any]) -> None:
    rows = base["rows"]
    old = _categorical({"central": 0.5, "north": 0.3, "south": 0.2, "west": 0.0}, rows, rows)
    new = _categorical({"central": 0.5, "north": 0.3, "east": 0.2, "west": 0.0}, rows, rows)
    diff = compare_baselines(_with_region(base, old), _with_region(base, new), DriftThresholds())
    (region,) = [f for f in diff.features if f.name == "region"]
    assert (region.categories_added, region.categories_removed) == (("east",), ("south",))
    assert region.new_share == pytest.approx(0.2)
    assert region.level == "drift"
    assert any(r.startswith("new categories' share 0.2 >= 0.05") for r in region.reasons)
    # Over the union of categories (central, north, south, east), 0.2 moved from south to
    # east. PSI floors each empty share at 1e-4: two terms of (0.2 - 1e-4) * ln(0.2 / 1e-4).
    assert region.psi == pytest.approx(2 * (0.2 - 1e-4) * math.log(0.2 / 1e-4), rel=1e-12)
    # The mixture holds 0.1 in each of south and east: each side's divergence from it is
    # 0.2 * log2(0.2 / 0.1) = 0.2 bits, so the distance is sqrt(0.2).
    assert region.js == pytest.approx(math.sqrt(0.2), rel=1e-12)


def test_a_small_frequency_change_on_few_rows_is_noise(base: dict[str, Any]) -> None:
    """PSI over 0.1 on 40 rows per side is within sampling noise: the chi-squared test says so."""
    old = _categorical({"a": 0.5, "b": 0.5}, 40, 40)
    new = _categorical({"a": 0.3, "b": 0.7}, 40, 40)
    tiny = {**base, "rows": 40}
    diff = compare_baselines(_with_region(tiny, old), _with_region(tiny, new), DriftThresholds())
    (region,) = [f for f in diff.features if f.name == "region"]
    assert region.psi is not None
    assert region.psi > DriftThresholds().psi_warn
    assert region.level == "ok"


def test_missing_rate_change_is_judged_with_fishers_test(base: dict[str, Any]) -> None:
    rows = base["rows"]
    entry = base["features"]["region"]
    more_missing = {**entry, "present": rows - 400, "missing_rate": 400 / rows}
    diff = compare_baselines(base, _with_region(base, more_missing), DriftThresholds())
    (region,) = [f for f in diff.features if f.name == "region"]
    change = 400 / rows - entry["missing_rate"]
    assert region.missing_rate_head == pytest.approx(400 / rows)
    assert region.level == "drift"
    base_missing = rows - entry["present"]
    pvalue = scipy_stats.fisher_exact([[base_missing, entry["present"]], [400, rows - 400]]).pvalue
    assert f"missing rate change {change:.3g} >= 0.1 (p {pvalue:.2g})" in region.reasons


def test_features_added_removed_and_retyped(base: dict[str, Any]) -> None:
    features = dict(base["features"])
    income = features.pop("annual_income")
    features["region"] = base["features"]["annual_income"]  # now numeric
    features["bureau_score"] = income
    head = {**base, "features": features}
    diff = compare_baselines(base, head, DriftThresholds())
    assert diff.material
    assert (diff.features_added, diff.features_removed) == (("bureau_score",), ("annual_income",))
    (region,) = [f for f in diff.features if f.name == "region"]
    assert (region.kind, region.level, region.reasons) == (
        "kind-changed",
        "drift",
        ("kind categorical -> numeric",),
    )


def test_json_shape_is_plain_and_rounded(base: dict[str, Any], signature: Signature) -> None:
    head = _baseline(batch(ROWS, seed=1, shift=1.0), signature)
    data = compare_baselines(base, head, DriftThresholds()).to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert set(data) == {
        "level",
        "material",
        "rows",
        "features_added",
        "features_removed",
        "features",
        "score",
        "thresholds",
    }
    psi_values = [f["psi"] for f in data["features"] if f["psi"] is not None]
    assert all(float(f"{v:.6g}") == v for v in psi_values)

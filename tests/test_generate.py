"""Tests for the synthetic credit-default generator (credit_example.generate)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest

from credit_example.generate import (
    CATEGORIES,
    COLUMNS,
    FEATURES_CATEGORICAL,
    FEATURES_NUMERIC,
    TARGET,
    bayes_auc,
    default_probability,
    generate,
    write_csv,
)

if TYPE_CHECKING:
    from pathlib import Path


def test_same_seed_gives_byte_identical_csv(tmp_path: Path) -> None:
    write_csv(tmp_path / "a.csv", 2_000, seed=7, shift=0.3)
    write_csv(tmp_path / "b.csv", 2_000, seed=7, shift=0.3)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_different_seed_gives_different_csv(tmp_path: Path) -> None:
    write_csv(tmp_path / "a.csv", 2_000, seed=7)
    write_csv(tmp_path / "b.csv", 2_000, seed=8)
    assert (tmp_path / "a.csv").read_bytes() != (tmp_path / "b.csv").read_bytes()


def test_csv_layout(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    write_csv(path, 50, seed=1)
    raw = path.read_bytes()
    # Unix line endings only, one header plus one line per row.
    assert b"\r" not in raw
    lines = raw.decode("utf-8").split("\n")
    assert lines[0] == ",".join(COLUMNS)
    assert lines[-1] == ""
    assert len(lines) == 52


def test_feature_set_mixes_numeric_and_categorical() -> None:
    assert len(FEATURES_NUMERIC) + len(FEATURES_CATEGORICAL) >= 12
    assert FEATURES_NUMERIC
    assert FEATURES_CATEGORICAL
    assert set(CATEGORIES) == set(FEATURES_CATEGORICAL)
    assert (*FEATURES_NUMERIC, *FEATURES_CATEGORICAL, TARGET) == COLUMNS
    data = generate(5_000, seed=3)
    assert tuple(data) == COLUMNS
    for name in FEATURES_CATEGORICAL:
        assert set(data[name]) - {""} == set(CATEGORIES[name])


def test_value_ranges() -> None:
    data = generate(20_000, seed=4, shift=1.0)
    assert data["age"].min() >= 18
    assert data["age"].max() <= 80
    assert np.all((data["debt_to_income"] >= 0) & (data["debt_to_income"] <= 1.5))
    assert np.all((data["credit_utilization"] >= 0) & (data["credit_utilization"] <= 1.2))
    assert set(np.unique(data["loan_term_months"])) == {36.0, 60.0}
    assert set(np.unique(data[TARGET])) == {0, 1}


def test_missing_values_present() -> None:
    data = generate(20_000, seed=5)
    assert 0.02 < np.isnan(data["annual_income"]).mean() < 0.04
    assert 0.05 < np.isnan(data["employment_years"]).mean() < 0.07
    assert 0.005 < (data["region"] == "").mean() < 0.015
    # Never delinquent: missing, and exactly the people without late payments can be missing.
    never = np.isnan(data["months_since_last_delinquency"])
    assert never.any()
    assert np.all(data["num_late_payments_24m"][never] == 0)


def test_default_rate_at_baseline() -> None:
    rate = generate(50_000, seed=11)[TARGET].mean()
    assert 0.05 <= rate <= 0.20


def test_downturn_shift() -> None:
    base = generate(50_000, seed=12, shift=0.0)
    down = generate(50_000, seed=12, shift=1.0)
    # The same people: shift-independent attributes do not move.
    np.testing.assert_array_equal(base["age"], down["age"])
    assert 1.5 <= down[TARGET].mean() / base[TARGET].mean() <= 2.5
    assert np.nanmedian(down["annual_income"]) < np.nanmedian(base["annual_income"])
    assert down["credit_utilization"].mean() > base["credit_utilization"].mean()
    assert down["debt_to_income"].mean() > base["debt_to_income"].mean()


@pytest.mark.parametrize("shift", [0.0, 1.0])
def test_bayes_auc_in_documented_range(shift: float) -> None:
    assert 0.80 <= bayes_auc(rows=50_000, seed=21, shift=shift) <= 0.88


def test_oracle_is_calibrated_against_labels() -> None:
    data = generate(50_000, seed=13)
    prob = default_probability(data)
    assert abs(prob.mean() - data[TARGET].mean()) < 0.01
    # Calibration also holds within risk bands, not only on average.
    top = prob >= np.quantile(prob, 0.8)
    assert abs(prob[top].mean() - data[TARGET][top].mean()) < 0.02
    assert abs(prob[~top].mean() - data[TARGET][~top].mean()) < 0.01


def test_pandas_reads_expected_dtypes(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    write_csv(path, 5_000, seed=9)
    frame = pd.read_csv(path)
    assert tuple(frame.columns) == COLUMNS
    for name in (*FEATURES_NUMERIC, TARGET):
        assert pd.api.types.is_numeric_dtype(frame[name]), name
    for name in FEATURES_CATEGORICAL:
        assert not pd.api.types.is_numeric_dtype(frame[name]), name
    assert frame["region"].isna().any()
    assert frame["annual_income"].isna().any()


def test_oracle_is_computable_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    write_csv(path, 5_000, seed=10, shift=0.5)
    frame = pd.read_csv(path)
    from_file = default_probability(frame, shift=0.5)
    from_memory = default_probability(generate(5_000, seed=10, shift=0.5), shift=0.5)
    np.testing.assert_allclose(from_file, from_memory, rtol=1e-9)
    np.testing.assert_array_equal(frame[TARGET].to_numpy(), generate(5_000, 10, 0.5)[TARGET])


def test_unknown_category_is_rejected() -> None:
    data = generate(10, seed=2)
    data["loan_purpose"] = data["loan_purpose"].copy()
    data["loan_purpose"][0] = "yacht"
    with pytest.raises(ValueError, match="yacht"):
        default_probability(data)


@pytest.mark.parametrize(("rows", "shift"), [(-1, 0.0), (10, -0.1), (10, 1.5)])
def test_invalid_arguments(rows: int, shift: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        generate(rows, seed=0, shift=shift)


def test_zero_rows_writes_header_only(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    write_csv(path, 0, seed=0)
    assert path.read_text(encoding="utf-8") == ",".join(COLUMNS) + "\n"

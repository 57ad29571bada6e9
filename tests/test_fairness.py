"""gitml.fairness: per-group metrics and gaps equal Fairlearn's, intervals cover, bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import roc_auc_score

from gitml.config import FairnessConfig
from gitml.errors import ConfigError
from gitml.fairness import (
    GAPS,
    GROUP_METRICS,
    bootstrap_intervals,
    bootstrap_statistics,
    gap_metrics,
    multiplicities,
    point_values,
    segment_report,
)

THRESHOLD = 0.5
# A population with known group effects: share of rows, base rate, and the uniform score
# ranges of positives and negatives. With decisions = score >= 0.5 each group's TPR is
# the share of its positives' range above 0.5 (FPR: of its negatives' range).
GROUPS = {
    "a": {"share": 0.5, "rate": 0.2, "positive": (0.3, 1.0), "negative": (0.0, 0.6)},
    "b": {"share": 0.3, "rate": 0.4, "positive": (0.4, 1.0), "negative": (0.0, 0.55)},
    "c": {"share": 0.2, "rate": 0.1, "positive": (0.2, 1.0), "negative": (0.0, 1.0)},
}


def _above(low: float, high: float) -> float:
    return max(0.0, high - max(low, THRESHOLD)) / (high - low)


def true_values() -> dict[str, dict[str, float]]:
    """The population's TPR, FPR and selection rate per group."""
    values = {}
    for name, group in GROUPS.items():
        tpr, fpr = _above(*group["positive"]), _above(*group["negative"])
        rate = group["rate"]
        values[name] = {"tpr": tpr, "fpr": fpr, "selection_rate": rate * tpr + (1 - rate) * fpr}
    return values


def population(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """``rows`` seeded draws: a frame with the ``group`` column, labels and scores."""
    rng = np.random.default_rng(seed)
    names = list(GROUPS)
    table = np.array(
        [[GROUPS[n]["rate"], *GROUPS[n]["negative"], *GROUPS[n]["positive"]] for n in names]
    )
    code = rng.choice(len(names), size=rows, p=[GROUPS[n]["share"] for n in names])
    labels = (rng.random(rows) < table[code, 0]).astype(np.int64)
    low, high = table[code, 1 + 2 * labels], table[code, 2 + 2 * labels]
    scores = low + (high - low) * rng.random(rows)
    group = np.asarray(names, dtype=object)[code]
    frame = pd.DataFrame({"group": group, "other": rng.random(rows)})
    return frame, labels, scores


def fairlearn_values(
    groups: np.ndarray, labels: np.ndarray, scores: np.ndarray
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Fairlearn's own figures, computed the way its documentation shows."""
    decisions = (scores >= THRESHOLD).astype(np.int64)
    frame = MetricFrame(
        metrics={
            "selection_rate": selection_rate,
            "tpr": true_positive_rate,
            "fpr": false_positive_rate,
        },
        y_true=labels,
        y_pred=decisions,
        sensitive_features=groups,
    )
    table = frame.by_group.copy()
    table["roc_auc"] = [
        roc_auc_score(labels[groups == g], scores[groups == g]) for g in table.index
    ]
    table["calibration_gap"] = [
        abs(scores[groups == g].mean() - labels[groups == g].mean()) for g in table.index
    ]
    gaps = {
        "demographic_parity_difference": demographic_parity_difference(
            labels, decisions, sensitive_features=groups
        ),
        "demographic_parity_ratio": demographic_parity_ratio(
            labels, decisions, sensitive_features=groups
        ),
        "equalized_odds_difference": equalized_odds_difference(
            labels, decisions, sensitive_features=groups
        ),
    }
    return table, gaps


def codes_of(groups: np.ndarray) -> tuple[np.ndarray, list[str]]:
    names = sorted(set(groups.tolist()))
    return np.array([names.index(g) for g in groups], dtype=np.int64), names


def six_digits(value: float) -> float:
    return float(f"{value:.6g}")


def test_point_values_equal_fairlearn_and_recover_the_known_group_effects() -> None:
    frame, labels, scores = population(30_000, seed=1)
    groups = frame["group"].to_numpy()
    codes, names = codes_of(groups)
    ours = point_values(codes, names, labels, scores, THRESHOLD)
    table, gaps = fairlearn_values(groups, labels, scores)
    for name in names:
        for metric in GROUP_METRICS:
            assert ours["groups"][name][metric] == pytest.approx(
                table.loc[name, metric], abs=1e-12
            ), (name, metric)
    for gap in GAPS:
        assert ours["gaps"][gap] == pytest.approx(gaps[gap], abs=1e-12), gap
    # The population's effects are recovered: rates within sampling error.
    truth = true_values()
    for name in names:
        for metric, value in truth[name].items():
            assert ours["groups"][name][metric] == pytest.approx(value, abs=0.025), (name, metric)
    rates = [truth[n]["selection_rate"] for n in names]
    assert ours["gaps"]["demographic_parity_difference"] == pytest.approx(
        max(rates) - min(rates), abs=0.02
    )
    assert ours["gaps"]["demographic_parity_ratio"] == pytest.approx(
        min(rates) / max(rates), abs=0.03
    )
    tprs, fprs = [truth[n]["tpr"] for n in names], [truth[n]["fpr"] for n in names]
    assert ours["gaps"]["equalized_odds_difference"] == pytest.approx(
        max(max(tprs) - min(tprs), max(fprs) - min(fprs)), abs=0.03
    )


def test_the_report_carries_fairlearn_values_rounded() -> None:
    frame, labels, scores = population(3000, seed=2)
    report = segment_report(frame, labels, scores, THRESHOLD, ["group"], resamples=50, seed=3)
    table, gaps = fairlearn_values(frame["group"].to_numpy(), labels, scores)
    segment = report["segments"]["group"]
    assert list(segment["groups"]) == ["a", "b", "c"]
    for name, group in segment["groups"].items():
        assert group["rows"] == int((frame["group"] == name).sum())
        assert group["positives"] == int(labels[frame["group"] == name].sum())
        for metric in GROUP_METRICS:
            assert group["metrics"][metric]["value"] == six_digits(table.loc[name, metric])
    for gap in GAPS:
        assert segment["gaps"][gap]["value"] == six_digits(gaps[gap])
    assert {k: report[k] for k in ("format", "threshold", "confidence", "bootstrap", "rows")} == {
        "format": 1,
        "threshold": 0.5,
        "confidence": 0.95,
        "bootstrap": {"resamples": 50, "seed": 3},
        "rows": 3000,
    }
    assert gap_metrics(report) == {
        "fairness": {"group": {gap: segment["gaps"][gap]["value"] for gap in GAPS}}
    }


def test_each_bootstrap_resample_equals_fairlearn_on_the_resampled_rows() -> None:
    frame, labels, scores = population(2000, seed=4)
    groups = frame["group"].to_numpy()
    codes, names = codes_of(groups)
    index = np.random.default_rng(5).integers(0, len(labels), size=(4, len(labels)))
    decisions = (scores >= THRESHOLD).astype(np.int64)
    samples = bootstrap_statistics(
        codes, len(names), labels, decisions, scores, multiplicities(index)
    )
    for b, drawn in enumerate(index):
        table, gaps = fairlearn_values(groups[drawn], labels[drawn], scores[drawn])
        for code, name in enumerate(names):
            for metric in GROUP_METRICS:
                assert samples[metric][b, code] == pytest.approx(
                    table.loc[name, metric], abs=1e-12
                ), (b, name, metric)
        for gap in GAPS:
            assert samples[gap][b] == pytest.approx(gaps[gap], abs=1e-12), (b, gap)


def test_bootstrap_intervals_cover_the_true_values_95_percent_of_the_time() -> None:
    """Over seeded samples of a known population, each 95 % interval holds the truth in
    95 % ± 3 % of them (400 samples: the coverage estimate's standard error is 1.1 %)."""
    truth = true_values()
    targets = {
        ("a", "selection_rate"): truth["a"]["selection_rate"],
        ("b", "tpr"): truth["b"]["tpr"],
        ("c", "fpr"): truth["c"]["fpr"],
    }
    rates = [truth[n]["selection_rate"] for n in GROUPS]
    parity = max(rates) - min(rates)  # groups a and c, well apart from b
    hits = dict.fromkeys([*targets, ("gap", "demographic_parity_difference")], 0)
    repetitions = 400
    for repetition in range(repetitions):
        frame, labels, scores = population(1000, seed=1000 + repetition)
        codes, names = codes_of(frame["group"].to_numpy())
        found = bootstrap_intervals(
            {"group": (codes, names)}, labels, scores, THRESHOLD, 200, seed=repetition
        )["group"]
        for (group, metric), value in targets.items():
            low, high = found[metric]
            hits[(group, metric)] += bool(
                low[names.index(group)] <= value <= high[names.index(group)]
            )
        low, high = found["demographic_parity_difference"]
        hits[("gap", "demographic_parity_difference")] += bool(low <= parity <= high)
    for figure, count in hits.items():
        assert 0.92 <= count / repetitions <= 0.98, (figure, count / repetitions)


def test_an_unknown_segment_column_names_the_key_the_column_and_the_columns() -> None:
    frame, labels, scores = population(500, seed=6)
    with pytest.raises(ConfigError) as caught:
        segment_report(frame, labels, scores, THRESHOLD, ["group", "gender"], 10, 1, model="credit")
    message = str(caught.value)
    assert "\n" not in message
    assert "models.credit.fairness.segments" in message
    assert "'gender'" in message
    assert "columns: group, other" in message


def test_a_group_below_min_group_rows_is_a_one_line_error_naming_it() -> None:
    frame, labels, scores = population(500, seed=7)
    frame.loc[:4, "group"] = "tiny"  # 5 rows
    config = FairnessConfig(segments=("group",), min_group_rows=6)
    with pytest.raises(ConfigError) as caught:
        segment_report(frame, labels, scores, THRESHOLD, config, 10, 1, model="credit")
    message = str(caught.value)
    assert "\n" not in message
    assert "'group'" in message
    assert "'tiny'" in message
    assert "has 5 evaluation row(s)" in message
    assert "models.credit.fairness.min_group_rows (6)" in message
    # A group of one row, against the default minimum of 30.
    frame.loc[:4, "group"] = "a"
    frame.loc[0, "group"] = "solo"
    with pytest.raises(ConfigError, match=r"group 'solo' has 1 evaluation row\(s\)"):
        segment_report(frame, labels, scores, THRESHOLD, ["group"], 10, 1)
    frame.loc[:4, "group"] = "tiny"
    # The same rows pass when the configured minimum allows them.
    allowed = FairnessConfig(segments=("group",), min_group_rows=5)
    report = segment_report(frame, labels, scores, THRESHOLD, allowed, 10, 1)
    assert report["segments"]["group"]["groups"]["tiny"]["rows"] == 5


def test_a_one_class_group_has_null_roc_auc_not_an_error() -> None:
    frame, labels, scores = population(1000, seed=8)
    only_negatives = frame["group"] == "c"
    labels = np.where(only_negatives, 0, labels)
    report = segment_report(frame, labels, scores, THRESHOLD, ["group"], 50, 1)
    metrics = report["segments"]["group"]["groups"]["c"]["metrics"]
    assert metrics["roc_auc"] == {"value": None, "low": None, "high": None}
    assert metrics["tpr"] == {"value": None, "low": None, "high": None}  # no positives
    assert metrics["fpr"]["value"] is not None
    other = report["segments"]["group"]["groups"]["a"]["metrics"]["roc_auc"]
    assert None not in other.values()
    # The gaps still exist: Fairlearn counts the group's TPR as 0.
    assert report["segments"]["group"]["gaps"]["equalized_odds_difference"]["value"] > 0


def test_rows_without_a_value_belong_to_no_group_and_are_counted() -> None:
    frame, labels, scores = population(1000, seed=9)
    frame.loc[:9, "group"] = np.nan
    frame.loc[10:14, "group"] = ""
    report = segment_report(frame, labels, scores, THRESHOLD, ["group"], 20, 1)
    segment = report["segments"]["group"]
    assert segment["missing_rows"] == 15
    assert sorted(segment["groups"]) == ["a", "b", "c"]
    assert sum(g["rows"] for g in segment["groups"].values()) == 985


def test_the_same_input_gives_the_same_json_and_the_seed_moves_only_intervals() -> None:
    frame, labels, scores = population(1500, seed=10)
    first = segment_report(frame, labels, scores, THRESHOLD, ["group"], 100, 11)
    again = segment_report(
        frame.copy(), labels.copy(), scores.copy(), THRESHOLD, ["group"], 100, 11
    )
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)
    other = segment_report(frame, labels, scores, THRESHOLD, ["group"], 100, 12)
    gap, moved = (
        first["segments"]["group"]["gaps"]["demographic_parity_difference"],
        other["segments"]["group"]["gaps"]["demographic_parity_difference"],
    )
    assert gap["value"] == moved["value"]
    assert (gap["low"], gap["high"]) != (moved["low"], moved["high"])
    # Every figure is a plain JSON number with at most 6 significant digits.
    for group in first["segments"]["group"]["groups"].values():
        for estimate in group["metrics"].values():
            for value in estimate.values():
                assert value is None or (math.isfinite(value) and value == six_digits(value))


def test_resamples_are_processed_in_chunks_with_the_same_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Memory is bounded by drawing resamples a chunk at a time; the chunking is fixed by
    the row count alone, and an equal stream of draws gives equal intervals."""
    frame, labels, scores = population(800, seed=13)
    one = segment_report(frame, labels, scores, THRESHOLD, ["group"], 64, 3)
    # 5 resamples per chunk instead of all 64 at once.
    monkeypatch.setattr("gitml.fairness._CELLS_PER_CHUNK", 800 * 5)
    chunked = segment_report(frame, labels, scores, THRESHOLD, ["group"], 64, 3)
    assert chunked == one

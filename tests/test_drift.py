"""Baselines, drift detection and batch reading (gitml.monitor), and rendering the report.

The calibration test is the contract of the default thresholds: on the example generator,
batches of 2,000 rows from the training distribution almost never drift, and batches
from half or all of the downturn always do.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from credit_example.generate import (
    CATEGORIES,
    FEATURES_CATEGORICAL,
    FEATURES_NUMERIC,
    TARGET,
    default_probability,
    generate,
    write_csv,
)
from gitml.documents import packaged_schema, schema_problems
from gitml.errors import ConfigError
from gitml.monitor.baseline import (
    baseline_text,
    compute_baseline,
    read_baseline,
    write_baseline,
)
from gitml.monitor.drift import (
    DriftReport,
    DriftThresholds,
    batch_labels,
    batch_scores,
    detect_drift,
    detect_drift_file,
    read_batch,
)
from gitml.monitor.stats import expected_calibration_error
from gitml.report.drift_render import render_markdown, render_table
from gitml.signature import Feature, Signature

if TYPE_CHECKING:
    from pathlib import Path

INTEGER_FEATURES = {
    "age",
    "annual_income",
    "num_late_payments_24m",
    "months_since_last_delinquency",
    "num_credit_lines",
    "loan_amount",
    "loan_term_months",
}
REFERENCE_ROWS = 15_000
BATCH_ROWS = 2_000
BATCHES = 100


def credit_signature() -> Signature:
    """The example model's signature, built from the generator (not the workspace file)."""
    numeric = tuple(
        Feature(name, "integer" if name in INTEGER_FEATURES else "number", nullable=True)
        for name in FEATURES_NUMERIC
    )
    categorical = tuple(
        Feature(name, "category", nullable=True, categories=tuple(sorted(CATEGORIES[name])))
        for name in FEATURES_CATEGORICAL
    )
    return Signature("credit", TARGET, 0.25, numeric + categorical)


def oracle(frame: pd.DataFrame | dict[str, np.ndarray]) -> np.ndarray:
    """The deployed model's scores: the true default probability of the normal economy."""
    return default_probability(frame, shift=0.0)


def batch(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame(generate(rows, seed=seed, shift=shift))


@pytest.fixture(scope="module")
def signature() -> Signature:
    return credit_signature()


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return batch(REFERENCE_ROWS, seed=1)


@pytest.fixture(scope="module")
def baseline(reference: pd.DataFrame, signature: Signature) -> dict[str, Any]:
    computed = compute_baseline(
        reference, signature, oracle(reference), labels=reference[TARGET].to_numpy()
    )
    # Through the file text, so every test sees exactly what a baseline file holds.
    return read_baseline(baseline_text(computed), "credit.baseline.json")


def drift(
    frame: pd.DataFrame,
    baseline: dict[str, Any],
    signature: Signature,
    *,
    scores: bool | np.ndarray = True,
    labels: bool = False,
    thresholds: DriftThresholds | None = None,
) -> DriftReport:
    """Drift with the oracle's scores, or given ones (for batches the oracle cannot score)."""
    if isinstance(scores, bool):
        scores = oracle(frame) if scores else None
    return detect_drift(
        frame,
        baseline,
        signature,
        scores,
        thresholds or DriftThresholds(),
        labels=frame[TARGET].to_numpy() if labels else None,
    )


# --- baseline ---------------------------------------------------------------------------


def _floats(node: Any) -> list[float]:
    if isinstance(node, float):
        return [node]
    if isinstance(node, dict):
        return [f for value in node.values() for f in _floats(value)]
    if isinstance(node, list):
        return [f for value in node for f in _floats(value)]
    return []


def test_baseline_shape(baseline: dict[str, Any], signature: Signature) -> None:
    assert baseline["version"] == 1
    assert baseline["model"] == "credit"
    assert baseline["rows"] == REFERENCE_ROWS
    assert set(baseline["features"]) == set(signature.feature_names)
    income = baseline["features"]["annual_income"]
    assert income["kind"] == "numeric"
    assert income["type"] == "integer"
    assert len(income["edges"]) == 9
    assert len(income["fractions"]) == 10
    assert all(f == pytest.approx(0.1, abs=0.01) for f in income["fractions"])
    assert len(income["quantiles"]) == 101
    assert income["quantiles"][0] == income["stats"]["min"]
    assert income["quantiles"][-1] == income["stats"]["max"]
    assert income["missing_rate"] == pytest.approx(0.03, abs=0.01)
    assert set(income["stats"]) == {
        "mean", "std", "min", "max", "p01", "p05", "p25", "p50", "p75", "p95", "p99",
    }  # fmt: skip
    region = baseline["features"]["region"]
    assert region["kind"] == "categorical"
    assert set(region["frequencies"]) == set(CATEGORIES["region"])
    assert sum(region["frequencies"].values()) == pytest.approx(1.0, abs=1e-5)
    assert baseline["score"]["kind"] == "numeric"
    assert baseline["performance"]["roc_auc"] == pytest.approx(0.84, abs=0.02)
    assert all(float(f"{x:.6g}") == x for x in _floats(baseline))


def test_baseline_is_byte_stable(
    reference: pd.DataFrame, signature: Signature, baseline: dict[str, Any], tmp_path: Path
) -> None:
    again = compute_baseline(
        reference, signature, oracle(reference), labels=reference[TARGET].to_numpy()
    )
    text = baseline_text(again)
    assert text == baseline_text(baseline)
    assert text.endswith("}\n")
    path = tmp_path / "out" / "credit.baseline.json"
    write_baseline(path, again)
    assert path.read_text(encoding="utf-8") == text
    assert read_baseline(path.read_text(encoding="utf-8"), str(path)) == again


def test_baseline_bins_ties_constant_and_empty_columns() -> None:
    signature = Signature(
        "toy",
        "y",
        0.5,
        (
            Feature("constant", "number", nullable=False),
            Feature("term", "integer", nullable=False),
            Feature("late", "integer", nullable=False),
            Feature("blank", "number", nullable=True),
            Feature("colour", "category", nullable=True, categories=("blue", "red")),
        ),
    )
    rows = 1_000
    frame = pd.DataFrame(
        {
            "constant": np.full(rows, 7.0),
            "term": np.where(np.arange(rows) < 400, 36, 60),
            "late": np.where(np.arange(rows) < 700, 0, np.arange(rows) % 3 + 1),
            "blank": np.full(rows, np.nan),
            "colour": np.where(np.arange(rows) < 250, "", "red"),
        }
    )
    baseline = compute_baseline(frame, signature, np.linspace(0, 1, rows))
    read_baseline(baseline_text(baseline), "toy.json")  # valid against the schema
    constant = baseline["features"]["constant"]
    assert (constant["edges"], constant["fractions"]) == ([7.0], [1.0, 0.0])
    assert constant["stats"]["std"] == 0.0
    term = baseline["features"]["term"]
    assert (term["edges"], term["fractions"]) == ([36.0, 60.0], [0.4, 0.6, 0.0])
    late = baseline["features"]["late"]
    # Deciles 0, ..., 0, 1, 2: the top value 3 shares the open last bin.
    assert (late["edges"], late["fractions"]) == ([0.0, 1.0, 2.0], [0.7, 0.1, 0.1, 0.1])
    blank = baseline["features"]["blank"]
    assert blank["missing_rate"] == 1.0
    assert blank["present"] == 0
    assert (blank["edges"], blank["quantiles"], blank["stats"]) == ([], [], None)
    colour = baseline["features"]["colour"]
    assert colour["frequencies"] == {"blue": 0.0, "red": 1.0}
    assert colour["missing_rate"] == 0.25


def test_read_baseline_names_file_and_key(baseline: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=r"^b\.json: not valid YAML"):
        read_baseline("{not json", "b.json")
    broken = json.loads(baseline_text(baseline))
    del broken["score"]
    with pytest.raises(ConfigError, match=r"missing required key.*score"):
        read_baseline(json.dumps(broken), "b.json")
    broken = json.loads(baseline_text(baseline))
    broken["features"]["age"]["fractions"].pop()
    with pytest.raises(ConfigError, match=r"b\.json: features\.age\.fractions: 9 fractions"):
        read_baseline(json.dumps(broken), "b.json")
    broken = json.loads(baseline_text(baseline))
    broken["version"] = 2
    with pytest.raises(ConfigError, match="version"):
        read_baseline(json.dumps(broken), "b.json")
    broken = json.loads(baseline_text(baseline))
    broken["features"]["region"]["kind"] = "numeric"
    with pytest.raises(ConfigError, match=r"features\.region"):
        read_baseline(json.dumps(broken), "b.json")


# --- calibration --------------------------------------------------------------------------


def test_calibration_of_the_default_thresholds(
    baseline: dict[str, Any], signature: Signature
) -> None:
    fired: dict[float, int] = {}
    for shift in (0.0, 0.5, 1.0):
        fired[shift] = 0
        for seed in range(1_000, 1_000 + BATCHES):
            report = drift(batch(BATCH_ROWS, seed, shift), baseline, signature)
            fired[shift] += report.verdict == "drift"
            if shift == 1.0:
                flagged = set(report.drifted) | set(report.warned)
                assert {"annual_income", "credit_utilization"} <= flagged, (seed, flagged)
    assert fired[0.0] < 5, fired
    assert fired[0.5] == BATCHES, fired
    assert fired[1.0] == BATCHES, fired


def test_small_clean_batches_raise_no_false_alarm(
    baseline: dict[str, Any], signature: Signature
) -> None:
    # Tiny batches exceed every effect-size threshold by chance alone; the tests stop them.
    verdicts = [drift(batch(40, seed), baseline, signature).verdict for seed in range(50)]
    assert verdicts.count("drift") <= 1, verdicts
    shifted = [drift(batch(300, seed, 1.0), baseline, signature).verdict for seed in range(10)]
    assert shifted == ["drift"] * 10


# --- what a report says -------------------------------------------------------------------


def test_ranking_by_status_then_severity(baseline: dict[str, Any], signature: Signature) -> None:
    frame = batch(BATCH_ROWS, seed=7)
    frame["interest_rate"] = frame["interest_rate"] + 4.0  # far off: the most severe
    frame["loan_amount"] = frame["loan_amount"] * 1.3  # off, less so
    report = drift(frame, baseline, signature)
    assert report.verdict == "drift"
    assert report.drifted[:2] == ("interest_rate", "loan_amount")
    levels = {"drift": 2, "warn": 1, "ok": 0}
    keys = [(levels[f.status], f.severity) for f in report.features]
    assert keys == sorted(keys, reverse=True)
    shifted = drift(batch(BATCH_ROWS, seed=8, shift=1.0), baseline, signature)
    keys = [(levels[f.status], f.severity) for f in shifted.features]
    assert keys == sorted(keys, reverse=True)
    top = shifted.features[0]
    assert top.reasons
    assert top.severity >= 1.0


def test_score_drift_alone_gives_the_verdict(
    baseline: dict[str, Any], signature: Signature
) -> None:
    frame = batch(BATCH_ROWS, seed=9)
    steady = drift(frame, baseline, signature)
    assert steady.verdict == "ok"
    # Same inputs, a model that now scores everyone 60% higher: only the score moved.
    report = detect_drift(
        frame, baseline, signature, oracle(frame) * 1.6, DriftThresholds(), labels=None
    )
    assert report.drifted == ()
    assert report.score is not None
    assert report.score.status == "drift"
    assert report.verdict == "drift"


def test_unscored_rows_are_reported_not_judged(
    baseline: dict[str, Any], signature: Signature
) -> None:
    frame = batch(BATCH_ROWS, seed=22)
    scores = oracle(frame)
    scores[::4] = np.nan  # a quarter of the predictions were logged without a score
    report = drift(frame, baseline, signature, scores=scores)
    assert report.score is not None
    assert report.score.missing_rate_batch == 0.25
    assert report.score.status == "ok"
    assert report.verdict == "ok"


def test_unseen_categories_are_named_with_their_share(
    baseline: dict[str, Any], signature: Signature
) -> None:
    frame = batch(BATCH_ROWS, seed=10)
    scores = oracle(frame)
    frame.loc[:199, "region"] = "atlantis"
    frame.loc[200:209, "region"] = "lemuria"
    report = drift(frame, baseline, signature, scores=scores)
    region = next(f for f in report.features if f.name == "region")
    assert region.status == "drift"
    assert region.unseen_categories == 2
    present = region.present
    assert region.unseen == (("atlantis", 200 / present), ("lemuria", 10 / present))
    assert any(reason.startswith("unseen share") for reason in region.reasons)
    assert region.js is not None
    assert region.ks is None


def test_missing_rate_changes(baseline: dict[str, Any], signature: Signature) -> None:
    frame = batch(BATCH_ROWS, seed=11)
    frame.loc[: BATCH_ROWS * 0.3, "employment_years"] = np.nan
    frame["num_credit_lines"] = np.nan
    report = drift(frame, baseline, signature)
    employment = next(f for f in report.features if f.name == "employment_years")
    assert employment.status == "drift"
    assert employment.missing_rate_batch > 0.3  # on top of the usual 6%
    assert any(reason.startswith("missing rate change") for reason in employment.reasons)
    lines = next(f for f in report.features if f.name == "num_credit_lines")
    assert lines.status == "drift"
    assert lines.present == 0
    assert (lines.psi, lines.ks, lines.mean_batch) == (None, None, None)


def test_live_performance_with_labels(baseline: dict[str, Any], signature: Signature) -> None:
    frame = batch(BATCH_ROWS, seed=12, shift=1.0)
    report = drift(frame, baseline, signature, labels=True)
    performance = report.performance
    assert performance is not None
    labels, scores = frame[TARGET].to_numpy(), oracle(frame)
    assert performance.rows == BATCH_ROWS
    assert performance.roc_auc == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert performance.roc_auc_reference == baseline["performance"]["roc_auc"]
    assert performance.positive_rate == pytest.approx(labels.mean())
    assert performance.calibration_gap == pytest.approx(scores.mean() - labels.mean())
    assert performance.ece == pytest.approx(expected_calibration_error(scores, labels))
    # In a downturn the normal-economy model underestimates risk.
    assert performance.calibration_gap < -0.05


def test_report_json_matches_its_schema(baseline: dict[str, Any], signature: Signature) -> None:
    schema = packaged_schema("drift.schema.json")
    frame = batch(BATCH_ROWS, seed=13, shift=1.0)
    scores = oracle(frame)
    frame.loc[:99, "loan_purpose"] = "crypto"
    frame["ts"] = "2025-01-31T12:00:00Z"
    reports = [
        drift(frame, baseline, signature, scores=scores, labels=True),
        drift(frame, baseline, signature, scores=scores),
        drift(frame, baseline, signature, scores=False),
    ]
    for report in reports:
        document = json.loads(json.dumps(report.to_dict(), allow_nan=False))
        assert schema_problems(document, schema, "report") == []
    full = reports[0].to_dict()
    assert full["verdict"] == "drift"
    assert full["ignored_columns"] == ["ts"]
    assert full["summary"]["drift"] == len(full["drifted"])
    assert [f["name"] for f in full["features"][: len(full["drifted"])]] == full["drifted"]
    assert full["features"][0]["status"] == "drift"
    assert reports[2].to_dict()["score"] is None


# --- bad input ----------------------------------------------------------------------------


def _one_line(error: pytest.ExceptionInfo[ConfigError]) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_missing_columns_are_all_named(baseline: dict[str, Any], signature: Signature) -> None:
    frame = batch(200, seed=14).drop(columns=["age", "region"])
    with pytest.raises(ConfigError) as error:
        drift(frame, baseline, signature, scores=False)
    message = _one_line(error)
    assert "'age'" in message
    assert "'region'" in message
    assert message.startswith("batch: missing feature column(s)")


def test_extra_columns_are_reported_not_fatal(
    baseline: dict[str, Any], signature: Signature
) -> None:
    frame = batch(500, seed=15)
    frame["notes"] = "x"
    frame["ts"] = "2025-01-01"
    frame["score"] = oracle(frame)
    report = drift(frame, baseline, signature)
    # The target and the score are known columns, not ignored ones.
    assert report.ignored_columns == ("notes", "ts")
    assert "notes" in render_table(report)


def test_non_numeric_value_is_named(baseline: dict[str, Any], signature: Signature) -> None:
    frame = batch(200, seed=16)
    income = frame["annual_income"].astype(object)
    income.iloc[3] = "n/a"
    income.iloc[5] = ""  # blank is missing, not an error
    frame["annual_income"] = income
    with pytest.raises(ConfigError) as error:
        drift(frame, baseline, signature, scores=False)
    message = _one_line(error)
    assert "'annual_income'" in message
    assert "'n/a'" in message
    assert "row 4" in message


def test_other_bad_batches(baseline: dict[str, Any], signature: Signature) -> None:
    frame = batch(200, seed=17)
    with pytest.raises(ConfigError, match="batch: no rows") as error:
        drift(frame.iloc[:0], baseline, signature)
    _one_line(error)
    infinite = frame.copy()
    infinite.loc[2, "loan_amount"] = np.inf
    with pytest.raises(ConfigError, match="'loan_amount': expected a finite number"):
        drift(infinite, baseline, signature, scores=False)
    with pytest.raises(ConfigError, match="labels given without scores"):
        detect_drift(frame, baseline, signature, None, DriftThresholds(), frame[TARGET])
    with pytest.raises(ConfigError, match="199 scores for 200 rows"):
        detect_drift(frame, baseline, signature, oracle(frame)[1:], DriftThresholds())
    wrong = {**baseline, "features": dict(baseline["features"])}
    del wrong["features"]["age"]
    with pytest.raises(ConfigError, match=r"features\.age: missing from the baseline"):
        drift(frame, wrong, signature)


def test_thresholds_from_config() -> None:
    assert DriftThresholds.from_mapping({}, "gitml.yaml") == DriftThresholds()
    custom = DriftThresholds.from_mapping({"ks_drift": 0.1, "p_value": 0.05}, "gitml.yaml")
    assert (custom.ks_drift, custom.p_value, custom.psi_drift) == (0.1, 0.05, 0.25)
    with pytest.raises(ConfigError, match=r"gitml\.yaml: drift\.kss_drift: unknown key"):
        DriftThresholds.from_mapping({"kss_drift": 0.1}, "gitml.yaml", "drift")
    with pytest.raises(ConfigError, match=r"psi_warn: must be >= 0 and <= psi_drift"):
        DriftThresholds.from_mapping({"psi_warn": 0.5}, "gitml.yaml")
    with pytest.raises(ConfigError, match="expected a number"):
        DriftThresholds.from_mapping({"js_drift": True}, "gitml.yaml")
    with pytest.raises(ValueError, match="p_value"):
        DriftThresholds(p_value=0.0)


# --- reading batches ----------------------------------------------------------------------


def _jsonl_lines(frame: pd.DataFrame, scores: np.ndarray) -> list[str]:
    lines = []
    for i, row in enumerate(frame.to_dict(orient="records")):
        features: dict[str, Any] = {}
        for name in (*FEATURES_NUMERIC, *FEATURES_CATEGORICAL):
            value = row[name]
            missing = value == "" or (isinstance(value, float) and math.isnan(value))
            features[name] = None if missing else value
        entry: dict[str, Any] = {
            "ts": f"2025-01-31T12:{i // 60 % 60:02d}:{i % 60:02d}Z",
            "model": "credit",
            "version": "v0.2.0",
            "features": features,
            "decision": int(scores[i] >= 0.25),
        }
        if i % 10:  # every tenth prediction was logged without its score
            entry["score"] = float(scores[i])
        lines.append(json.dumps(entry))
    return lines


def test_csv_parquet_and_jsonl_give_the_same_report(
    baseline: dict[str, Any], signature: Signature, tmp_path: Path
) -> None:
    rows, seed, shift = 1_500, 18, 0.7
    write_csv(tmp_path / "batch.csv", rows, seed=seed, shift=shift)
    frame = batch(rows, seed, shift)
    scores = oracle(frame)
    frame.to_parquet(tmp_path / "batch.parquet")
    lines = _jsonl_lines(frame, scores)
    (tmp_path / "log.jsonl").write_text("\n".join(lines[:5]) + "\n\n" + "\n".join(lines[5:]))
    (tmp_path / "log.jsonl.gz").write_bytes(gzip.compress("\n".join(lines).encode()))

    logged = scores.copy()
    logged[::10] = np.nan
    expected = detect_drift(
        frame, baseline, signature, logged, DriftThresholds(), frame[TARGET].to_numpy()
    ).to_dict()
    for name in ("batch.csv", "batch.parquet"):
        read = read_batch(tmp_path / name)
        assert len(read) == rows
        labels = batch_labels(read, signature)
        assert labels is not None
        report = detect_drift(read, baseline, signature, logged, DriftThresholds(), labels)
        assert report.to_dict() == expected, name
    # The file path reads the score and target columns itself; Parquet column by column.
    frame["score"] = logged
    frame.to_parquet(tmp_path / "scored.parquet")
    frame.to_csv(tmp_path / "scored.csv", index=False)
    for name in ("scored.parquet", "scored.csv"):
        report = detect_drift_file(tmp_path / name, baseline, signature, DriftThresholds())
        assert report.to_dict() == expected, name
    frame = frame.drop(columns=["score"])
    without_labels = detect_drift(frame, baseline, signature, logged, DriftThresholds())
    for name in ("log.jsonl", "log.jsonl.gz"):
        via_file = detect_drift_file(tmp_path / name, baseline, signature, DriftThresholds())
        assert via_file.to_dict() == without_labels.to_dict(), name
        read = read_batch(tmp_path / name)
        assert list(read.columns) == [*FEATURES_NUMERIC, *FEATURES_CATEGORICAL, "score"]
        read_scores = batch_scores(read)
        assert read_scores is not None
        assert np.array_equal(read_scores, logged, equal_nan=True)
        assert batch_labels(read, signature) is None
        report = detect_drift(read, baseline, signature, read_scores, DriftThresholds())
        assert report.to_dict() == without_labels.to_dict(), name


def test_read_batch_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"batch\.csv: file not found"):
        read_batch(tmp_path / "batch.csv")
    (tmp_path / "batch.txt").write_text("a,b\n1,2\n")
    with pytest.raises(ConfigError, match=r"batch\.txt: unknown batch format"):
        read_batch(tmp_path / "batch.txt")
    for name in ("empty.csv", "empty.jsonl", "empty.parquet"):
        (tmp_path / name).write_bytes(b"")
        with pytest.raises(ConfigError, match=rf"{re.escape(name)}: empty file"):
            read_batch(tmp_path / name)
    (tmp_path / "header.csv").write_text("age,region\n")
    with pytest.raises(ConfigError, match=r"header\.csv: no rows"):
        read_batch(tmp_path / "header.csv")
    (tmp_path / "blank.jsonl").write_text("\n\n")
    with pytest.raises(ConfigError, match=r"blank\.jsonl: no rows"):
        read_batch(tmp_path / "blank.jsonl")
    good = json.dumps({"features": {"age": 30}, "score": 0.1})
    (tmp_path / "bad.jsonl").write_text(good + "\n" + good + "\n{oops\n")
    with pytest.raises(ConfigError, match=r"bad\.jsonl: line 3: not valid JSON") as error:
        read_batch(tmp_path / "bad.jsonl")
    _one_line(error)
    # A last line cut mid-record (a writer killed; no newline after it) is dropped with a
    # warning; the same bytes followed by a newline are a broken record and refused.
    (tmp_path / "torn.jsonl").write_text(good + "\n" + good + "\n" + good[:12])
    assert len(read_batch(tmp_path / "torn.jsonl")) == 2
    (tmp_path / "torn.jsonl").write_text(good + "\n" + good[:12] + "\n")
    with pytest.raises(ConfigError, match=r"torn\.jsonl: line 2: not valid JSON"):
        read_batch(tmp_path / "torn.jsonl")
    (tmp_path / "shape.jsonl").write_text(good + "\n" + json.dumps({"age": 30}) + "\n")
    with pytest.raises(ConfigError, match="line 2: expected an object with a 'features'"):
        read_batch(tmp_path / "shape.jsonl")
    (tmp_path / "score.jsonl").write_text(json.dumps({"features": {}, "score": "high"}) + "\n")
    with pytest.raises(ConfigError, match="line 1: 'score' must be a number"):
        read_batch(tmp_path / "score.jsonl")
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(ConfigError, match=r"broken\.parquet: cannot read"):
        read_batch(tmp_path / "broken.parquet")


def test_detect_drift_file_errors(
    baseline: dict[str, Any], signature: Signature, tmp_path: Path
) -> None:
    def run(name: str) -> DriftReport:
        return detect_drift_file(tmp_path / name, baseline, signature, DriftThresholds())

    with pytest.raises(ConfigError, match=r"gone\.parquet: file not found"):
        run("gone.parquet")
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(ConfigError, match=r"broken\.parquet: cannot read"):
        run("broken.parquet")
    frame = batch(100, seed=21)
    frame.drop(columns=["age", "region"]).to_parquet(tmp_path / "narrow.parquet")
    with pytest.raises(
        ConfigError, match=r"narrow\.parquet: missing feature column\(s\) 'age', 'region'"
    ):
        run("narrow.parquet")
    frame.iloc[:0].to_parquet(tmp_path / "none.parquet")
    with pytest.raises(ConfigError, match=r"none\.parquet: no rows"):
        run("none.parquet")
    text = frame.copy()
    # Income as text, the way a hand-made export might store it, with one bad value.
    text["annual_income"] = [("" if math.isnan(v) else f"{v:.0f}") for v in frame["annual_income"]]
    text.loc[7, "annual_income"] = "lots"
    text.to_parquet(tmp_path / "text.parquet")
    with pytest.raises(ConfigError, match="'annual_income': expected a number, row 8 holds 'lots'"):
        run("text.parquet")
    indexed = frame.set_index("loan_purpose", drop=False)
    indexed.index.name = "row_id"
    indexed.to_parquet(tmp_path / "indexed.parquet")
    assert run("indexed.parquet").ignored_columns == ()


def test_a_file_is_read_in_chunks_and_scored_after_its_values_are_checked(
    baseline: dict[str, Any], signature: Signature, tmp_path: Path
) -> None:
    rows, seed, shift = 1_000, 22, 0.7
    write_csv(tmp_path / "batch.csv", rows, seed=seed, shift=shift)
    frame = batch(rows, seed, shift)
    frame.to_parquet(tmp_path / "batch.parquet")
    expected = detect_drift(
        frame, baseline, signature, oracle(frame), DriftThresholds(), frame[TARGET].to_numpy()
    ).to_dict()
    scored: list[int] = []

    def scorer(chunk: pd.DataFrame) -> np.ndarray:
        scored.append(len(chunk))
        return oracle(chunk)

    def run(name: str) -> DriftReport:
        scored.clear()
        return detect_drift_file(
            tmp_path / name, baseline, signature, DriftThresholds(), scorer=scorer, chunk_rows=300
        )

    for name in ("batch.csv", "batch.parquet"):
        assert run(name).to_dict() == expected, name
        assert scored == [300, 300, 300, 100], name
    # A bad value in the last chunk is named by its row in the file, and no model sees it:
    # a CSV chunk is checked before it is scored, a Parquet file's columns before any chunk.
    lines = (tmp_path / "batch.csv").read_text().splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    cells = lines[950].rstrip("\n").split(",")
    cells[header.index("annual_income")] = "lots"
    lines[950] = ",".join(cells) + "\n"
    (tmp_path / "bad.csv").write_text("".join(lines))
    with pytest.raises(ConfigError) as error:
        run("bad.csv")
    assert _one_line(error).endswith(
        "bad.csv: column 'annual_income': expected a number, row 950 holds 'lots'"
    )
    assert scored == [300, 300, 300]
    text = frame.copy()
    text["annual_income"] = [("" if math.isnan(v) else f"{v:.0f}") for v in frame["annual_income"]]
    text.loc[949, "annual_income"] = "lots"
    text.to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(ConfigError, match="'annual_income': expected a number, row 950 holds"):
        run("bad.parquet")
    assert scored == []
    infinite = frame.copy()
    infinite.loc[949, "loan_amount"] = -np.inf
    infinite.to_parquet(tmp_path / "infinite.parquet")
    infinite.to_csv(tmp_path / "infinite.csv", index=False)
    for name in ("infinite.parquet", "infinite.csv"):
        with pytest.raises(ConfigError) as error:
            run(name)
        assert _one_line(error).endswith(
            f"{name}: column 'loan_amount': expected a finite number, row 950 holds -inf"
        )
        assert scored == ([] if name.endswith("parquet") else [300, 300, 300])


def test_a_prediction_log_of_another_version_is_refused(
    baseline: dict[str, Any], signature: Signature, tmp_path: Path
) -> None:
    frame = batch(50, seed=23)
    lines = _jsonl_lines(frame, oracle(frame))  # every line: credit v0.2.0
    log = tmp_path / "log.jsonl"
    log.write_text("\n".join(lines) + "\n")

    def run(checked: tuple[str, str] | None) -> DriftReport:
        return detect_drift_file(log, baseline, signature, DriftThresholds(), checked=checked)

    assert run(("credit", "v0.2.0")).to_dict() == run(None).to_dict()
    with pytest.raises(ConfigError) as error:
        run(("credit", "v0.1.0"))
    assert _one_line(error) == (
        f"{log}: line 1 (and 49 more of 50 records) logs a prediction of credit@v0.2.0, not "
        "of credit@v0.1.0, the version checked: check credit@v0.2.0 instead, or keep only "
        "credit@v0.1.0's lines"
    )
    lines[2] = lines[2].replace('"model": "credit"', '"model": "debit"')
    log.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=r"line 3 logs a prediction of debit@v0\.2\.0, not of"):
        run(("credit", "v0.2.0"))
    # Lines that do not say which model scored them are taken as the checked one's.
    unnamed = [
        json.dumps({k: v for k, v in json.loads(x).items() if k != "version"}) for x in lines
    ]
    unnamed[2] = unnamed[2].replace('"model": "debit", ', "")
    log.write_text("\n".join(unnamed) + "\n")
    assert run(("credit", "v0.1.0")).rows == 50


# --- rendering --------------------------------------------------------------------------


def test_renderers(baseline: dict[str, Any], signature: Signature) -> None:
    frame = batch(BATCH_ROWS, seed=19, shift=1.0)
    scores = oracle(frame)
    frame.loc[:99, "loan_purpose"] = "<img src=x>|@team"
    report = drift(frame, baseline, signature, scores=scores, labels=True)
    markdown = render_markdown(report)
    assert markdown.startswith("### Drift: credit: 🔴 drift\n")
    assert "<details><summary>" in markdown
    flagged_table = markdown.split("<details>")[0]
    for name in report.drifted:
        assert name.replace("_", "\\_") in flagged_table
    assert "<img" not in markdown
    assert "@team" not in markdown
    assert "&lt;img src=x&gt;\\|&#64;&#8205;team" in markdown
    assert "ROC AUC" in markdown
    text = render_table(report)
    assert text.startswith("drift credit: DRIFT.")
    lines = text.splitlines()
    assert lines[1].split() == [
        "feature", "kind", "status", "PSI", "KS", "/", "JS", "missing", "ref", "→", "batch",
        "unseen", "why",
    ]  # fmt: skip
    assert lines[3].startswith(report.features[0].name)
    assert any(line.startswith("score  drift") for line in lines)
    steady = drift(batch(BATCH_ROWS, seed=20), baseline, signature)
    assert steady.verdict == "ok"
    assert render_markdown(steady).startswith("### Drift: credit: 🟢 ok\n")

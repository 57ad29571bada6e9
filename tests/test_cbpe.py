"""CBPE (gitml.monitor.cbpe) validated, and where it shows: baselines and `gitml drift`.

Validation, at 5,000 rows per window as the canary uses it:

* against realised performance on generated data whose labels are known: the example
  generator's true default probability (perfectly calibrated by construction), and a
  small seeded scikit-learn model whose scores are *not* calibrated (class-weighted
  logistic regression) through a calibration map fitted on a reference sample;
* against NannyML's CBPE on the same data (tests/oracles/nannyml: NannyML in a
  virtualenv of its own, installed on first use).

How close is close enough. Given a window's scores, CBPE is the expected ROC AUC and
accuracy; the realised figures differ from it by the window's label noise alone. The
Hanley-McNeil standard error of the ROC AUC (an upper bound on that noise, since it also
counts the scores' sampling) is about 0.009 at 5,000 rows and the generator's 19%
positives, and accuracy's label noise is computed exactly from the probabilities. Each
window must then fall within 4 of its standard errors (a chance of about 6e-5 per window
to exceed it by noise), and the mean over the windows, whose noise averages out, within
0.01 (true probabilities) or 0.02 (the issue's tolerance; a fitted map adds its own
reference sample's error). The reference sample is 20,000 rows: the map cannot know the
model's discrimination better than its reference sample does (at 5,000 rows that error
alone has a standard deviation of about 0.008, measured over reference seeds).
"""

from __future__ import annotations

import json
import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import accuracy_score, roc_auc_score

from credit_example.generate import (
    FEATURES_NUMERIC,
    TARGET,
    default_probability,
    generate,
    write_csv,
)
from gitml import api
from gitml.documents import packaged_schema, schema_problems
from gitml.errors import ConfigError
from gitml.monitor.baseline import baseline_text, compute_baseline, read_baseline
from gitml.monitor.cbpe import (
    MAX_KNOTS,
    Calibration,
    PerformanceEstimate,
    estimate_performance,
    expected_roc_auc,
    fit_calibration,
)
from gitml.monitor.drift import DriftThresholds, detect_drift
from gitml.report.drift_render import render_markdown, render_table
from tests.helpers import gitml
from tests.test_drift import credit_signature

if TYPE_CHECKING:
    from pathlib import Path

    from gitml.monitor.drift_report import Estimate
    from gitml.signature import Signature
    from tests.conftest import Clock

WINDOW_ROWS = 5_000
REFERENCE_ROWS = 20_000
STANDARD_ERRORS = 4.0
SIGNATURE_THRESHOLD = 0.25  # the example's decision threshold (credit_signature)
MODEL_THRESHOLD = 0.5


# --- yardsticks ------------------------------------------------------------------------


def auc_standard_error(auc: float, positives: float, negatives: float) -> float:
    """Hanley & McNeil (1982): the standard error of a ROC AUC on so many of each class."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (
        auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)
    ) / (positives * negatives)
    return math.sqrt(variance)


def accuracy_label_noise(scores: np.ndarray, probabilities: np.ndarray, threshold: float) -> float:
    """The standard deviation of realised accuracy when labels are drawn from the
    probabilities: each row is right with its own chance q, independently."""
    right = np.where(scores >= threshold, probabilities, 1 - probabilities)
    return float(np.sqrt(np.sum(right * (1 - right))) / scores.size)


def window_auc_error(scores: np.ndarray, probabilities: np.ndarray, auc: float) -> float:
    positives = float(probabilities.sum())
    return auc_standard_error(auc, positives, scores.size - positives)


# --- data --------------------------------------------------------------------------------


def numeric_frame(data: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame({name: data[name] for name in FEATURES_NUMERIC})


class TrainedModel:
    """A small, seeded, deliberately uncalibrated model: logistic regression on the
    numeric features with balanced class weights, which inflates every probability."""

    def __init__(self) -> None:
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        train = generate(5_000, seed=11)
        self.pipeline = make_pipeline(
            SimpleImputer(), StandardScaler(), LogisticRegression(class_weight="balanced")
        ).fit(numeric_frame(train), train[TARGET])
        reference = generate(REFERENCE_ROWS, seed=12)
        self.reference_scores = self.score(reference)
        self.reference_labels = reference[TARGET]
        self.calibration = fit_calibration(self.reference_scores, self.reference_labels)

    def score(self, data: dict[str, np.ndarray]) -> np.ndarray:
        scores: np.ndarray = self.pipeline.predict_proba(numeric_frame(data))[:, 1]
        return scores


@pytest.fixture(scope="module")
def model() -> TrainedModel:
    return TrainedModel()


# --- against realised performance --------------------------------------------------------


def test_true_probabilities_estimate_realised_performance() -> None:
    """The generator's own default probability is calibrated by construction, in the
    normal economy and in the downturn alike: CBPE takes it as it is."""
    auc_gaps, accuracy_gaps = [], []
    for seed in range(1, 8):
        for shift in (0.0, 0.5, 1.0):
            data = generate(WINDOW_ROWS, seed=1_000 + seed, shift=shift)
            p, labels = default_probability(data, shift), data[TARGET]
            estimate = estimate_performance(p, SIGNATURE_THRESHOLD)
            assert estimate.roc_auc is not None
            assert estimate.accuracy is not None
            realised_auc = roc_auc_score(labels, p)
            realised_accuracy = accuracy_score(labels, p >= SIGNATURE_THRESHOLD)
            auc_gap, accuracy_gap = (
                estimate.roc_auc - realised_auc,
                estimate.accuracy - realised_accuracy,
            )
            window = f"seed {seed}, shift {shift}"
            assert abs(auc_gap) <= STANDARD_ERRORS * window_auc_error(p, p, estimate.roc_auc), (
                window
            )
            noise = accuracy_label_noise(p, p, SIGNATURE_THRESHOLD)
            assert abs(accuracy_gap) <= STANDARD_ERRORS * noise, window
            auc_gaps.append(auc_gap)
            accuracy_gaps.append(accuracy_gap)
    assert abs(np.mean(auc_gaps)) <= 0.01
    assert abs(np.mean(accuracy_gaps)) <= 0.01
    assert np.mean(np.abs(auc_gaps)) <= 0.02
    assert np.mean(np.abs(accuracy_gaps)) <= 0.02


def test_a_trained_model_through_its_calibration_estimates_realised_performance(
    model: TrainedModel,
) -> None:
    reference_auc = roc_auc_score(model.reference_labels, model.reference_scores)
    positives = float(model.reference_labels.sum())
    reference_error = auc_standard_error(reference_auc, positives, REFERENCE_ROWS - positives)
    auc_gaps, accuracy_gaps, uncalibrated_accuracy_gaps = [], [], []
    for seed in range(20):
        data = generate(WINDOW_ROWS, seed=2_000 + seed)
        scores, labels = model.score(data), data[TARGET]
        estimate = estimate_performance(scores, MODEL_THRESHOLD, model.calibration)
        assert estimate.roc_auc is not None
        assert estimate.accuracy is not None
        p = model.calibration.apply(scores)
        auc_gap = estimate.roc_auc - roc_auc_score(labels, scores)
        accuracy_gap = estimate.accuracy - accuracy_score(labels, scores >= MODEL_THRESHOLD)
        # The window's label noise and the map's own reference noise, independent.
        auc_bound = math.hypot(window_auc_error(scores, p, estimate.roc_auc), reference_error)
        assert abs(auc_gap) <= STANDARD_ERRORS * auc_bound, f"window {seed}"
        accuracy_bound = accuracy_label_noise(scores, p, MODEL_THRESHOLD)
        assert abs(accuracy_gap) <= STANDARD_ERRORS * math.hypot(accuracy_bound, 0.005)
        auc_gaps.append(auc_gap)
        accuracy_gaps.append(accuracy_gap)
        uncalibrated = estimate_performance(scores, MODEL_THRESHOLD)
        assert uncalibrated.accuracy is not None
        uncalibrated_accuracy_gaps.append(
            uncalibrated.accuracy - accuracy_score(labels, scores >= MODEL_THRESHOLD)
        )
    assert abs(np.mean(auc_gaps)) <= 0.02
    assert abs(np.mean(accuracy_gaps)) <= 0.02
    assert np.mean(np.abs(auc_gaps)) <= 0.02
    # Why baselines store a map: the same scores taken as probabilities are off.
    assert abs(np.mean(uncalibrated_accuracy_gaps)) > 2 * abs(np.mean(accuracy_gaps))


def test_expected_roc_auc_is_the_roc_auc_of_fractionally_labelled_rows() -> None:
    """Each row counts as a positive with weight p and a negative with weight 1 - p: the
    weighted ROC AUC of that doubled sample is exactly the expected ROC AUC, ties too."""
    rng = np.random.default_rng(3)
    scores = np.round(rng.uniform(size=2_000), 2)  # many ties
    p = rng.uniform(size=2_000)
    weighted = roc_auc_score(
        np.r_[np.ones(2_000), np.zeros(2_000)],
        np.r_[scores, scores],
        sample_weight=np.r_[p, 1 - p],
    )
    assert expected_roc_auc(scores, p) == pytest.approx(weighted, abs=1e-12)


# --- the calibration map -----------------------------------------------------------------


def test_calibration_keeps_at_most_max_knots_and_follows_the_isotonic_fit() -> None:
    rng = np.random.default_rng(5)
    scores = rng.uniform(size=100_000)
    labels = (rng.uniform(size=scores.size) < scores**2).astype(float)
    full = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(scores, labels)
    assert len(full.X_thresholds_) > MAX_KNOTS
    calibration = fit_calibration(scores, labels)
    assert len(calibration.scores) <= MAX_KNOTS
    assert calibration.scores[0] == pytest.approx(scores.min(), rel=1e-5)
    assert calibration.scores[-1] == pytest.approx(scores.max(), rel=1e-5)
    gap = np.abs(calibration.apply(scores) - full.predict(scores))
    assert gap.mean() < 0.005
    # The thinned map changes the estimate by far less than a window's noise.
    window = scores[:WINDOW_ROWS]
    thinned = estimate_performance(window, 0.5, calibration).roc_auc
    exact = expected_roc_auc(window, full.predict(window))
    assert thinned is not None
    assert exact is not None
    assert abs(thinned - exact) < 0.002
    assert Calibration.from_dict(json.loads(json.dumps(calibration.to_dict()))) == calibration


@pytest.mark.parametrize(
    ("scores", "probabilities", "problem"),
    [
        ((0.1, 0.2), (0.5,), "1 probabilities for 2 scores"),
        ((), (), "0 probabilities for 0 scores"),
        ((0.2, 0.1), (0.1, 0.2), "scores must increase strictly"),
        ((0.1, 0.2), (0.3, 0.2), "probabilities must not decrease"),
        ((0.1, 0.2), (0.3, 1.2), r"probabilities must lie in \[0, 1\]"),
        ((0.1, math.inf), (0.3, 0.4), "scores must be finite"),
    ],
)
def test_a_map_that_is_no_calibration_is_refused(
    scores: tuple[float, ...], probabilities: tuple[float, ...], problem: str
) -> None:
    with pytest.raises(ValueError, match=f"^calibration: {problem}"):
        Calibration(scores, probabilities)


# --- edge cases ----------------------------------------------------------------------------


def test_one_class_only_has_no_expected_roc_auc() -> None:
    sure_negatives = np.zeros(100)
    estimate = estimate_performance(sure_negatives, 0.5)
    assert estimate.roc_auc is None
    assert estimate.accuracy == 1.0
    assert estimate.log_loss == pytest.approx(0.0, abs=1e-12)
    # A map fitted to one class says every row is that class: no ROC AUC either.
    calibration = fit_calibration(np.linspace(0, 1, 50), np.ones(50))
    assert estimate_performance(np.linspace(0, 1, 50), 0.5, calibration).roc_auc is None


def test_constant_scores_rank_nothing() -> None:
    estimate = estimate_performance(np.full(1_000, 0.3), 0.5)
    assert estimate.roc_auc == 0.5
    assert estimate.accuracy == pytest.approx(0.7)
    assert estimate.log_loss == pytest.approx(-(0.3 * math.log(0.3) + 0.7 * math.log(0.7)))


def test_an_empty_batch_estimates_nothing() -> None:
    assert estimate_performance([], 0.5) == PerformanceEstimate(0, None, None, None)
    assert estimate_performance(np.array([]), 0.5, fit_calibration([0.1, 0.9], [0, 1])).rows == 0


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_scores_are_refused(bad: float) -> None:
    with pytest.raises(ValueError, match=r"^scores must be finite numbers: row 2 is "):
        estimate_performance([0.1, 0.2, bad, 0.4], 0.5)
    with pytest.raises(ValueError, match=r"^scores must be finite numbers: row 2 is "):
        fit_calibration([0.1, 0.2, bad, 0.4], [0, 1, 0, 1])


def test_calibration_needs_one_zero_or_one_label_per_score() -> None:
    with pytest.raises(ValueError, match=r"^3 labels for 2 scores"):
        fit_calibration([0.1, 0.2], [0, 1, 1])
    with pytest.raises(ValueError, match=r"^labels must be 0 or 1"):
        fit_calibration([0.1, 0.2], [0, 2])


# --- speed ---------------------------------------------------------------------------------


def test_a_window_of_5000_predictions_is_estimated_in_under_50_ms(model: TrainedModel) -> None:
    scores = model.score(generate(WINDOW_ROWS, seed=3_000))
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        estimate_performance(scores, MODEL_THRESHOLD, model.calibration)
        timings.append(time.perf_counter() - started)
    assert min(timings) < 0.050  # bench/cbpe.py measures the median against NannyML's


# --- against NannyML -----------------------------------------------------------------------


def _scored_csv(path: Path, scores: np.ndarray, labels: np.ndarray, threshold: float) -> str:
    frame = pd.DataFrame(
        {"score": scores, "prediction": (scores >= threshold).astype(int), "label": labels}
    )
    frame.to_csv(path, index=False, float_format="%.17g")  # every bit of every score
    return str(path)


@pytest.mark.slow
def test_agrees_with_nannyml_on_the_same_data(model: TrainedModel, tmp_path: Path) -> None:
    """Four windows of 5,000 rows each, two ways: the true probabilities taken as they
    are (NannyML given a calibrator that changes nothing), and the trained model through
    an isotonic map fitted on the same reference sample as NannyML's own."""
    from tests.oracles.nannyml.install import run_cbpe

    windows = 4
    truth = generate(WINDOW_ROWS * windows, seed=4_000)
    truth_p = default_probability(truth)
    reference = generate(WINDOW_ROWS, seed=4_001)
    live = generate(WINDOW_ROWS * windows, seed=4_002)
    live_scores = model.score(live)
    cases: dict[str, Any] = {
        "probabilities": {
            "reference": _scored_csv(
                tmp_path / "p_ref.csv",
                default_probability(reference),
                reference[TARGET],
                SIGNATURE_THRESHOLD,
            ),
            "analysis": _scored_csv(
                tmp_path / "p_live.csv", truth_p, truth[TARGET], SIGNATURE_THRESHOLD
            ),
            "calibration": "none",
        },
        "model": {
            "reference": _scored_csv(
                tmp_path / "m_ref.csv",
                model.reference_scores,
                model.reference_labels,
                MODEL_THRESHOLD,
            ),
            "analysis": _scored_csv(
                tmp_path / "m_live.csv", live_scores, live[TARGET], MODEL_THRESHOLD
            ),
            "calibration": "isotonic",
        },
    }
    job = {
        "cases": [{"name": name, "chunk_size": WINDOW_ROWS, **case} for name, case in cases.items()]
    }
    answer = run_cbpe(job, tmp_path / "oracle")
    assert answer["nannyml"] == "0.13.1"
    # The balanced model's scores are inflated: NannyML must have chosen to calibrate,
    # or this case would compare nothing but the identity again.
    assert answer["cases"]["model"]["needs_calibration"] is True
    ours = {
        "probabilities": (truth_p, SIGNATURE_THRESHOLD, None),
        "model": (live_scores, MODEL_THRESHOLD, model.calibration),
    }
    for name, (scores, threshold, calibration) in ours.items():
        chunks = answer["cases"][name]["chunks"]
        assert len(chunks) == windows
        for chunk in chunks:
            window = scores[chunk["start"] : chunk["end"] + 1]
            assert window.size == WINDOW_ROWS
            estimate = estimate_performance(window, threshold, calibration)
            assert estimate.roc_auc is not None
            assert estimate.accuracy is not None
            # The issue asks for 0.01; the two compute the same sums, so they agree to
            # NannyML's own rounding (it rounds its counts to 5 decimals): 3e-7 measured.
            assert abs(estimate.roc_auc - chunk["roc_auc"]) <= 1e-4, (name, chunk)
            assert abs(estimate.accuracy - chunk["accuracy"]) <= 1e-4, (name, chunk)


# --- in baselines --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signature() -> Signature:
    return credit_signature()


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.DataFrame(generate(WINDOW_ROWS, seed=21))


def _baseline(reference: pd.DataFrame, signature: Signature, labels: np.ndarray) -> str:
    scores = default_probability(reference)
    return baseline_text(compute_baseline(reference, signature, scores, labels=labels))


def test_a_baseline_with_labels_carries_its_calibration_map(
    reference: pd.DataFrame, signature: Signature
) -> None:
    labels = reference[TARGET].to_numpy()
    text = _baseline(reference, signature, labels)
    assert text == _baseline(reference, signature, labels)  # byte-stable
    baseline = read_baseline(text, "credit.baseline.json")
    calibration = Calibration.from_dict(baseline["calibration"])
    assert 2 <= len(calibration.scores) <= MAX_KNOTS
    expected = fit_calibration(default_probability(reference), labels)
    assert calibration == expected
    # Without labels, or with one class only, there is nothing to calibrate against.
    without = compute_baseline(reference, signature, default_probability(reference))
    assert "calibration" not in without
    one_class = _baseline(reference, signature, np.zeros(len(reference)))
    assert "calibration" not in json.loads(one_class)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"scores": [0.1, 0.2], "probabilities": [0.5]}, "1 probabilities for 2 scores"),
        ({"scores": [0.2, 0.1], "probabilities": [0.1, 0.2]}, "scores must increase strictly"),
        ({"scores": [0.1, 0.2], "probabilities": [0.3, 0.2]}, "probabilities must not decrease"),
        ({"scores": [0.1, 0.2], "probabilities": [0.3, 1.5]}, "calibration.probabilities"),
        ({"scores": [0.1]}, "calibration"),
    ],
)
def test_a_broken_calibration_map_is_named(
    reference: pd.DataFrame, signature: Signature, edit: dict[str, Any], message: str
) -> None:
    document = json.loads(_baseline(reference, signature, reference[TARGET].to_numpy()))
    document["calibration"] = edit
    with pytest.raises(ConfigError, match=r"^b\.json") as raised:
        read_baseline(json.dumps(document), "b.json")
    assert message in str(raised.value)


# --- in gitml drift ------------------------------------------------------------------------


def _estimate_line(estimate: Estimate) -> str:
    assert estimate.roc_auc is not None
    assert estimate.roc_auc_reference is not None
    return f"estimated ROC AUC {estimate.roc_auc:.2f} (baseline {estimate.roc_auc_reference:.2f})"


def test_drift_reports_the_estimate_through_the_baseline_calibration(
    reference: pd.DataFrame, signature: Signature
) -> None:
    baseline = read_baseline(
        _baseline(reference, signature, reference[TARGET].to_numpy()), "credit.baseline.json"
    )
    live = pd.DataFrame(generate(WINDOW_ROWS, seed=22, shift=0.5))
    scores = default_probability(live)
    scores[:10] = np.nan  # rows the model did not score are left out of the estimate
    report = detect_drift(live, baseline, signature, scores, DriftThresholds())
    estimate = report.estimate
    assert estimate is not None
    assert estimate.calibration == "baseline"
    assert estimate.rows == WINDOW_ROWS - 10
    assert estimate.threshold == SIGNATURE_THRESHOLD
    assert estimate.roc_auc_reference == baseline["performance"]["roc_auc"]
    expected = estimate_performance(
        scores[10:], SIGNATURE_THRESHOLD, Calibration.from_dict(baseline["calibration"])
    )
    # The same figures (the report sums the scores in sorted order: the last bits differ).
    assert (estimate.roc_auc, estimate.accuracy, estimate.log_loss) == pytest.approx(
        (expected.roc_auc, expected.accuracy, expected.log_loss), rel=1e-12
    )
    document = report.to_dict()
    assert schema_problems(document, packaged_schema("drift.schema.json"), "drift") == []
    assert document["estimate"]["calibration"] == "baseline"
    how = "through the baseline's calibration"
    assert f"**Estimated quality** {_estimate_line(estimate)}; accuracy " in render_markdown(report)
    assert estimate.accuracy is not None
    assert estimate.log_loss is not None
    line = (
        f"est.   {_estimate_line(estimate)}; accuracy {estimate.accuracy:.2f} at threshold "
        f"0.25; log loss {estimate.log_loss:.3f}; 4,990 scored rows, {how}"
    )
    assert line in render_table(report).splitlines()


def test_without_a_calibration_map_the_scores_are_taken_as_probabilities_and_said_so(
    reference: pd.DataFrame, signature: Signature
) -> None:
    document = json.loads(_baseline(reference, signature, reference[TARGET].to_numpy()))
    del document["calibration"]  # a baseline written before maps were
    baseline = read_baseline(json.dumps(document), "old.baseline.json")
    live = pd.DataFrame(generate(2_000, seed=23))
    report = detect_drift(live, baseline, signature, default_probability(live), DriftThresholds())
    assert report.estimate is not None
    assert report.estimate.calibration == "identity"
    assert report.estimate == report.estimate.__class__(
        **{**report.estimate.__dict__, "calibration": "identity"}
    )
    assert "scores taken as probabilities (the baseline has no calibration)" in render_table(report)
    # No scores, no estimate.
    unscored = detect_drift(live, baseline, signature, None, DriftThresholds())
    assert unscored.estimate is None
    assert unscored.to_dict()["estimate"] is None
    assert "Estimated quality" not in render_markdown(unscored)


@pytest.mark.slow
def test_gitml_drift_shows_the_estimate_of_a_registered_version(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    """The example's evaluate stage writes the map into the version's baseline, and
    `gitml drift` estimates a labelled batch's ROC AUC close to what its labels say."""
    repo = origin_repo
    api.register(root=repo, push=True)
    batch = tmp_path / "calm.csv"
    write_csv(batch, WINDOW_ROWS, seed=601)
    report = json.loads(
        gitml(repo, "drift", "credit@v0.1.0", "--data", str(batch), "--json").stdout
    )
    estimate, realised = report["estimate"], report["performance"]
    assert estimate["calibration"] == "baseline"
    assert estimate["rows"] == WINDOW_ROWS
    baseline = read_baseline(
        (repo / "models/credit.baseline.json").read_text(), "credit.baseline.json"
    )
    assert estimate["roc_auc_reference"] == baseline["performance"]["roc_auc"]
    # The template's map comes from its 1,000 held-out rows: their own ROC AUC error
    # (Hanley-McNeil, about 0.02) joins the window's label noise.
    reference_rows = baseline["performance"]["rows"]
    positives = reference_rows * baseline["performance"]["positive_rate"]
    reference_error = auc_standard_error(estimate["roc_auc"], positives, reference_rows - positives)
    window_positives = WINDOW_ROWS * realised["positive_rate"]
    window_error = auc_standard_error(
        estimate["roc_auc"], window_positives, WINDOW_ROWS - window_positives
    )
    bound = STANDARD_ERRORS * math.hypot(reference_error, window_error)
    assert abs(estimate["roc_auc"] - realised["roc_auc"]) <= bound
    table = gitml(repo, "drift", "credit@v0.1.0", "--data", str(batch)).stdout
    shown = f"est.   estimated ROC AUC {estimate['roc_auc']:.2f} (baseline "
    assert any(line.startswith(shown) for line in table.splitlines())

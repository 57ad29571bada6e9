"""Drift of a live batch against a model's baseline: per feature, on the scores, overall.

Reading batches
---------------
:func:`read_batch` (:mod:`gitml.monitor.batchfile`) reads a CSV, Parquet or JSONL
prediction-log file whole; :func:`batch_scores` and :func:`batch_labels` take the
``score`` and target columns out of it; neither is a feature, so :func:`detect_drift`
never lists them as ignored. :func:`detect_drift_file` reads a file in pieces instead
(:mod:`gitml.monitor.scan`: Parquet a column at a time, CSV in row chunks) and, given a
scorer, has the model score a batch without a ``score`` column chunk by chunk, after
its features were checked: this is what ``gitml drift`` runs.

Comparing
---------
Each feature, and the scores, are compared with their baseline entries as
:mod:`gitml.monitor.feature_drift` describes: a check reaches warn or drift when its
effect size reaches the threshold and its test says the change is not sampling noise.
``p_value`` is shared by all the report's tests, two per feature and one for the score
(Bonferroni: each must beat ``p_value / tests``).

Estimated quality
-----------------
Whenever rows were scored, the report carries a label-free estimate of their ROC AUC,
accuracy at the signature's threshold and log loss (CBPE, :mod:`gitml.monitor.cbpe`),
through the baseline's calibration map, or the scores as they are (said so) when the
baseline has none; it is not part of the verdict.

The verdict
-----------
The verdict is ``drift`` when any feature or the score is at ``drift``, else ``warn``
when any is at ``warn``, else ``ok``. Features are ranked by status, then by severity
(the largest ratio of a check's value to its drift threshold), then by name. The
report's records and JSON shape are in :mod:`gitml.monitor.drift_report`.

Bad input raises ConfigError with one line: missing feature columns (all named), a
numeric column with a non-numeric value (column, row and value named), an empty batch;
extra columns are reported, not fatal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from gitml.errors import ConfigError
from gitml.monitor.baseline import check_matches_signature
from gitml.monitor.batchfile import SCORE_COLUMN, read_batch
from gitml.monitor.cbpe import Calibration, estimate_performance
from gitml.monitor.columns import CategoricalColumn, NumericColumn, numeric_values
from gitml.monitor.drift_report import DriftReport, Estimate, FeatureDrift, Performance
from gitml.monitor.feature_checks import LEVEL_RANK
from gitml.monitor.feature_drift import categorical_drift, live_performance, numeric_drift
from gitml.monitor.scan import CHUNK_ROWS, frame_scan, scan_file
from gitml.monitor.thresholds import DriftThresholds

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from gitml.monitor.scan import Scan, Scorer
    from gitml.signature import Signature

# The Python API of drift detection: what a caller needs, importable from one place.
__all__ = [
    "SCORE_COLUMN",
    "DriftReport",
    "DriftThresholds",
    "Estimate",
    "FeatureDrift",
    "Performance",
    "batch_labels",
    "batch_scores",
    "detect_drift",
    "detect_drift_file",
    "read_batch",
]


def _float_vector(values: Any, what: str, rows: int, source: str) -> np.ndarray:
    """``values`` as a float64 vector of ``rows`` entries, or a ConfigError naming ``what``."""
    try:
        array = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ConfigError(
            f"{source}: {what} must be numbers", [(source, what, "not numbers")]
        ) from None
    if array.size != rows:
        message = f"{array.size} {what} for {rows} rows"
        raise ConfigError(f"{source}: {message}", [(source, what, message)])
    if np.isinf(array).any():
        raise ConfigError(f"{source}: {what} must be finite", [(source, what, "not finite")])
    return array


def detect_drift(
    batch: pd.DataFrame,
    baseline: dict[str, Any],
    signature: Signature,
    scores: np.ndarray | None,
    thresholds: DriftThresholds,
    labels: np.ndarray | None = None,
    *,
    source: str = "batch",
) -> DriftReport:
    """Compare ``batch`` (and its model ``scores``) with ``baseline``; rank what moved.

    ``batch`` holds the signature's feature columns; other columns are listed in
    ``ignored_columns`` (except ``score`` and the signature's target). ``scores`` are
    the model's predicted scores for the batch's rows (NaN: not scored), ``labels`` the
    observed 0/1 outcomes (NaN: not known yet) and need ``scores``. ``baseline`` is a
    :func:`~gitml.monitor.baseline.compute_baseline` result or a
    :func:`~gitml.monitor.baseline.read_baseline` one. ``source`` names the batch in
    error messages. Rules: see the module docstring.
    """
    if labels is not None and scores is None:
        raise ConfigError(
            f"{source}: labels given without scores: live ROC AUC and calibration need both",
            [(source, "labels", "given without scores")],
        )
    rows = len(batch)
    score_values = None if scores is None else _float_vector(scores, "scores", rows, source)
    label_values = None if labels is None else _float_vector(labels, "labels", rows, source)
    scan = frame_scan(batch, signature, score_values, label_values, source)
    return _compare(scan, baseline, signature, thresholds, source)


def detect_drift_file(
    path: str | Path,
    baseline: dict[str, Any],
    signature: Signature,
    thresholds: DriftThresholds,
    *,
    scores: np.ndarray | None = None,
    scorer: Scorer | None = None,
    checked: tuple[str, str] | None = None,
    chunk_rows: int | None = None,
) -> DriftReport:
    """Read a batch file and compare it with ``baseline``, holding little of it in memory.

    The scores are ``scores`` when given, else the file's ``score`` column if it has
    one, else ``scorer(rows)`` on row chunks of the raw batch (a callable returning one
    score per row, e.g. the model's positive-class probability of
    :func:`~gitml.signature.feature_frame`), called only after the features were checked.
    The labels are the file's target column if it has one and there are scores (live
    ROC AUC and calibration). A prediction log must not name another model version than
    ``checked`` ``(model, version)``. Parquet is read a column at a time, CSV in chunks
    of ``chunk_rows`` rows (:mod:`gitml.monitor.scan`), so memory stays near one column's
    or one chunk's size however long the batch. Errors as for :func:`read_batch` and
    :func:`detect_drift`, naming ``path``.
    """
    scan = scan_file(
        path,
        signature,
        scores=scores,
        scorer=scorer,
        chunk_rows=chunk_rows or CHUNK_ROWS,
        checked=checked,
    )
    return _compare(scan, baseline, signature, thresholds, str(path))


def _compare(
    scan: Scan,
    baseline: dict[str, Any],
    signature: Signature,
    thresholds: DriftThresholds,
    source: str,
) -> DriftReport:
    """The comparison itself: each feature in turn, then the scores and the labels."""
    check_matches_signature(baseline, signature, "baseline")
    baseline_rows = int(baseline["rows"])
    rows = scan.rows
    known = {*signature.feature_names, SCORE_COLUMN, signature.target}
    ignored = tuple(name for name in scan.names if name not in known)
    # Bonferroni: two tests per feature (distribution, missing rate) and one for the score
    # share ``p_value``, so a clean batch rarely passes any by chance, however many.
    tests = 2 * len(signature.features) + scan.scored
    alpha = thresholds.p_value / tests
    results: list[FeatureDrift] = []
    for feature in signature.features:
        # One column at a time: its converted copy is dropped before the next is made.
        values = scan.column(feature)
        reference = baseline["features"][feature.name]
        if isinstance(values, NumericColumn):
            results.append(
                numeric_drift(
                    feature.name,
                    "numeric",
                    values.values,
                    rows,
                    reference,
                    baseline_rows,
                    thresholds,
                    alpha,
                )
            )
        elif isinstance(values, CategoricalColumn):
            results.append(categorical_drift(values, reference, baseline_rows, thresholds, alpha))
        del values
    results.sort(key=lambda f: (-LEVEL_RANK[f.status], -f.severity, f.name))
    score_drift = performance = estimate = None
    if scan.scored:
        # Asked for only now: every feature was checked before a model scores the rows.
        scores = _float_vector(scan.scores(), "scores", rows, source)
        present = np.sort(scores[~np.isnan(scores)])
        score_drift = numeric_drift(
            SCORE_COLUMN,
            "score",
            present,
            rows,
            baseline["score"],
            baseline_rows,
            thresholds,
            alpha,
        )
        if present.size:
            estimate = estimated_quality(present, baseline, signature.threshold)
        labels = scan.labels()
        if labels is not None:
            label_values = _float_vector(labels, "labels", rows, source)
            performance = live_performance(scores, label_values, baseline, source)
    levels = [f.status for f in results] + ([score_drift.status] if score_drift else [])
    verdict = max(levels, key=LEVEL_RANK.__getitem__, default="ok")
    return DriftReport(
        model=signature.name,
        verdict=verdict,
        rows=rows,
        baseline_rows=baseline_rows,
        features=tuple(results),
        score=score_drift,
        performance=performance,
        ignored_columns=ignored,
        thresholds=thresholds,
        estimate=estimate,
    )


def estimated_quality(scores: np.ndarray, baseline: dict[str, Any], threshold: float) -> Estimate:
    """CBPE of scored rows (no NaN) through the baseline's calibration map, if it has one."""
    mapping = baseline.get("calibration")
    calibration = Calibration.from_dict(mapping) if mapping else None
    expected = estimate_performance(scores, threshold, calibration)
    return Estimate(
        rows=expected.rows,
        roc_auc=expected.roc_auc,
        roc_auc_reference=(baseline.get("performance") or {}).get("roc_auc"),
        accuracy=expected.accuracy,
        log_loss=expected.log_loss,
        threshold=threshold,
        calibration="baseline" if calibration else "identity",
    )


# --- the score and label columns of a frame ---------------------------------------


def batch_scores(frame: pd.DataFrame) -> np.ndarray | None:
    """The batch's ``score`` column as floats (NaN: not scored), or None without one."""
    if SCORE_COLUMN not in frame.columns:
        return None
    scores = numeric_values(frame[SCORE_COLUMN], SCORE_COLUMN, "batch")
    return _float_vector(scores, "scores", len(frame), "batch column 'score'")


def batch_labels(frame: pd.DataFrame, signature: Signature) -> np.ndarray | None:
    """The batch's target column as floats (NaN: outcome not known yet), or None."""
    if signature.target not in frame.columns:
        return None
    labels = numeric_values(frame[signature.target], signature.target, "batch")
    return _float_vector(labels, "labels", len(frame), f"batch column {signature.target!r}")

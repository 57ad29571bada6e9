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

What is compared
----------------
Per **numeric** feature, over the values present: PSI on the baseline's quantile bins,
the two-sample chi-squared test on the same bins (reported, not used for the status),
the Kolmogorov-Smirnov distance to the baseline's quantile grid (an approximation
within 0.01 of the exact statistic, see :func:`gitml.monitor.stats.ks_statistic`) and
its p-value, and the means. Per **categorical** feature: PSI, Jensen-Shannon distance
(base 2) and the chi-squared test over the baseline's categories plus one bucket for
categories the baseline never saw, and those unseen categories with their share of the
present values. For every feature: the missing rate in the baseline and in the batch,
with Fisher's exact test. The model's
**scores** are compared like a numeric feature over the scored rows (the share of
unscored rows, NaN, is reported but not judged). With **labels**, live ROC AUC and
calibration (mean score against the observed positive rate, expected calibration error
over 10 equal-width bins) are reported next to the baseline's; they inform, they do not
change the verdict.

Statuses and the verdict
------------------------
Each check has a warn and a drift threshold (:class:`DriftThresholds`). A check reaches
a level when its effect size is at or above the threshold **and** its test says the
change is not sampling noise: the effect size says the change matters (and keeps huge
batches from flagging trivia), the test keeps small batches from raising false alarms.
The tests: for numeric features and the score, the KS test guards both PSI and KS (it
is valid at any batch size; it is run on the statistic minus the grid's 0.01
resolution, so the approximation can only make it more cautious); for categorical
features, the chi-squared test over the categories, with categories expecting fewer
than 5 batch rows pooled, guards PSI and JS; the missing rate uses Fisher's exact test.
``p_value`` is shared by all the report's tests, two per feature and one for the score
(Bonferroni: each must beat ``p_value / tests``). The unseen-category share needs no
test: the baseline has none of them.

A feature's (or the score's) status is the highest level among its checks. The verdict
is ``drift`` when any feature or the score is at ``drift``, else ``warn`` when any is at
``warn``, else ``ok``. Features are ranked by status, then by severity (the largest
ratio of a check's value to its drift threshold), then by name.

Report JSON shape (``DriftReport.to_dict()``; schema ``gitml/schemas/drift.schema.json``)::

    {
      "version": 1, "model": "credit", "verdict": "drift",   # ok | warn | drift
      "rows": 2000, "baseline_rows": 15000,
      "summary": {"drift": 3, "warn": 1, "ok": 10},         # features only
      "drifted": ["interest_rate", ...], "warned": [...],   # in rank order
      "ignored_columns": ["ts"],
      "thresholds": {"psi_warn": 0.1, ...},
      "features": [FEATURE, ...],                          # ranked
      "score": FEATURE | null,                             # name "score", kind "score"
      "performance": {"rows", "roc_auc", "roc_auc_reference", "positive_rate",
                      "mean_score", "calibration_gap", "ece", "ece_reference"} | null
    }

    FEATURE = {
      "name", "kind": "numeric" | "categorical" | "score", "status", "severity",
      "reasons": ["KS 0.135 >= 0.08 (p 2.1e-14)", ...],
      "rows", "present",
      "psi", "chi2", "chi2_pvalue",                 # every kind (null: nothing to compare)
      "ks", "ks_pvalue", "mean_reference", "mean_batch",   # numeric and score, else null
      "js", "unseen_share", "unseen_categories",    # categorical, else null
      "unseen": [{"category", "share"}, ...],       # the 20 most frequent unseen ones
      "missing_rate_reference", "missing_rate_batch", "missing_pvalue"
    }

Floats are rounded to 6 significant digits. Bad input raises ConfigError with one line:
missing feature columns (all named), a numeric column with a non-numeric value (column,
row and value named), an empty batch; extra columns are reported, not fatal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from gitml.errors import ConfigError
from gitml.monitor.baseline import QUANTILE_STEPS, check_matches_signature, rounded
from gitml.monitor.batchfile import SCORE_COLUMN as SCORE_COLUMN
from gitml.monitor.batchfile import read_batch as read_batch
from gitml.monitor.checks import LEVEL_RANK, LEVELS, FeatureChecks
from gitml.monitor.columns import CategoricalColumn, NumericColumn, numeric_values
from gitml.monitor.scan import frame_scan, scan_file
from gitml.monitor.stats import (
    bin_counts,
    chi_squared_2samp,
    expected_calibration_error,
    jensen_shannon,
    ks_pvalue,
    ks_statistic,
    pool_small_cells,
    proportions_pvalue,
    psi,
)
from gitml.monitor.thresholds import DriftThresholds as DriftThresholds  # noqa: TC001 (re-export)

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from gitml.monitor.scan import Scan, Scorer
    from gitml.signature import Signature

REPORT_VERSION = 1
STATUSES = LEVELS
MAX_UNSEEN_LISTED = 20


@dataclass(frozen=True)
class FeatureDrift:
    """How one feature (or the score) moved; ``None`` where a figure does not apply."""

    name: str
    kind: str  # numeric | categorical | score
    status: str  # ok | warn | drift
    severity: float
    reasons: tuple[str, ...]
    rows: int
    present: int
    psi: float | None
    chi2: float | None
    chi2_pvalue: float | None
    ks: float | None
    ks_pvalue: float | None
    mean_reference: float | None
    mean_batch: float | None
    js: float | None
    unseen_share: float | None
    unseen_categories: int | None
    unseen: tuple[tuple[str, float], ...]
    missing_rate_reference: float
    missing_rate_batch: float
    missing_pvalue: float

    def to_dict(self) -> dict[str, Any]:
        """The feature's JSON object (module docstring), floats to 6 significant digits."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "unseen":
                out["unseen"] = [{"category": c, "share": rounded(s)} for c, s in value]
            elif f.name == "reasons":
                out["reasons"] = list(value)
            else:
                out[f.name] = _json_number(value)
        return out


@dataclass(frozen=True)
class Performance:
    """Live ranking and calibration quality, next to the baseline's where it has them."""

    rows: int
    roc_auc: float | None
    roc_auc_reference: float | None
    positive_rate: float
    mean_score: float
    calibration_gap: float  # mean score minus observed positive rate
    ece: float
    ece_reference: float | None

    def to_dict(self) -> dict[str, Any]:
        """The performance JSON object, floats to 6 significant digits."""
        return {f.name: _json_number(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class DriftReport:
    """The outcome of :func:`detect_drift`: features ranked by severity, and the verdict."""

    model: str
    verdict: str  # ok | warn | drift
    rows: int
    baseline_rows: int
    features: tuple[FeatureDrift, ...]
    score: FeatureDrift | None
    performance: Performance | None
    ignored_columns: tuple[str, ...]
    thresholds: DriftThresholds

    @property
    def drifted(self) -> tuple[str, ...]:
        """Features at drift level, most severe first (the score is not a feature)."""
        return tuple(f.name for f in self.features if f.status == "drift")

    @property
    def warned(self) -> tuple[str, ...]:
        """Features at warn level, most severe first."""
        return tuple(f.name for f in self.features if f.status == "warn")

    def to_dict(self) -> dict[str, Any]:
        """The report's JSON object (shape in the module docstring)."""
        summary = {status: 0 for status in reversed(STATUSES)}
        for feature in self.features:
            summary[feature.status] += 1
        return {
            "version": REPORT_VERSION,
            "model": self.model,
            "verdict": self.verdict,
            "rows": self.rows,
            "baseline_rows": self.baseline_rows,
            "summary": summary,
            "drifted": list(self.drifted),
            "warned": list(self.warned),
            "ignored_columns": list(self.ignored_columns),
            "thresholds": self.thresholds.to_dict(),
            "features": [f.to_dict() for f in self.features],
            "score": self.score.to_dict() if self.score else None,
            "performance": self.performance.to_dict() if self.performance else None,
        }


def _json_number(value: Any) -> Any:
    if isinstance(value, float):
        return rounded(value) if math.isfinite(value) else None
    return value


# --- checks ------------------------------------------------------------------------


def _missing_test(
    reference: dict[str, Any], baseline_rows: int, rows: int, present: int
) -> tuple[float, float, float]:
    """Missing rates of reference and batch, and Fisher's exact p-value for the change."""
    ref_missing = baseline_rows - int(reference["present"])
    pvalue = proportions_pvalue(ref_missing, baseline_rows, rows - present, rows)
    return float(reference["missing_rate"]), (rows - present) / rows, pvalue


def _pooled_chi2(expected: np.ndarray, observed: np.ndarray) -> tuple[float, float]:
    """Two-sample chi-squared test after pooling cells too thin for its approximation."""
    return chi_squared_2samp(*pool_small_cells(expected, observed))


def _numeric_drift(
    name: str,
    kind: str,
    values: np.ndarray,
    rows: int,
    reference: dict[str, Any],
    baseline_rows: int,
    thresholds: DriftThresholds,
    alpha: float,
) -> FeatureDrift:
    """Compare sorted present ``values`` with a numeric baseline entry."""
    checks = FeatureChecks(thresholds, alpha)
    present = int(values.size)
    ref_present = int(reference["present"])
    miss_ref, miss_batch, miss_p = _missing_test(reference, baseline_rows, rows, present)
    psi_value = chi2 = chi2_p = ks = ks_p = mean_ref = mean_batch = None
    if present and ref_present:
        fractions = np.asarray(reference["fractions"], dtype=np.float64)
        counts = bin_counts(values, reference["edges"], assume_sorted=True)
        psi_value = psi(fractions, counts)
        chi2, chi2_p = _pooled_chi2(fractions * ref_present, counts.astype(np.float64))
        ks = ks_statistic(reference["quantiles"], values, assume_sorted=True)
        # The grid approximates the reference CDF to within one step: testing the
        # statistic less that step keeps the approximation from inventing significance.
        ks_p = ks_pvalue(max(ks - 1.0 / QUANTILE_STEPS, 0.0), present, ref_present)
        mean_ref = float(reference["stats"]["mean"])
        mean_batch = float(values.mean())
        # The KS test guards PSI too: it is valid at any batch size, where the binned
        # chi-squared test needs enough rows per bin.
        checks.add("PSI", psi_value, "psi", ks_p)
        checks.add("KS", ks, "ks", ks_p)
    if kind != "score":
        # An unscored row is a serving outcome, not a property of the data: its rate is
        # reported for the score but does not judge it.
        checks.add("missing rate change", abs(miss_batch - miss_ref), "missing", miss_p)
    return FeatureDrift(
        name=name,
        kind=kind,
        status=checks.level,
        severity=checks.severity,
        reasons=tuple(checks.reasons),
        rows=rows,
        present=present,
        psi=psi_value,
        chi2=chi2,
        chi2_pvalue=chi2_p,
        ks=ks,
        ks_pvalue=ks_p,
        mean_reference=mean_ref,
        mean_batch=mean_batch,
        js=None,
        unseen_share=None,
        unseen_categories=None,
        unseen=(),
        missing_rate_reference=miss_ref,
        missing_rate_batch=miss_batch,
        missing_pvalue=miss_p,
    )


def _categorical_drift(
    column: CategoricalColumn,
    reference: dict[str, Any],
    baseline_rows: int,
    thresholds: DriftThresholds,
    alpha: float,
) -> FeatureDrift:
    """Compare category counts with a categorical baseline entry."""
    checks = FeatureChecks(thresholds, alpha)
    rows = column.rows
    present = rows - column.missing
    ref_present = int(reference["present"])
    frequencies: dict[str, float] = reference["frequencies"]
    # Categories the reference never saw (absent or at 0) are pooled into one bucket.
    known = [category for category, share in frequencies.items() if share > 0]
    unseen = sorted(
        ((c, n) for c, n in column.counts.items() if frequencies.get(c, 0.0) <= 0),
        key=lambda item: (-item[1], item[0]),
    )
    unseen_total = sum(n for _, n in unseen)
    miss_ref, miss_batch, miss_p = _missing_test(reference, baseline_rows, rows, present)
    psi_value = js = chi2 = chi2_p = unseen_share = None
    if present:
        unseen_share = unseen_total / present
    if present and ref_present:
        expected = np.array([frequencies[c] for c in known] + [0.0]) * ref_present
        observed = np.array([column.counts.get(c, 0) for c in known] + [unseen_total], float)
        psi_value = psi(expected, observed)
        js = jensen_shannon(expected, observed)
        chi2, chi2_p = _pooled_chi2(expected, observed)
        checks.add("PSI", psi_value, "psi", chi2_p)
        checks.add("JS", js, "js", chi2_p)
    checks.add("unseen share", unseen_share, "unseen", None)
    checks.add("missing rate change", abs(miss_batch - miss_ref), "missing", miss_p)
    return FeatureDrift(
        name=column.name,
        kind="categorical",
        status=checks.level,
        severity=checks.severity,
        reasons=tuple(checks.reasons),
        rows=rows,
        present=present,
        psi=psi_value,
        chi2=chi2,
        chi2_pvalue=chi2_p,
        ks=None,
        ks_pvalue=None,
        mean_reference=None,
        mean_batch=None,
        js=js,
        unseen_share=unseen_share,
        unseen_categories=len(unseen),
        unseen=tuple((c, n / present) for c, n in unseen[:MAX_UNSEEN_LISTED]),
        missing_rate_reference=miss_ref,
        missing_rate_batch=miss_batch,
        missing_pvalue=miss_p,
    )


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


def _performance(
    scores: np.ndarray, labels: np.ndarray, baseline: dict[str, Any], source: str
) -> Performance | None:
    """Live ROC AUC and calibration on the rows that have both a score and a label."""
    from sklearn.metrics import roc_auc_score

    known = ~np.isnan(scores) & ~np.isnan(labels)
    s, y = scores[known], labels[known]
    if not np.all((y == 0) | (y == 1)):
        example = y[(y != 0) & (y != 1)][0]
        message = f"labels must be 0 or 1, found {example:g}"
        raise ConfigError(f"{source}: {message}", [(source, "labels", message)])
    if s.size == 0:
        return None
    reference = baseline.get("performance") or {}
    both_classes = 0 < y.sum() < y.size
    return Performance(
        rows=int(s.size),
        roc_auc=float(roc_auc_score(y, s)) if both_classes else None,
        roc_auc_reference=reference.get("roc_auc"),
        positive_rate=float(y.mean()),
        mean_score=float(s.mean()),
        calibration_gap=float(s.mean() - y.mean()),
        ece=expected_calibration_error(s, y),
        ece_reference=reference.get("ece"),
    )


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
    error messages. Rules and the report's shape: see the module docstring.
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
    from gitml.monitor.scan import CHUNK_ROWS

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
    results = []
    for feature in signature.features:
        # One column at a time: its converted copy is dropped before the next is made.
        values = scan.column(feature)
        reference = baseline["features"][feature.name]
        if isinstance(values, NumericColumn):
            results.append(
                _numeric_drift(
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
            results.append(_categorical_drift(values, reference, baseline_rows, thresholds, alpha))
        del values
    results.sort(key=lambda f: (-LEVEL_RANK[f.status], -f.severity, f.name))
    score_drift = performance = None
    if scan.scored:
        # Asked for only now: every feature was checked before a model scores the rows.
        scores = _float_vector(scan.scores(), "scores", rows, source)
        present = np.sort(scores[~np.isnan(scores)])
        score_drift = _numeric_drift(
            SCORE_COLUMN,
            "score",
            present,
            rows,
            baseline["score"],
            baseline_rows,
            thresholds,
            alpha,
        )
        labels = scan.labels()
        if labels is not None:
            label_values = _float_vector(labels, "labels", rows, source)
            performance = _performance(scores, label_values, baseline, source)
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
    )


# --- the score and label columns of a frame ---------------------------------------


def batch_scores(frame: pd.DataFrame) -> np.ndarray | None:
    """The batch's ``score`` column as floats (NaN: not scored), or None without one."""
    if SCORE_COLUMN not in frame.columns:
        return None
    return _float_vector(
        _numeric_column(frame, SCORE_COLUMN), "scores", len(frame), "batch column 'score'"
    )


def batch_labels(frame: pd.DataFrame, signature: Signature) -> np.ndarray | None:
    """The batch's target column as floats (NaN: outcome not known yet), or None."""
    if signature.target not in frame.columns:
        return None
    return _float_vector(
        _numeric_column(frame, signature.target),
        "labels",
        len(frame),
        f"batch column {signature.target!r}",
    )


def _numeric_column(frame: pd.DataFrame, name: str) -> np.ndarray:
    return numeric_values(frame[name], name, "batch")


# --- rendering --------------------------------------------------------------------------

_BADGE = {"drift": "🔴 drift", "warn": "🟡 warn", "ok": "🟢 ok"}


def _fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _distance(feature: FeatureDrift) -> str:
    if feature.ks is not None:
        return f"KS {feature.ks:.3f}"
    if feature.js is not None:
        return f"JS {feature.js:.3f}"
    return "–"


def _unseen_cell(feature: FeatureDrift) -> str:
    if not feature.unseen_categories:
        return "–"
    listed = ", ".join(f"{c} ({100 * s:.1f}%)" for c, s in feature.unseen[:3])
    more = feature.unseen_categories - min(len(feature.unseen), 3)
    return listed + (f" +{more} more" if more > 0 else "")


def _rows(features: tuple[FeatureDrift, ...] | list[FeatureDrift], md: bool) -> list[list[str]]:
    return [
        [
            f.name,
            f.kind,
            _BADGE[f.status] if md else f.status,
            _fmt(f.psi),
            _distance(f),
            f"{_percent(f.missing_rate_reference)} → {_percent(f.missing_rate_batch)}",
            _unseen_cell(f),
            "; ".join(f.reasons) or "–",
        ]
        for f in features
    ]


_HEADER = ["feature", "kind", "status", "PSI", "KS / JS", "missing ref → batch", "unseen", "why"]


def _headline(report: DriftReport) -> str:
    counts = report.to_dict()["summary"]
    parts = [f"{counts['drift']} drifted", f"{counts['warn']} warned", f"{counts['ok']} ok"]
    score = f"; score: {report.score.status}" if report.score else ""
    return (
        f"{', '.join(parts)} of {len(report.features)} features{score}. "
        f"{report.rows:,} rows against a baseline of {report.baseline_rows:,}."
    )


def _performance_lines(performance: Performance) -> list[str]:
    def with_reference(value: float | None, reference: float | None) -> str:
        shown = _fmt(value)
        return f"{shown} (baseline {_fmt(reference)})" if reference is not None else shown

    return [
        f"ROC AUC {with_reference(performance.roc_auc, performance.roc_auc_reference)}",
        f"mean score {_fmt(performance.mean_score)} vs observed rate "
        f"{_fmt(performance.positive_rate)} (gap {performance.calibration_gap:+.3f})",
        f"ECE {with_reference(performance.ece, performance.ece_reference)}"
        f" on {performance.rows:,} labelled rows",
    ]


def _score_line(score: FeatureDrift) -> str:
    mean = f"mean {_fmt(score.mean_reference)} → {_fmt(score.mean_batch)}"
    return f"{score.status}: PSI {_fmt(score.psi)}, {_distance(score)}, {mean}"


def render_markdown(report: DriftReport) -> str:
    """The report as GitHub markdown: verdict, flagged features, folded ok ones, score."""
    from gitml.report.escape import code, text
    from gitml.report.tables import table

    lines = [
        f"### Drift: {text(report.model)}: {_BADGE[report.verdict]}",
        "",
        _headline(report),
        "",
    ]
    flagged = [f for f in report.features if f.status != "ok"]
    steady = [f for f in report.features if f.status == "ok"]
    if flagged:
        lines += [table("md", _HEADER, _rows(flagged, md=True)), ""]
    if steady:
        lines += [
            f"<details><summary>{len(steady)} feature(s) without drift</summary>",
            "",
            table("md", _HEADER, _rows(steady, md=True)),
            "",
            "</details>",
            "",
        ]
    if report.score:
        lines += [f"**Score** {text(_score_line(report.score))}", ""]
        if report.score.reasons:
            lines += [f"Score: {text('; '.join(report.score.reasons))}", ""]
    if report.performance:
        lines += [f"**Live quality** {text('; '.join(_performance_lines(report.performance)))}"]
        lines += [""]
    if report.ignored_columns:
        ignored = ", ".join(code(c) for c in report.ignored_columns)
        lines += [f"Ignored columns (not features of the model): {ignored}", ""]
    return "\n".join(lines).rstrip() + "\n"


def render_table(report: DriftReport) -> str:
    """The report as a compact terminal table with a verdict line and the score."""
    from gitml.report.tables import table

    lines = [f"drift {report.model}: {report.verdict.upper()}. {_headline(report)}"]
    lines += [table("table", _HEADER, _rows(report.features, md=False))]
    if report.score:
        lines += [f"score  {_score_line(report.score)}"]
    if report.performance:
        lines += ["live   " + "; ".join(_performance_lines(report.performance))]
    if report.ignored_columns:
        lines += ["ignored columns: " + ", ".join(report.ignored_columns)]
    return "\n".join(lines) + "\n"

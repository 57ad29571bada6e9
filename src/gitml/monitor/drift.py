"""Drift of a live batch against a model's baseline: per feature, on the scores, overall.

Reading batches
---------------
:func:`read_batch` reads a file by its extension:

* ``.csv`` (also ``.csv.gz``): a header row with the feature names;
* ``.parquet`` / ``.pq``: one column per feature (needs ``pyarrow``);
* ``.jsonl`` / ``.ndjson`` (also ``.gz``): the prediction log, one JSON object per line::

      {"ts": "2025-01-31T12:00:00Z", "model": "credit", "version": "v0.2.0",
       "features": {"age": 41, "annual_income": 52000, ..., "region": "north"},
       "score": 0.12, "decision": 0}

  Each line's ``features`` object becomes one row (a feature absent from a line is
  missing there); ``score``, when any line has one, becomes the column ``score``
  (null or absent: missing). ``ts``, ``model``, ``version`` and ``decision`` are not
  read. Blank lines are skipped.

:func:`batch_scores` and :func:`batch_labels` take the ``score`` and target columns out
of a batch; neither is a feature, so :func:`detect_drift` never lists them as ignored.
:func:`detect_drift_file` does both steps for a file and reads Parquet one column at a
time, so a wide or long batch never sits in memory whole.

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

import gzip
import io
import json
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from gitml.errors import ConfigError
from gitml.monitor.baseline import QUANTILE_STEPS, check_matches_signature, rounded
from gitml.monitor.checks import LEVEL_RANK, LEVELS, FeatureChecks
from gitml.monitor.columns import (
    CategoricalColumn,
    NumericColumn,
    check_columns,
    feature_column,
    numeric_values,
)
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
    from collections.abc import Callable

    import pandas as pd

    from gitml.signature import Signature

REPORT_VERSION = 1
SCORE_COLUMN = "score"
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
    names = [str(c) for c in batch.columns]
    check_columns(names, len(batch), signature, source)
    score_values = None if scores is None else _float_vector(scores, "scores", len(batch), source)
    label_values = None if labels is None else _float_vector(labels, "labels", len(batch), source)
    return _compare(
        lambda name: batch[name],
        names,
        len(batch),
        baseline,
        signature,
        score_values,
        label_values,
        thresholds,
        source,
    )


def detect_drift_file(
    path: str | Path,
    baseline: dict[str, Any],
    signature: Signature,
    thresholds: DriftThresholds,
    *,
    scores: np.ndarray | None = None,
) -> DriftReport:
    """Read a batch file and compare it with ``baseline``, holding little of it in memory.

    The scores are ``scores`` when given, else the file's ``score`` column if it has
    one; the labels are the file's target column if it has one (live ROC AUC and
    calibration then need scores too). A Parquet file is read one column at a time, and
    only the columns drift needs, so memory stays near one column's size however wide
    or long the batch; CSV and JSONL files go through :func:`read_batch` and
    :func:`detect_drift`. Errors as for those two, naming ``path``.
    """
    file = Path(path)
    if _format(file, str(path))[0] != "parquet":
        frame = read_batch(file)
        if scores is None:
            scores = batch_scores(frame)
        labels = batch_labels(frame, signature)
        return detect_drift(
            frame,
            baseline,
            signature,
            scores,
            thresholds,
            labels if scores is not None else None,
            source=str(path),
        )
    name = str(path)
    reader = _parquet_reader(file, name)
    names, rows = reader.names, reader.rows
    check_columns(names, rows, signature, name)
    if scores is None and SCORE_COLUMN in names:
        scores = numeric_values(reader.column(SCORE_COLUMN), SCORE_COLUMN, name)
    score_values = None if scores is None else _float_vector(scores, "scores", rows, name)
    label_values = None
    if score_values is not None and signature.target in names:
        labels = numeric_values(reader.column(signature.target), signature.target, name)
        label_values = _float_vector(labels, "labels", rows, name)
    return _compare(
        reader.column,
        names,
        rows,
        baseline,
        signature,
        score_values,
        label_values,
        thresholds,
        name,
    )


def _compare(
    column: Callable[[str], pd.Series],
    names: list[str],
    rows: int,
    baseline: dict[str, Any],
    signature: Signature,
    scores: np.ndarray | None,
    labels: np.ndarray | None,
    thresholds: DriftThresholds,
    source: str,
) -> DriftReport:
    """The comparison itself; ``column(name)`` fetches one column when it is needed."""
    check_matches_signature(baseline, signature, "baseline")
    baseline_rows = int(baseline["rows"])
    known = {*signature.feature_names, SCORE_COLUMN, signature.target}
    ignored = tuple(name for name in names if name not in known)
    # Bonferroni: two tests per feature (distribution, missing rate) and one for the score
    # share ``p_value``, so a clean batch rarely passes any by chance, however many.
    tests = 2 * len(signature.features) + (scores is not None)
    alpha = thresholds.p_value / tests
    results = []
    for feature in signature.features:
        # One column at a time: its converted copy is dropped before the next is made.
        values = feature_column(column(feature.name), feature, source)
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
    results.sort(key=lambda f: (-LEVEL_RANK[f.status], -f.severity, f.name))
    score_drift = performance = None
    if scores is not None:
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
        if labels is not None:
            performance = _performance(scores, labels, baseline, source)
    elif labels is not None:
        raise ConfigError(
            f"{source}: labels given without scores: live ROC AUC and calibration need both",
            [(source, "labels", "given without scores")],
        )
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


# --- reading batches ------------------------------------------------------------------

_FORMATS = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


def _format(file: Path, name: str) -> tuple[str, bool]:
    """The batch format by extension and whether it is gzip-compressed; checks the file."""
    suffixes = [s.lower() for s in file.suffixes]
    compressed = bool(suffixes) and suffixes[-1] == ".gz"
    suffix = suffixes[-2] if compressed and len(suffixes) > 1 else (suffixes or [""])[-1]
    fmt = _FORMATS.get(suffix)
    if fmt is None or (compressed and fmt == "parquet"):
        message = "unknown batch format (expected .csv, .parquet, .pq, .jsonl or .ndjson)"
        raise ConfigError(f"{name}: {message}", [(name, "", message)])
    if not file.is_file():
        raise ConfigError(f"{name}: file not found", [(name, "", "file not found")])
    if file.stat().st_size == 0:
        raise ConfigError(f"{name}: empty file", [(name, "", "empty file")])
    return fmt, compressed


def read_batch(path: str | Path) -> pd.DataFrame:
    """Read a CSV, Parquet or JSONL prediction-log batch (formats in the module docstring).

    A missing or unreadable file, an unknown extension, an empty file, a file without
    rows and a malformed line raise ConfigError naming the file (and the line).
    """
    file = Path(path)
    name = str(path)
    fmt, compressed = _format(file, name)
    try:
        if fmt == "csv":
            frame = _read_csv(file)
        elif fmt == "parquet":
            frame = _read_parquet(file, name)
        else:
            frame = _read_jsonl(file, name, compressed)
    except ConfigError:
        raise
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        _unreadable(name, exc)
    if len(frame) == 0:
        raise ConfigError(f"{name}: no rows", [(name, "", "no rows")])
    return frame


def _unreadable(name: str, exc: Exception) -> NoReturn:
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    raise ConfigError(f"{name}: cannot read: {detail}", [(name, "", detail)]) from None


def _read_csv(file: Path) -> pd.DataFrame:
    import pandas as pd

    try:
        return pd.read_csv(file)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def _require_pyarrow(name: str) -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ConfigError(
            f"{name}: reading Parquet needs pyarrow (pip install pyarrow)",
            [(name, "", "pyarrow not installed")],
        ) from None


def _read_parquet(file: Path, name: str) -> pd.DataFrame:
    import pandas as pd

    _require_pyarrow(name)
    from pyarrow import ArrowException

    try:
        return pd.read_parquet(file)
    except ArrowException as exc:
        _unreadable(name, exc)


class _ParquetColumns:
    """A Parquet file read one column at a time (the pandas index columns left out)."""

    def __init__(self, file: Path, name: str) -> None:
        _require_pyarrow(name)
        import pyarrow.parquet as pq
        from pyarrow import ArrowException

        self._name = name
        try:
            self._file = pq.ParquetFile(file)
        except (ArrowException, OSError) as exc:
            _unreadable(name, exc)
        schema = self._file.schema_arrow
        metadata = schema.pandas_metadata or {}
        index = {c for c in metadata.get("index_columns", []) if isinstance(c, str)}
        self.names = [n for n in schema.names if n not in index]
        self.rows = int(self._file.metadata.num_rows)

    def column(self, column: str) -> pd.Series:
        """One column as a pandas Series, read from the file now."""
        from pyarrow import ArrowException

        try:
            table = self._file.read(columns=[column])
        except (ArrowException, OSError) as exc:
            _unreadable(self._name, exc)
        series: pd.Series = table.column(0).to_pandas()
        return series


def _parquet_reader(file: Path, name: str) -> _ParquetColumns:
    _format(file, name)
    return _ParquetColumns(file, name)


def _read_jsonl(file: Path, name: str, compressed: bool) -> pd.DataFrame:
    import pandas as pd

    raw = file.read_bytes()
    text = (gzip.decompress(raw) if compressed else raw).decode("utf-8")
    records: list[dict[str, Any]] = []
    scores: list[float] = []
    has_score = False
    for number, line in enumerate(io.StringIO(text), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError as exc:
            _line_error(name, number, f"not valid JSON: {exc}")
        if not isinstance(entry, dict) or not isinstance(entry.get("features"), dict):
            _line_error(name, number, "expected an object with a 'features' object")
        score = entry.get(SCORE_COLUMN)
        if score is not None:
            if isinstance(score, bool) or not isinstance(score, int | float):
                _line_error(name, number, f"'score' must be a number, got {score!r}")
            has_score = True
        records.append(entry["features"])
        scores.append(math.nan if score is None else float(score))
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    if has_score:
        if SCORE_COLUMN in frame.columns:
            message = f"a feature is named {SCORE_COLUMN!r}, like the prediction's score"
            raise ConfigError(f"{name}: {message}", [(name, "", message)])
        frame[SCORE_COLUMN] = np.asarray(scores, dtype=np.float64)
    return frame


def _line_error(name: str, number: int, message: str) -> NoReturn:
    raise ConfigError(f"{name}: line {number}: {message}", [(name, f"line {number}", message)])


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
    from gitml.cli.tables import table
    from gitml.report.escape import code, text

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
    from gitml.cli.tables import table

    lines = [f"drift {report.model}: {report.verdict.upper()}. {_headline(report)}"]
    lines += [table("table", _HEADER, _rows(report.features, md=False))]
    if report.score:
        lines += [f"score  {_score_line(report.score)}"]
    if report.performance:
        lines += ["live   " + "; ".join(_performance_lines(report.performance))]
    if report.ignored_columns:
        lines += ["ignored columns: " + ", ".join(report.ignored_columns)]
    return "\n".join(lines) + "\n"

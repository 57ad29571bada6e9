"""A model's reference statistics, the *baseline* that live batches are compared with.

The evaluate stage summarises its evaluation set (the features and the model's predicted
scores) with :func:`compute_baseline` and writes it with :func:`write_baseline`; drift
detection reads it back with :func:`read_baseline`. No raw row is kept: the file is
small, git-tracked and byte-stable (floats rounded to 6 significant digits, keys sorted),
so the same data always gives the same bytes and a changed baseline shows in a diff.

JSON shape (schema: ``gitml/schemas/baseline.schema.json``)::

    {
      "version": 1,
      "model": "credit",                  # the signature's name
      "rows": 5000,                       # reference rows
      "bins": 10,                         # quantile bins asked for per numeric column
      "features": {
        "annual_income": {                # a numeric feature (type integer or number)
          "kind": "numeric", "type": "integer",
          "present": 4848,                # rows with a value
          "missing_rate": 0.0304,
          "edges": [e0, ..., e8],         # bins: (-inf, e0], (e0, e1], ..., (e8, +inf)
          "fractions": [f0, ..., f9],     # share of the present values in each bin
          "quantiles": [q0, ..., q100],   # at probabilities 0, 0.01, ..., 1 (q0 = min)
          "stats": {"mean": .., "std": .., "min": .., "max": ..,
                    "p01": .., "p05": .., "p25": .., "p50": .., "p75": .., "p95": .., "p99": ..}
        },
        "region": {                       # a categorical feature
          "kind": "categorical", "type": "category",
          "present": 4955, "missing_rate": 0.009,
          "frequencies": {"central": 0.15, ...}   # share of the present values
        }
      },
      "score": {numeric entry, "type": "number"}, # the predicted scores; mean = stats.mean
      "performance": {"roc_auc": .., "positive_rate": .., "mean_score": .., "ece": ..},
      "calibration": {"scores": [s0, ...], "probabilities": [p0, ...]}
    }

``performance`` is there only when labels were given, ``calibration`` only when they
hold both classes: the isotonic map from the model's score to the observed chance of a
positive (:func:`gitml.monitor.cbpe.fit_calibration`, at most 200 knots), through which
``gitml drift`` and the canary estimate a batch's performance without its labels (CBPE).
A numeric column without any present value has empty ``edges``, ``fractions`` and
``quantiles`` and ``stats: null``.

**Binning.** The edges are the reference's deciles (``bins - 1`` cut points, each the
smallest value with at least that share of the data at or below it), rounded and then
de-duplicated: ties and integer columns give fewer, wider bins, and a constant column
gives two, ``(-inf, c]`` and ``(c, +inf)``. Bins are closed on the right, so a discrete
value sits in the bin its own edge ends, and values above the reference's range land in
the last bin (empty in the reference when the top edge is the maximum). Fractions are
computed with the rounded edges, so they describe exactly the bins drift uses.

**Categories.** Every category the signature lists appears, with 0 when the reference
data lacks it; categories present in the data but not in the signature appear too.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gitml.documents import Problem, raise_for
from gitml.errors import ConfigError
from gitml.fsutil import atomic_write_text
from gitml.monitor.baseline_file import BASELINE_VERSION as BASELINE_VERSION
from gitml.monitor.baseline_file import QUANTILE_STEPS as QUANTILE_STEPS
from gitml.monitor.baseline_file import baseline_text as baseline_text
from gitml.monitor.baseline_file import read_baseline as read_baseline
from gitml.monitor.baseline_file import rounded as rounded
from gitml.monitor.cbpe import fit_calibration
from gitml.monitor.columns import (
    CategoricalColumn,
    NumericColumn,
    check_columns,
    feature_column,
)
from gitml.monitor.stats import bin_counts, expected_calibration_error

if TYPE_CHECKING:
    import pandas as pd

    from gitml.signature import Signature

SUMMARY_QUANTILES: dict[str, float] = {
    "p01": 0.01,
    "p05": 0.05,
    "p25": 0.25,
    "p50": 0.50,
    "p75": 0.75,
    "p95": 0.95,
    "p99": 0.99,
}


def _rounded_list(values: np.ndarray) -> list[float]:
    return [rounded(float(v)) for v in values]


def numeric_summary(values: np.ndarray, rows: int, kind_type: str, bins: int) -> dict[str, Any]:
    """The baseline entry of one numeric column from its sorted present values."""
    present = int(values.size)
    entry: dict[str, Any] = {
        "kind": "numeric",
        "type": kind_type,
        "present": present,
        "missing_rate": rounded((rows - present) / rows),
    }
    if present == 0:
        return {**entry, "edges": [], "fractions": [], "quantiles": [], "stats": None}
    deciles = np.quantile(values, np.arange(1, bins) / bins, method="inverted_cdf")
    # Rounding first, de-duplicating after: the stored edges are the ones drift will use.
    edges = sorted(set(_rounded_list(deciles)))
    counts = bin_counts(values, edges, assume_sorted=True)
    grid = np.quantile(values, np.linspace(0.0, 1.0, QUANTILE_STEPS + 1))
    # Rounding to significant digits is monotone, but keep the grid non-decreasing anyway:
    # the KS curve through it must never go down.
    quantiles = np.maximum.accumulate(np.array(_rounded_list(grid)))
    summary = np.quantile(values, list(SUMMARY_QUANTILES.values()))
    stats = {
        "mean": rounded(float(values.mean())),
        "std": rounded(float(values.std())),
        "min": rounded(float(values[0])),
        "max": rounded(float(values[-1])),
        **{key: rounded(float(q)) for key, q in zip(SUMMARY_QUANTILES, summary, strict=True)},
    }
    return {
        **entry,
        "edges": edges,
        "fractions": _rounded_list(counts / present),
        "quantiles": [float(q) for q in quantiles],
        "stats": stats,
    }


def categorical_summary(
    counts: dict[str, int], rows: int, known: tuple[str, ...] | None
) -> dict[str, Any]:
    """The baseline entry of one categorical column from its category counts."""
    present = sum(counts.values())
    frequencies = {category: 0.0 for category in known or ()}
    for category, count in counts.items():
        frequencies[category] = rounded(count / present)
    return {
        "kind": "categorical",
        "type": "category",
        "present": present,
        "missing_rate": rounded((rows - present) / rows),
        "frequencies": dict(sorted(frequencies.items())),
    }


def compute_baseline(
    features: pd.DataFrame,
    signature: Signature,
    scores: np.ndarray,
    *,
    bins: int = 10,
    labels: np.ndarray | None = None,
) -> dict[str, Any]:
    """Summarise reference rows and their predicted scores into a baseline (shape above).

    ``features`` holds at least the signature's feature columns (others are ignored);
    ``scores`` are the model's predicted scores for the same rows, in order. With
    ``labels`` (0/1 outcomes of the same rows) the baseline also records the reference
    ROC AUC, positive rate, mean score and expected calibration error, which drift
    reports show next to the live figures, and, when both classes occur, the isotonic
    calibration map of the scores (a map fitted to one class would claim certainty).
    Raises ConfigError for missing columns, no
    rows or non-numeric values, ValueError for misaligned or non-finite scores.
    """
    if bins < 2:
        raise ValueError(f"bins must be >= 2, got {bins}")
    source = "reference data"
    rows = len(features)
    check_columns([str(c) for c in features.columns], rows, signature, source)
    score_values = np.asarray(scores, dtype=np.float64).ravel()
    if score_values.size != rows:
        raise ValueError(f"{score_values.size} scores for {rows} reference rows")
    if not np.all(np.isfinite(score_values)):
        raise ValueError("scores must be finite")
    entries: dict[str, Any] = {}
    for feature in signature.features:
        # One column at a time: its sorted copy is dropped before the next one is made.
        column = feature_column(features[feature.name], feature, source)
        if isinstance(column, NumericColumn):
            entries[feature.name] = numeric_summary(column.values, rows, feature.type, bins)
        elif isinstance(column, CategoricalColumn):
            entries[feature.name] = categorical_summary(column.counts, rows, feature.categories)
    baseline: dict[str, Any] = {
        "version": BASELINE_VERSION,
        "model": signature.name,
        "rows": rows,
        "bins": bins,
        "features": entries,
        "score": numeric_summary(np.sort(score_values), rows, "number", bins),
    }
    if labels is not None:
        performance = performance_summary(score_values, labels)
        baseline["performance"] = performance
        if performance["roc_auc"] is not None:  # both classes present
            calibration = fit_calibration(score_values, np.asarray(labels, dtype=np.float64))
            baseline["calibration"] = calibration.to_dict()
    return baseline


def performance_summary(scores: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """ROC AUC (null with one class only), positive rate, mean score and ECE of scored rows."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(labels, dtype=np.float64).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    if y.size != s.size or y.size == 0:
        raise ValueError(f"{y.size} labels for {s.size} scores")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("labels must be 0 or 1")
    both_classes = 0 < y.sum() < y.size
    return {
        "rows": int(y.size),
        "roc_auc": rounded(float(roc_auc_score(y, s))) if both_classes else None,
        "positive_rate": rounded(float(y.mean())),
        "mean_score": rounded(float(s.mean())),
        "ece": rounded(expected_calibration_error(s, y)),
    }


def write_baseline(path: str | Path, baseline: dict[str, Any]) -> None:
    """Write ``baseline`` to ``path`` atomically, in its canonical text."""
    atomic_write_text(Path(path), baseline_text(baseline))


def check_matches_signature(baseline: dict[str, Any], signature: Signature, file: str) -> None:
    """Raise ConfigError unless the baseline has every signature feature, of the same kind."""
    problems: list[Problem] = []
    entries: dict[str, Any] = baseline["features"]
    for feature in signature.features:
        entry = entries.get(feature.name)
        kind = "categorical" if feature.type == "category" else "numeric"
        if entry is None:
            problems.append(Problem(file, f"features.{feature.name}", "missing from the baseline"))
        elif entry["kind"] != kind:
            message = f"is {entry['kind']} in the baseline but {kind} in the signature"
            problems.append(Problem(file, f"features.{feature.name}", message))
    if problems:
        raise_for(problems)
    if baseline.get("model") not in (None, signature.name):
        raise ConfigError(
            f"{file}: baseline of model {baseline['model']!r}, not {signature.name!r}",
            [(file, "model", f"expected {signature.name!r}")],
        )

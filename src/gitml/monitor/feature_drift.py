"""One feature of a batch (or its scores) against the baseline's entry for it.

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
with Fisher's exact test. The model's **scores** are compared like a numeric feature
over the scored rows (the share of unscored rows, NaN, is reported but not judged).
With **labels**, :func:`live_performance` gives ROC AUC and calibration (mean score
against the observed positive rate, expected calibration error over 10 equal-width
bins) next to the baseline's; they inform, they do not change the verdict.

How a check reaches a level
---------------------------
Each check has a warn and a drift threshold (:class:`DriftThresholds`). A check reaches
a level when its effect size is at or above the threshold **and** its test says the
change is not sampling noise: the effect size says the change matters (and keeps huge
batches from flagging trivia), the test keeps small batches from raising false alarms.
The tests: for numeric features and the score, the KS test guards both PSI and KS (it
is valid at any batch size; it is run on the statistic minus the grid's 0.01
resolution, so the approximation can only make it more cautious); for categorical
features, the chi-squared test over the categories, with categories expecting fewer
than 5 batch rows pooled, guards PSI and JS; the missing rate uses Fisher's exact test.
The unseen-category share needs no test: the baseline has none of them. A feature's
status is the highest level among its checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from gitml.errors import ConfigError
from gitml.monitor.baseline_file import QUANTILE_STEPS
from gitml.monitor.drift_report import FeatureDrift, Performance
from gitml.monitor.feature_checks import FeatureChecks
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

if TYPE_CHECKING:
    from gitml.monitor.columns import CategoricalColumn
    from gitml.monitor.thresholds import DriftThresholds

# Unseen categories listed by name in a report, most frequent first (all are counted).
MAX_UNSEEN_LISTED = 20


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


def numeric_drift(
    name: str,
    kind: str,
    values: np.ndarray,
    rows: int,
    reference: dict[str, Any],
    baseline_rows: int,
    thresholds: DriftThresholds,
    alpha: float,
) -> FeatureDrift:
    """Compare sorted present ``values`` with a numeric baseline entry.

    ``kind`` is "numeric" for a feature, "score" for the model's scores; ``alpha`` is
    the significance level each test must beat.
    """
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


def categorical_drift(
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


def live_performance(
    scores: np.ndarray, labels: np.ndarray, baseline: dict[str, Any], source: str
) -> Performance | None:
    """Live ROC AUC and calibration on the rows that have both a score and a label.

    None when no row has both; a label other than 0 or 1 is a ConfigError naming ``source``.
    """
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

"""What ``gitml drift`` reports: per feature, on the scores, live and estimated quality,
the verdict.

The records are plain frozen dataclasses; :meth:`DriftReport.to_dict` is the JSON that
``gitml drift --json`` prints (schema ``gitml/schemas/drift.schema.json``)::

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
                      "mean_score", "calibration_gap", "ece", "ece_reference"} | null,
      "estimate": {"rows", "roc_auc", "roc_auc_reference", "accuracy", "log_loss",
                   "threshold", "calibration": "baseline" | "identity"} | null
    }

``performance`` is measured from the batch's labels, when it has them; ``estimate`` is
expected from the scores alone (CBPE, :mod:`gitml.monitor.cbpe`), through the baseline's
calibration map or, when the baseline has none, taking the scores as probabilities
("identity"); it is null when no row was scored.

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

Floats are rounded to 6 significant digits; a non-finite one is null.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from gitml.monitor.baseline_file import rounded
from gitml.monitor.feature_checks import LEVELS

if TYPE_CHECKING:
    from gitml.monitor.thresholds import DriftThresholds

REPORT_VERSION = 1


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
class Estimate:
    """Label-free expected quality of the batch's scores (CBPE), next to the baseline's
    realised ROC AUC; ``None`` where a figure is undefined (one expected class only)."""

    rows: int  # scored rows
    roc_auc: float | None
    roc_auc_reference: float | None
    accuracy: float | None  # at the signature's decision threshold
    log_loss: float | None
    threshold: float
    calibration: str  # baseline: through the baseline's map; identity: scores as given

    def to_dict(self) -> dict[str, Any]:
        """The estimate JSON object, floats to 6 significant digits."""
        return {f.name: _json_number(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class DriftReport:
    """The outcome of a drift check: features ranked by severity, and the verdict."""

    model: str
    verdict: str  # ok | warn | drift
    rows: int
    baseline_rows: int
    features: tuple[FeatureDrift, ...]
    score: FeatureDrift | None
    performance: Performance | None
    ignored_columns: tuple[str, ...]
    thresholds: DriftThresholds
    estimate: Estimate | None = None

    @property
    def drifted(self) -> tuple[str, ...]:
        """Features at drift level, most severe first (the score is not a feature)."""
        return tuple(f.name for f in self.features if f.status == "drift")

    @property
    def warned(self) -> tuple[str, ...]:
        """Features at warn level, most severe first."""
        return tuple(f.name for f in self.features if f.status == "warn")

    @property
    def summary(self) -> dict[str, int]:
        """How many features are at each level, from drift down to ok."""
        counts = {level: 0 for level in reversed(LEVELS)}
        for feature in self.features:
            counts[feature.status] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        """The report's JSON object (shape in the module docstring)."""
        return {
            "version": REPORT_VERSION,
            "model": self.model,
            "verdict": self.verdict,
            "rows": self.rows,
            "baseline_rows": self.baseline_rows,
            "summary": self.summary,
            "drifted": list(self.drifted),
            "warned": list(self.warned),
            "ignored_columns": list(self.ignored_columns),
            "thresholds": self.thresholds.to_dict(),
            "features": [f.to_dict() for f in self.features],
            "score": self.score.to_dict() if self.score else None,
            "performance": self.performance.to_dict() if self.performance else None,
            "estimate": self.estimate.to_dict() if self.estimate else None,
        }


def _json_number(value: Any) -> Any:
    if isinstance(value, float):
        return rounded(value) if math.isfinite(value) else None
    return value

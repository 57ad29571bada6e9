"""How two drift baselines differ: what a pull request changes about drift's reference.

Each model version carries its baseline (:mod:`gitml.monitor.baseline`). When a pull
request retrains the model, the baseline moves with it, so ``gitml drift`` will measure
live data against a new reference. :func:`compare_baselines` says how far it moved, in
the terms and with the thresholds ``gitml drift`` uses, so "material" means one thing:
a check is at a level when its effect size reaches that level's threshold (gitml.yaml
``drift``, :class:`~gitml.monitor.thresholds.DriftThresholds`) **and** its test says the
change is more than the sampling noise of two finite reference sets.

Per feature present in both (the base's entry is the reference, as a batch's would be):

* numeric: PSI over the **base's bins**, both sides' shares read from their quantile
  grids through the same curve ``gitml drift`` uses, so identical data gives exactly 0;
  the KS distance between the two grids (within 0.02 of the exact two-sample statistic)
  with its asymptotic test, which guards PSI too; the means;
* categorical: PSI and Jensen-Shannon distance over every category either side saw,
  guarded by the two-sample chi-squared test (thin categories pooled); categories added
  and removed; the share of the head's values in categories the base never saw (checked
  against the ``unseen`` thresholds, like a batch's unseen categories);
* both: the missing-rate change, with Fisher's exact test.

The predicted **scores** are compared like a numeric feature (no missing-rate check).
Tests share ``p_value`` as in ``gitml drift`` (Bonferroni over two tests per feature and
one for the score). Features present on one side only, or of another kind, are listed.
The statistics are :mod:`gitml.monitor.stats`, the ones ``gitml drift`` uses; that module
(numpy, SciPy) is imported by the comparison, so a report whose pull request leaves the
baselines alone never loads it.

JSON shape (:meth:`BaselineDiff.to_dict`)::

    {"level": "ok" | "warn" | "drift", "material": bool,
     "rows": {"base": 1000, "head": 2000},
     "features_added": [...], "features_removed": [...],
     "features": [SHIFT, ...],                  # every compared feature, ranked
     "score": SHIFT,
     "thresholds": {"psi_warn": 0.1, ...}}

    SHIFT = {"name", "kind": "numeric" | "categorical" | "score" | "kind-changed",
             "level", "severity", "reasons": ["PSI 0.31 >= 0.25 (p 1e-09)", ...],
             "psi", "ks", "js", "mean_base", "mean_head",      # null where not applicable
             "missing_rate_base", "missing_rate_head",
             "categories_added": [...], "categories_removed": [...], "new_share"}
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from gitml.monitor.baseline_file import rounded
from gitml.monitor.feature_checks import LEVEL_RANK, FeatureChecks

if TYPE_CHECKING:
    from gitml.monitor.thresholds import DriftThresholds


@dataclass(frozen=True)
class FeatureShift:
    """How one feature's (or the score's) reference moved; ``None`` where not applicable."""

    name: str
    kind: str  # numeric | categorical | score | kind-changed
    level: str  # ok | warn | drift
    severity: float
    reasons: tuple[str, ...]
    psi: float | None = None
    ks: float | None = None
    js: float | None = None
    mean_base: float | None = None
    mean_head: float | None = None
    missing_rate_base: float | None = None
    missing_rate_head: float | None = None
    categories_added: tuple[str, ...] = ()
    categories_removed: tuple[str, ...] = ()
    new_share: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The shift's JSON object (module docstring), floats to 6 significant digits."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                out[f.name] = list(value)
            elif isinstance(value, float):
                out[f.name] = rounded(value) if math.isfinite(value) else None
            else:
                out[f.name] = value
        return out


@dataclass(frozen=True)
class BaselineDiff:
    """Base and head baselines compared: ranked feature shifts, the score, the rows."""

    level: str
    rows_base: int
    rows_head: int
    features: tuple[FeatureShift, ...]
    score: FeatureShift
    features_added: tuple[str, ...]
    features_removed: tuple[str, ...]
    thresholds: DriftThresholds

    @property
    def material(self) -> bool:
        """Whether any check reached warn level, or the features themselves changed."""
        return self.level != "ok" or bool(self.features_added or self.features_removed)

    @property
    def moved(self) -> tuple[FeatureShift, ...]:
        """The features at warn level or above, most severe first."""
        return tuple(f for f in self.features if f.level != "ok")

    def to_dict(self) -> dict[str, Any]:
        """The comparison's JSON object (module docstring)."""
        return {
            "level": self.level,
            "material": self.material,
            "rows": {"base": self.rows_base, "head": self.rows_head},
            "features_added": list(self.features_added),
            "features_removed": list(self.features_removed),
            "features": [f.to_dict() for f in self.features],
            "score": self.score.to_dict(),
            "thresholds": self.thresholds.to_dict(),
        }


def _missing_check(
    checks: FeatureChecks, base: dict[str, Any], head: dict[str, Any], rows: tuple[int, int]
) -> None:
    base_rows, head_rows = rows
    change = abs(float(head["missing_rate"]) - float(base["missing_rate"]))

    def pvalue() -> float:
        from gitml.monitor.stats import proportions_pvalue

        base_missing = base_rows - int(base["present"])
        head_missing = head_rows - int(head["present"])
        return proportions_pvalue(base_missing, base_rows, head_missing, head_rows)

    checks.add("missing rate change", change, "missing", pvalue)


def _shift(name: str, kind: str, checks: FeatureChecks, **values: Any) -> FeatureShift:
    return FeatureShift(
        name=name,
        kind=kind,
        level=checks.level,
        severity=checks.severity,
        reasons=tuple(checks.reasons),
        **values,
    )


def numeric_shift(
    name: str,
    kind: str,
    base: dict[str, Any],
    head: dict[str, Any],
    rows: tuple[int, int],
    checks: FeatureChecks,
) -> FeatureShift:
    """Compare two numeric baseline entries (``kind`` "numeric" or "score")."""
    from gitml.monitor.stats import grid_fractions, ks_between_grids, ks_pvalue, psi

    psi_value = ks = mean_base = mean_head = None
    base_present, head_present = int(base["present"]), int(head["present"])
    if base_present and head_present:
        base_grid, head_grid = base["quantiles"], head["quantiles"]
        expected = grid_fractions(base_grid, base["edges"])
        actual = grid_fractions(head_grid, base["edges"])
        psi_value = psi(expected, actual)
        ks = ks_between_grids(base_grid, head_grid)
        # Each grid is within one step of its sample's CDF: test the statistic less both
        # steps, so the approximation can only make the test more cautious.
        step = 1.0 / (len(base_grid) - 1) + 1.0 / (len(head_grid) - 1)
        ks_p = ks_pvalue(max(ks - step, 0.0), base_present, head_present)
        checks.add("PSI", psi_value, "psi", ks_p)
        checks.add("KS", ks, "ks", ks_p)
        mean_base = float(base["stats"]["mean"])
        mean_head = float(head["stats"]["mean"])
    if kind != "score":
        _missing_check(checks, base, head, rows)
    return _shift(
        name,
        kind,
        checks,
        psi=psi_value,
        ks=ks,
        mean_base=mean_base,
        mean_head=mean_head,
        missing_rate_base=float(base["missing_rate"]),
        missing_rate_head=float(head["missing_rate"]),
    )


def categorical_shift(
    name: str,
    base: dict[str, Any],
    head: dict[str, Any],
    rows: tuple[int, int],
    checks: FeatureChecks,
) -> FeatureShift:
    """Compare two categorical baseline entries."""
    from gitml.monitor.stats import chi_squared_2samp, jensen_shannon, pool_small_cells, psi

    base_freq: dict[str, float] = base["frequencies"]
    head_freq: dict[str, float] = head["frequencies"]
    base_present, head_present = int(base["present"]), int(head["present"])
    seen_base = {c for c, share in base_freq.items() if share > 0}
    seen_head = {c for c, share in head_freq.items() if share > 0}
    added = tuple(sorted(seen_head - seen_base))
    removed = tuple(sorted(seen_base - seen_head))
    psi_value = js = new_share = None
    if base_present and head_present:
        categories = sorted(seen_base | seen_head)
        expected = [base_freq.get(c, 0.0) for c in categories]
        actual = [head_freq.get(c, 0.0) for c in categories]
        psi_value = psi(expected, actual)
        js = jensen_shannon(expected, actual)
        new_share = math.fsum(head_freq[c] for c in added)

        def chi2_p() -> float:
            counts_base = [share * base_present for share in expected]
            counts_head = [share * head_present for share in actual]
            return chi_squared_2samp(*pool_small_cells(counts_base, counts_head))[1]

        checks.add("PSI", psi_value, "psi", chi2_p)
        checks.add("JS", js, "js", chi2_p)
        checks.add("new categories' share", new_share, "unseen")
    _missing_check(checks, base, head, rows)
    return _shift(
        name,
        "categorical",
        checks,
        psi=psi_value,
        js=js,
        missing_rate_base=float(base["missing_rate"]),
        missing_rate_head=float(head["missing_rate"]),
        categories_added=added,
        categories_removed=removed,
        new_share=new_share,
    )


def _ranked(shifts: list[FeatureShift]) -> tuple[FeatureShift, ...]:
    return tuple(sorted(shifts, key=lambda s: (-LEVEL_RANK[s.level], -s.severity, s.name)))


def compare_baselines(
    base: dict[str, Any], head: dict[str, Any], thresholds: DriftThresholds
) -> BaselineDiff:
    """Compare two validated baselines (``read_baseline`` output); the base is the reference."""
    base_features: dict[str, Any] = base["features"]
    head_features: dict[str, Any] = head["features"]
    common = [name for name in base_features if name in head_features]
    rows = (int(base["rows"]), int(head["rows"]))
    alpha = thresholds.p_value / (2 * len(common) + 1)
    shifts = []
    for name in common:
        old, new = base_features[name], head_features[name]
        checks = FeatureChecks(thresholds, alpha)
        if old["kind"] != new["kind"]:
            # Drift would compare live data with a differently shaped reference.
            reason = f"kind {old['kind']} -> {new['kind']}"
            shifts.append(FeatureShift(name, "kind-changed", "drift", 1.0, (reason,)))
        elif old["kind"] == "numeric":
            shifts.append(numeric_shift(name, "numeric", old, new, rows, checks))
        else:
            shifts.append(categorical_shift(name, old, new, rows, checks))
    score = numeric_shift(
        "score", "score", base["score"], head["score"], rows, FeatureChecks(thresholds, alpha)
    )
    levels = [s.level for s in (*shifts, score)]
    return BaselineDiff(
        level=max(levels, key=LEVEL_RANK.__getitem__),
        rows_base=rows[0],
        rows_head=rows[1],
        features=_ranked(shifts),
        score=score,
        features_added=tuple(sorted(set(head_features) - set(base_features))),
        features_removed=tuple(sorted(set(base_features) - set(head_features))),
        thresholds=thresholds,
    )

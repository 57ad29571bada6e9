"""One feature's drift checks as they are made: its level, severity and reasons.

Shared by ``gitml drift`` (a batch against a version's baseline) and the report's
baseline-change section (one baseline against another), so one set of thresholds means
one thing in both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gitml.monitor.thresholds import DriftThresholds

LEVELS = ("ok", "warn", "drift")
LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}


@dataclass
class FeatureChecks:
    """Collects each check's level and reason as a feature is examined.

    ``alpha`` is the significance level of one test (``p_value`` shared by all tests).
    """

    thresholds: DriftThresholds
    alpha: float
    level: str = "ok"
    severity: float = 0.0
    reasons: list[str] = field(default_factory=list)

    def add(self, label: str, value: float | None, check: str, pvalue: Any = None) -> None:
        """Judge ``value`` against ``check``'s thresholds; ``pvalue`` is a number or a thunk.

        A thunk is called only when the effect size reaches warn level: below it the
        change is immaterial whatever its test says, so the test need not run.
        """
        if value is None:
            return
        warn = getattr(self.thresholds, f"{check}_warn")
        drift = getattr(self.thresholds, f"{check}_drift")
        if drift > 0:
            self.severity = max(self.severity, value / drift)
        if value < warn:
            return
        p = pvalue() if callable(pvalue) else pvalue
        if p is not None and p >= self.alpha:
            return
        level = "drift" if value >= drift else "warn"
        bound = drift if level == "drift" else warn
        tested = f" (p {p:.2g})" if p is not None else ""
        self.reasons.append(f"{label} {value:.3g} >= {bound:g}{tested}")
        if LEVEL_RANK[level] > LEVEL_RANK[self.level]:
            self.level = level

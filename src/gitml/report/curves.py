"""Plot data → curves on a shared x grid, small enough for a Mermaid chart in a comment.

Mermaid's ``xychart`` draws every series against one set of x labels, so base and head
curves are resampled onto the same grid by linear interpolation (pure Python: the
report path imports no numpy). The plots ``dvc.yaml`` declares are resampled with the
same functions (:mod:`gitml.report.plots`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitml.report.model import Curve


@dataclass(frozen=True)
class CurveSpec:
    """Which plot file a curve comes from and which fields are x and y."""

    name: str
    file: str
    key: str
    x: str
    y: str
    title: str
    x_label: str
    y_label: str


CURVES = (
    CurveSpec(
        "roc",
        "roc.json",
        "roc",
        "fpr",
        "tpr",
        "ROC curve",
        "False positive rate",
        "True positive rate",
    ),
    CurveSpec(
        "pr",
        "pr.json",
        "pr",
        "recall",
        "precision",
        "Precision-recall curve",
        "Recall",
        "Precision",
    ),
    CurveSpec(
        "calibration",
        "calibration.json",
        "calibration",
        "predicted",
        "observed",
        "Calibration",
        "Predicted default rate",
        "Observed default rate",
    ),
)
GRID_POINTS = 21


def points(document: Any, spec: CurveSpec) -> list[tuple[float, float]] | None:
    """The (x, y) points of a DVC plot file (``{key: [{x:..., y:...}]}`` or a bare list)."""
    rows = document.get(spec.key) if isinstance(document, dict) else document
    if not isinstance(rows, list):
        return None
    pairs = []
    for row in rows:
        if not isinstance(row, dict):
            return None
        x, y = row.get(spec.x), row.get(spec.y)
        if isinstance(x, int | float) and isinstance(y, int | float):
            pairs.append((float(x), float(y)))
    return sorted(pairs) or None


def interpolate(pairs: list[tuple[float, float]], x: float) -> float:
    """Linear interpolation of sorted ``pairs`` at ``x``, clamped at the ends."""
    if x <= pairs[0][0]:
        return pairs[0][1]
    if x >= pairs[-1][0]:
        return pairs[-1][1]
    low, high = 0, len(pairs) - 1
    while high - low > 1:
        mid = (low + high) // 2
        if pairs[mid][0] <= x:
            low = mid
        else:
            high = mid
    (x0, y0), (x1, y1) = pairs[low], pairs[high]
    if x1 == x0:
        return max(y0, y1)
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def linear_grid(
    low: float, high: float, points: int = GRID_POINTS, digits: int = 4
) -> tuple[float, ...]:
    """``points`` evenly spaced x values from ``low`` to ``high``, rounded to ``digits``."""
    step = (high - low) / (points - 1)
    return tuple(round(low + step * i, digits) for i in range(points))


def resample(
    pairs: list[tuple[float, float]], xs: tuple[float, ...], digits: int = 4
) -> tuple[float, ...]:
    """Sorted ``pairs`` interpolated at each of ``xs``, rounded to ``digits`` decimals."""
    return tuple(round(interpolate(pairs, x), digits) for x in xs)


def grid(spec: CurveSpec, sides: list[list[tuple[float, float]]]) -> tuple[float, ...]:
    """The shared x grid: [0, 1] for rates, the common range for calibration."""
    if spec.name != "calibration":
        low, high = 0.0, 1.0
    else:
        low = min(p[0][0] for p in sides)
        high = max(p[-1][0] for p in sides)
    return linear_grid(low, high)


def build_curve(
    spec: CurveSpec, base: list[tuple[float, float]] | None, head: list[tuple[float, float]] | None
) -> Curve | None:
    """Resample both sides onto one grid; None when neither side has the plot."""
    present = [side for side in (base, head) if side]
    if not present:
        return None
    xs = grid(spec, present)

    def sample(side: list[tuple[float, float]] | None) -> tuple[float, ...] | None:
        return resample(side, xs) if side else None

    return Curve(spec.name, spec.title, spec.x_label, spec.y_label, xs, sample(base), sample(head))

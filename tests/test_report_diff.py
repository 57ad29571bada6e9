"""metric_diff on the numbers a metrics file can hold: finite, infinite and NaN."""

from __future__ import annotations

import math

import pytest

from gitml.report.diff import metric_diff
from gitml.report.model import Change


@pytest.mark.parametrize(
    ("base", "head", "change", "delta"),
    [
        (0.80, 0.82, Change.BETTER, 0.02),
        (0.82, 0.80, Change.WORSE, -0.02),
        (0.80, 0.80, Change.UNCHANGED, 0.0),
        (float("nan"), float("nan"), Change.UNCHANGED, 0.0),
        (0.80, float("inf"), Change.CHANGED, math.inf),  # no better/worse through infinity
        (float("inf"), float("inf"), Change.UNCHANGED, 0.0),
        (float("-inf"), float("inf"), Change.CHANGED, math.inf),
        (0.80, float("nan"), Change.BECAME_NAN, None),  # never an improvement, no delta
    ],
)
def test_metric_diff(base: float, head: float, change: Change, delta: float | None) -> None:
    diff = metric_diff("roc_auc", base, head, "higher")
    assert diff.change == change
    if delta is None:
        assert diff.delta is None
    else:
        assert diff.delta == pytest.approx(delta)

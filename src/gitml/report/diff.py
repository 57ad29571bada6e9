"""Pure diff computation: two flattened mappings in, typed differences out."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from gitml.report.model import Change, MetricDiff, ModelStatus, ParamDiff
from gitml.report.values import as_number

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from gitml.report.values import Scalar

# Two values closer than this (relative to their size) are the same number: metrics files
# round to ~6 significant digits, so smaller differences are representation noise.
RELATIVE_TOLERANCE = 1e-9


def _same(a: float, b: float) -> bool:
    if math.isnan(a) and math.isnan(b):
        return True
    return a == b or math.isclose(a, b, rel_tol=RELATIVE_TOLERANCE, abs_tol=0.0)


def metric_diff(name: str, base: Scalar, head: Scalar, direction: str | None) -> MetricDiff:
    """Compare one metric; better/worse respects ``direction`` (``higher``/``lower``)."""
    base_number, head_number = as_number(base), as_number(head)
    if base is None and head is not None:
        return MetricDiff(name, base, head, Change.ADDED, direction=direction)
    if head is None and base is not None:
        return MetricDiff(name, base, head, Change.REMOVED, direction=direction)
    if base_number is None or head_number is None:
        change = Change.UNCHANGED if base == head else Change.CHANGED
        return MetricDiff(name, base, head, change, direction=direction)
    if head_number is not None and math.isnan(head_number) and not math.isnan(base_number):
        # A metric that stops being a number tells nothing good, whatever its direction.
        return MetricDiff(name, base, head, Change.BECAME_NAN, None, None, direction)
    if _same(base_number, head_number):
        return MetricDiff(name, base, head, Change.UNCHANGED, 0.0, 0.0, direction)
    delta = head_number - base_number
    finite = math.isfinite(base_number) and math.isfinite(head_number)
    relative = delta / abs(base_number) if finite and base_number != 0 else None
    if not finite or math.isnan(delta):
        shown = None if math.isnan(delta) else delta  # inf - inf has no delta to show
        return MetricDiff(name, base, head, Change.CHANGED, shown, None, direction)
    if direction == "higher":
        change = Change.BETTER if delta > 0 else Change.WORSE
    elif direction == "lower":
        change = Change.BETTER if delta < 0 else Change.WORSE
    else:
        change = Change.CHANGED
    return MetricDiff(name, base, head, change, delta, relative, direction)


def metrics_diff(
    base: Mapping[str, Scalar] | None,
    head: Mapping[str, Scalar],
    direction_of: Callable[[str], str | None],
) -> tuple[MetricDiff, ...]:
    """Every metric of either side; changed ones first, each group in name order."""
    base = base or {}
    names = sorted(set(base) | set(head))
    rows = [metric_diff(n, base.get(n), head.get(n), direction_of(n)) for n in names]
    return tuple(sorted(rows, key=lambda row: row.change == Change.UNCHANGED))


def params_diff(base: Mapping[str, Scalar], head: Mapping[str, Scalar]) -> tuple[ParamDiff, ...]:
    """Parameters that were added, removed or changed, in name order."""
    rows = []
    for name in sorted(set(base) | set(head)):
        if name not in base:
            rows.append(ParamDiff(name, None, head[name], Change.ADDED))
        elif name not in head:
            rows.append(ParamDiff(name, base[name], None, Change.REMOVED))
        elif base[name] != head[name] or type(base[name]) is not type(head[name]):
            rows.append(ParamDiff(name, base[name], head[name], Change.CHANGED))
    return tuple(rows)


def model_status(has_base: bool, has_head: bool, metrics: tuple[MetricDiff, ...]) -> ModelStatus:
    """Summarise a model's metric changes into one verdict."""
    if not has_base:
        return ModelStatus.NEW
    if not has_head:
        return ModelStatus.REMOVED
    changes = {row.change for row in metrics}
    # A metric gone from head, or gone NaN, is never an improvement: it counts as worse.
    better = Change.BETTER in changes
    worse = bool(changes & {Change.WORSE, Change.REMOVED, Change.BECAME_NAN})
    if better and worse:
        return ModelStatus.MIXED
    if better:
        return ModelStatus.IMPROVED
    if worse:
        return ModelStatus.REGRESSED
    if changes - {Change.UNCHANGED}:
        return ModelStatus.CHANGED
    return ModelStatus.UNCHANGED


HELD_OUT = frozenset({"test", "eval", "val", "valid", "validation", "holdout", "heldout"})


def _held_out(name: str) -> bool:
    """Whether a metric is measured on held-out rows (DVCLive's ``roc_auc.test``)."""
    return bool(HELD_OUT & set(re.split(r"[./_-]", name.lower())))


def headline(metrics: tuple[MetricDiff, ...], order: tuple[str, ...]) -> MetricDiff | None:
    """The metric the summary line quotes: the first declared direction present on head,
    else one with a known direction (a held-out split's before a training one's), else the
    first row."""
    for name in order:
        # `roc_auc: higher` in gitml.yaml names DVCLive's `roc_auc.test` and `roc_auc.train`.
        named = [
            row
            for row in metrics
            if row.head is not None and (row.name == name or name in re.split(r"[./]", row.name))
        ]
        if named:
            return next((row for row in named if _held_out(row.name)), named[0])
    directed = [row for row in metrics if row.direction]
    held_out = [row for row in directed if _held_out(row.name)]
    return next(iter(held_out or directed), metrics[0] if metrics else None)

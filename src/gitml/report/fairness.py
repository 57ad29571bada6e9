"""Fairness base vs head: each segment's groups and gaps, and the gaps that widened.

The pipeline writes one segment report per model (``fairness.report`` in gitml.yaml):
per segment column, each group's metrics (selection rate, TPR, FPR, ROC AUC, calibration
gap) and the gaps between groups (demographic parity difference and ratio, equalized
odds difference), every figure with its bootstrap interval. This module compares two such
documents, already parsed; reading them is the caller's (:mod:`gitml.report.collect`).

A gap *widened beyond its interval* when the head's value lies outside the base's
interval on the bad side: above it for a ``*_difference`` (lower is fairer), below it for
a ``*_ratio`` (higher is fairer). The interval is the base's, so a move within what the
base's own resampling already allowed is not flagged. This is a warning on the report,
not a gate: gates on gap metrics are ordinary metric rules on the metrics file.

A side without the file is shown as such; a file that is not a segment report becomes a
note, never a failure of the report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitml.report.model import (
    Availability,
    Estimate,
    EstimateDiff,
    FairnessDiff,
    GroupDiff,
    SegmentDiff,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

# Which way a gap is fairer, by the suffix of its name (contract of the segment report).
GAP_DIRECTIONS = (("_difference", "lower"), ("_ratio", "higher"))


@dataclass(frozen=True)
class _Group:
    rows: int | None
    metrics: dict[str, Estimate]


@dataclass(frozen=True)
class _Segment:
    groups: dict[str, _Group]
    gaps: dict[str, Estimate]


@dataclass(frozen=True)
class _SideReport:
    confidence: float | None
    segments: dict[str, _Segment]


class MalformedReport(ValueError):
    """A document that is not a segment report; the message says where and why."""


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise MalformedReport(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _number(value: Any, where: str) -> float | None:
    """A finite number, or None (null, or a non-finite value: nothing to compare)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedReport(f"{where}: expected a number or null, got {str(value)[:40]!r}")
    return float(value) if math.isfinite(value) else None


def _estimate(value: Any, where: str) -> Estimate:
    """``{"value": v, "low": l, "high": h}``; a bare number is a value without interval."""
    if value is None or isinstance(value, int | float):
        return Estimate(_number(value, where))
    data = _mapping(value, where)
    return Estimate(
        _number(data.get("value"), f"{where}.value"),
        _number(data.get("low"), f"{where}.low"),
        _number(data.get("high"), f"{where}.high"),
    )


def _rows(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedReport(f"{where}: expected a row count, got {str(value)[:40]!r}")
    return value


def parse_report(document: Any, name: str) -> _SideReport:
    """The segments of one side's report; :class:`MalformedReport` names what is wrong."""
    data = _mapping(document, name)
    segments = _mapping(data.get("segments"), f"{name}: segments")
    confidence = _number(data.get("confidence"), f"{name}: confidence")
    parsed: dict[str, _Segment] = {}
    for column, raw in segments.items():
        where = f"{name}: segments.{column}"
        segment = _mapping(raw, where)
        groups = {}
        for group, raw_group in _mapping(segment.get("groups", {}), f"{where}.groups").items():
            at = f"{where}.groups.{group}"
            group_data = _mapping(raw_group, at)
            metrics = _mapping(group_data.get("metrics", {}), f"{at}.metrics")
            groups[str(group)] = _Group(
                _rows(group_data.get("rows"), f"{at}.rows"),
                {str(m): _estimate(v, f"{at}.metrics.{m}") for m, v in metrics.items()},
            )
        gaps = _mapping(segment.get("gaps", {}), f"{where}.gaps")
        parsed[str(column)] = _Segment(
            groups, {str(g): _estimate(v, f"{where}.gaps.{g}") for g, v in gaps.items()}
        )
    return _SideReport(confidence, parsed)


def gap_direction(name: str) -> str | None:
    """``lower`` for a ``*_difference``, ``higher`` for a ``*_ratio``, else None."""
    return next((way for suffix, way in GAP_DIRECTIONS if name.endswith(suffix)), None)


def widened(base: Estimate | None, head: Estimate | None, direction: str | None) -> bool:
    """Whether the head's value lies outside the base's interval on the bad side."""
    if base is None or head is None or head.value is None:
        return False
    if direction == "lower":
        return base.high is not None and head.value > base.high
    if direction == "higher":
        return base.low is not None and head.value < base.low
    return False


def _ordered(names: set[str], first: tuple[str, ...] = ()) -> list[str]:
    """``first`` (the declared order) where present, then the rest sorted."""
    return [n for n in first if n in names] + sorted(names - set(first))


def _segment(column: str, base: _Segment | None, head: _Segment | None) -> SegmentDiff:
    empty = _Segment({}, {})
    old, new = base or empty, head or empty
    gaps = []
    # The head's order first: it is what the pipeline writes now.
    for name in _ordered(set(old.gaps) | set(new.gaps), tuple(new.gaps)):
        direction = gap_direction(name)
        before, after = old.gaps.get(name), new.gaps.get(name)
        gaps.append(EstimateDiff(name, before, after, direction, widened(before, after, direction)))
    groups = []
    for group in _ordered(set(old.groups) | set(new.groups)):
        was, now = old.groups.get(group), new.groups.get(group)
        metric_names = set(was.metrics if was else ()) | set(now.metrics if now else ())
        metrics = tuple(
            EstimateDiff(
                metric,
                was.metrics.get(metric) if was else None,
                now.metrics.get(metric) if now else None,
            )
            for metric in _ordered(metric_names, tuple(now.metrics if now else ()))
        )
        groups.append(
            GroupDiff(group, was.rows if was else None, now.rows if now else None, metrics)
        )
    return SegmentDiff(column, tuple(gaps), tuple(groups))


def _side(
    document: Any, error: str | None, unavailable: str | None, name: str
) -> tuple[Availability, Any, list[str]]:
    """A side's availability, its parsed report and its notes."""
    if error is not None:
        return Availability.MALFORMED, None, [f"{name}: not read: {error}"]
    if unavailable is not None:
        return Availability.UNAVAILABLE, None, [f"{name}: unavailable: {unavailable}"]
    if document is None:
        return Availability.MISSING, None, []
    try:
        return Availability.PRESENT, parse_report(document, name), []
    except MalformedReport as problem:
        return Availability.MALFORMED, None, [f"not a segment report: {problem}"]


def compare_fairness(
    path: str,
    base: Any,
    head: Any,
    *,
    base_label: str = "base",
    head_label: str = "head",
    columns: tuple[str, ...] = (),
    base_error: str | None = None,
    head_error: str | None = None,
    base_unavailable: str | None = None,
    head_unavailable: str | None = None,
) -> FairnessDiff:
    """Compare two parsed segment reports (None: the side has no file at ``path``).

    ``*_error`` says why a side's file could not be parsed at all, ``*_unavailable`` why
    the bytes DVC tracks for it could not be had. ``columns`` is the
    declared segment order (gitml.yaml ``fairness.segments``); a column the head declares
    but its report lacks becomes a note.
    """
    base_state, old, notes = _side(base, base_error, base_unavailable, f"{path} at {base_label}")
    head_state, new, head_notes = _side(
        head, head_error, head_unavailable, f"{path} at {head_label}"
    )
    notes += head_notes
    old_segments = old.segments if old else {}
    new_segments = new.segments if new else {}
    if new is not None:
        notes += [
            f"segment column {column} is declared but not in {path} at {head_label}"
            for column in columns
            if column not in new_segments
        ]
    segments = tuple(
        _segment(column, old_segments.get(column), new_segments.get(column))
        for column in _ordered(set(old_segments) | set(new_segments), columns)
    )
    confidence = new.confidence if new else old.confidence if old else None
    return FairnessDiff(path, base_state, head_state, confidence, segments, tuple(notes))

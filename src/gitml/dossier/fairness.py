"""Section 5 from its documents (pure): the per-segment fairness report the pipeline
writes (``fairness.report`` in ``gitml.yaml``) and the permutation importance in the card.

Both files come from the pull request that trained the version, so every value is read
defensively: a field of the wrong type is left out (shown as missing), never trusted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitml.dossier.model import Feature, Group, Interval, Segment

if TYPE_CHECKING:
    from gitml.config import ModelConfig

GAP_PREFIX = "fairness."


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _intervals(raw: Any) -> tuple[Interval, ...]:
    if not isinstance(raw, dict):
        return ()
    found = []
    for name in sorted(raw, key=str):
        entry = raw[name]
        if isinstance(entry, dict):
            found.append(
                Interval(
                    str(name),
                    _number(entry.get("value")),
                    _number(entry.get("low")),
                    _number(entry.get("high")),
                )
            )
    return tuple(found)


def segments_of(report: Any) -> tuple[Segment, ...]:
    """The segments of a fairness report (its format 1), columns and groups sorted."""
    segments = report.get("segments") if isinstance(report, dict) else None
    if not isinstance(segments, dict):
        return ()
    found = []
    for column in sorted(segments, key=str):
        raw = segments[column]
        if not isinstance(raw, dict):
            continue
        groups_raw = raw["groups"] if isinstance(raw.get("groups"), dict) else {}
        groups = tuple(
            Group(
                str(name),
                _count(entry.get("rows")),
                _count(entry.get("positives")),
                _intervals(entry.get("metrics")),
            )
            for name, entry in sorted(groups_raw.items(), key=lambda item: str(item[0]))
            if isinstance(entry, dict)
        )
        found.append(Segment(str(column), groups, _intervals(raw.get("gaps"))))
    return tuple(found)


def confidence_of(report: Any) -> float | None:
    """The confidence level of the report's intervals (0.95), if it says."""
    return _number(report.get("confidence")) if isinstance(report, dict) else None


def gap_gates(model: ModelConfig) -> tuple[str, ...]:
    """The gate rules on fairness gap metrics, ``stage: rule`` each."""
    from gitml.dossier.gates import rule_text

    return tuple(
        f"{stage}: {rule_text(name, rule)}"
        for stage, policy in model.gates.items()
        for name, rule in policy.metrics.items()
        if name.startswith(GAP_PREFIX)
    )


def importance_of(card: Any) -> tuple[str | None, tuple[Feature, ...]]:
    """The card's ``importance``: its method in words and the features, as written."""
    raw = card.get("importance") if isinstance(card, dict) else None
    if not isinstance(raw, dict):
        return None, ()
    parts = [str(raw["method"])] if raw.get("method") else []
    for key in ("scoring", "repeats", "seed", "rows"):
        if raw.get(key) is not None:
            parts.append(f"{key} {raw[key]}")
    features = tuple(
        Feature(str(entry.get("name")), _number(entry.get("mean")), _number(entry.get("std")))
        for entry in raw.get("features") or ()
        if isinstance(entry, dict) and entry.get("name") is not None
    )
    return (", ".join(parts) or None), features

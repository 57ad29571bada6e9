"""Baseline files as text: the canonical form, and reading one back, validated.

Apart from :mod:`gitml.monitor.baseline`, which computes baselines from data with numpy:
``gitml report`` reads the baselines of both revisions it compares and needs numpy only
when they differ. The JSON shape is described in :mod:`gitml.monitor.baseline`.
"""

from __future__ import annotations

import json
import math
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from gitml.documents import Problem, packaged_schema, parse_text, raise_for, schema_problems

if TYPE_CHECKING:
    from collections.abc import Sequence

SCHEMA = "baseline.schema.json"
BASELINE_VERSION = 1
# The reference CDF for KS tests is kept as this many quantile steps (101 points); the
# KS approximation error is at most about 1 / QUANTILE_STEPS (see stats.ks_statistic).
QUANTILE_STEPS = 100
SIGNIFICANT_DIGITS = 6


def rounded(value: float) -> float:
    """``value`` to 6 significant digits, the precision every stored float has."""
    if not math.isfinite(value):
        raise ValueError(f"cannot store a non-finite number: {value!r}")
    # Adding 0.0 turns -0.0 into 0.0, so a sign of zero never changes the bytes.
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}") + 0.0


def baseline_text(baseline: dict[str, Any]) -> str:
    """The canonical file text: sorted keys, two-space indent, a final newline."""
    return json.dumps(baseline, sort_keys=True, indent=2, allow_nan=False) + "\n"


def read_baseline(text: str, file: str) -> dict[str, Any]:
    """Parse and validate a baseline file's text; every problem names ``file`` and the key.

    The result is the file's JSON object; its optional ``calibration`` (the score ->
    probability map of :class:`gitml.monitor.cbpe.Calibration`) is checked to be a map.
    """
    document: Any = parse_text(text, file)
    raise_for(schema_problems(document, packaged_schema(SCHEMA), file))
    raise_for(_consistency_problems(document, file))
    baseline: dict[str, Any] = document
    return baseline


def _consistency_problems(document: dict[str, Any], file: str) -> list[Problem]:
    """What the schema cannot say: bins match edges, edges increase, quantiles do not fall."""
    problems: list[Problem] = []
    entries = [(f"features.{name}", entry) for name, entry in document["features"].items()]
    for key, entry in [*entries, ("score", document["score"])]:
        if entry["kind"] != "numeric":
            continue
        edges, fractions, quantiles = entry["edges"], entry["fractions"], entry["quantiles"]
        if entry["present"] == 0:
            if edges or fractions or quantiles or entry["stats"] is not None:
                problems.append(Problem(file, key, "no present values but bins or stats given"))
            continue
        if len(fractions) != len(edges) + 1:
            message = f"{len(fractions)} fractions for {len(edges)} edges (expected edges + 1)"
            problems.append(Problem(file, f"{key}.fractions", message))
        if any(b <= a for a, b in pairwise(edges)):
            problems.append(Problem(file, f"{key}.edges", "edges must increase strictly"))
        if len(quantiles) != QUANTILE_STEPS + 1:
            message = f"{len(quantiles)} quantiles, expected {QUANTILE_STEPS + 1}"
            problems.append(Problem(file, f"{key}.quantiles", message))
        elif any(b < a for a, b in pairwise(quantiles)):
            problems.append(Problem(file, f"{key}.quantiles", "quantiles must not decrease"))
        if entry["stats"] is None:
            problems.append(Problem(file, f"{key}.stats", "stats missing for present values"))
    calibration = document.get("calibration")
    if calibration is not None:
        problem = calibration_problem(calibration["scores"], calibration["probabilities"])
        if problem:
            problems.append(Problem(file, "calibration", problem))
    return problems


def calibration_problem(scores: Sequence[float], probabilities: Sequence[float]) -> str | None:
    """What keeps ``(scores, probabilities)`` from being a calibration map, or None.

    A map needs as many probabilities as scores (at least one), finite scores that
    increase strictly, and probabilities in [0, 1] that never decrease: a higher score
    is never a lower risk.
    """
    if not scores or len(scores) != len(probabilities):
        return (
            f"{len(probabilities)} probabilities for {len(scores)} scores (expected as many, >= 1)"
        )
    if not all(math.isfinite(s) for s in scores):
        return "scores must be finite"
    if any(b <= a for a, b in pairwise(scores)):
        return "scores must increase strictly"
    if not all(0.0 <= p <= 1.0 for p in probabilities):
        return "probabilities must lie in [0, 1]"
    if any(b < a for a, b in pairwise(probabilities)):
        return "probabilities must not decrease"
    return None

"""Metric and parameter values: flattening, numeric reading and consistent formatting."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

Scalar = float | int | str | bool | None


def flatten(tree: Any, prefix: str = "") -> dict[str, Scalar]:
    """Nested mappings/lists → ``{"a.b": 1, "c[0]": 2}``, the way DVC names nested metrics."""
    flat: dict[str, Scalar] = {}
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten(value, name))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            flat.update(flatten(value, f"{prefix}[{index}]"))
    else:
        flat[prefix] = (
            tree if isinstance(tree, float | int | str | bool) or tree is None else str(tree)
        )
    return flat


def as_number(value: Scalar) -> float | None:
    """The value as a float when it is numeric (bools and strings are not), else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    return None


def format_value(value: Scalar) -> str:
    """A value as a reader wants it: ints with separators, floats to 4 significant digits."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "∞" if value > 0 else "-∞"
        if value == 0:
            return "0"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) < 1e-4:
            return f"{value:.3e}"
        return f"{value:.4g}"
    return str(value)


def format_delta(delta: float | None) -> str:
    """A signed change to 3 significant digits (``+0.0123``), or empty."""
    if delta is None or math.isnan(delta):
        return ""
    if math.isinf(delta):
        return "+∞" if delta > 0 else "-∞"
    if delta == 0:
        return "0"
    if abs(delta) >= 1000:
        return f"{delta:+,.0f}"
    if abs(delta) < 1e-4:
        return f"{delta:+.2e}"
    return f"{delta:+.3g}"


def format_relative(relative: float | None) -> str:
    """A signed relative change in percent (``+1.52%``), or empty."""
    if relative is None or math.isnan(relative) or math.isinf(relative):
        return ""
    return f"{relative:+.2%}"


def json_number(value: Scalar) -> Scalar:
    """JSON cannot carry NaN or infinities: spell them as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value

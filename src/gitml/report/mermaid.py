"""Curves as Mermaid ``xychart-beta`` line charts: GitHub renders them natively in a
comment, so no image leaves the repository (no public upload, unlike CML's default).

xychart has no legend: the caption under each chart says which line is which.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.report.escape import mermaid_label

if TYPE_CHECKING:
    from gitml.report.model import Curve


def _number(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def xychart(curve: Curve) -> str:
    """Mermaid source of one chart (without the markdown fence)."""
    x_labels = ", ".join(f'"{_number(x)}"' for x in curve.x)
    lines = [
        "xychart-beta",
        f'    title "{mermaid_label(curve.title)}"',
        f'    x-axis "{mermaid_label(curve.x_label)}" [{x_labels}]',
        f'    y-axis "{mermaid_label(curve.y_label)}" 0 --> 1',
    ]
    for series in (curve.base, curve.head):
        if series is not None:
            lines.append(f"    line [{', '.join(_number(v) for v in series)}]")
    return "\n".join(lines)


def fenced(curve: Curve) -> str:
    """The chart as a fenced ```` ```mermaid ```` block."""
    return f"```mermaid\n{xychart(curve)}\n```"

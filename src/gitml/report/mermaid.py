"""Curves as Mermaid ``xychart-beta`` line charts: GitHub renders them natively in a
comment, so no image leaves the repository (no public upload, unlike CML's default).

Older Mermaid versions draw no legend, so the caption above the charts also says which
line is which.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.report.escape import mermaid_label

if TYPE_CHECKING:
    from gitml.report.model import Curve


def fixed_point(value: float, digits: int = 4) -> str:
    """``value`` in fixed point with at most ``digits`` decimals and no trailing zeros:
    Mermaid rejects exponents."""
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def xychart(curve: Curve, base_label: str = "base", head_label: str = "head") -> str:
    """Mermaid source of one chart (without the markdown fence).

    Values are fixed-point (Mermaid rejects exponents) and every label is quoted (Mermaid
    drops spaces from unquoted ones). Series are named: recent Mermaid shows a legend.
    """
    x_labels = ", ".join(f'"{fixed_point(x)}"' for x in curve.x)
    lines = [
        "xychart-beta",
        f'    title "{mermaid_label(curve.title)}"',
        f'    x-axis "{mermaid_label(curve.x_label)}" [{x_labels}]',
        f'    y-axis "{mermaid_label(curve.y_label)}" 0 --> 1',
    ]
    for label, series in ((base_label, curve.base), (head_label, curve.head)):
        if series is not None:
            values = ", ".join(fixed_point(v) for v in series)
            lines.append(f'    line "{mermaid_label(label)}" [{values}]')
    return "\n".join(lines)


def fenced(curve: Curve, base_label: str = "base", head_label: str = "head") -> str:
    """The chart as a fenced ```` ```mermaid ```` block."""
    return f"```mermaid\n{xychart(curve, base_label, head_label)}\n```"

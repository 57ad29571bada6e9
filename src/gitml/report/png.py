"""Curves as PNG files, rendered offline with vl-convert (no node, no browser, no upload).

These are for workflow artefacts: the comment itself never links local images (CML
would upload them to a public host).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from gitml.errors import GitmlError
from gitml.fsutil import atomic_write_bytes

if TYPE_CHECKING:
    from pathlib import Path

    from gitml.report.model import Curve, Report


def vega_lite(curve: Curve, base_label: str, head_label: str) -> dict[str, Any]:
    """A Vega-Lite line chart of a curve's base and head series, with inline data."""
    values = []
    for label, series in (
        (f"base ({base_label})", curve.base),
        (f"head ({head_label})", curve.head),
    ):
        if series is not None:
            values += [
                {"x": x, "y": y, "side": label} for x, y in zip(curve.x, series, strict=True)
            ]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": curve.title,
        "width": 360,
        "height": 300,
        "data": {"values": values},
        "mark": {"type": "line", "point": True},
        "encoding": {
            "x": {"field": "x", "type": "quantitative", "title": curve.x_label},
            "y": {
                "field": "y",
                "type": "quantitative",
                "title": curve.y_label,
                "scale": {"domain": [0, 1]},
            },
            "color": {"field": "side", "type": "nominal", "title": None},
        },
    }


def write_pngs(report: Report, directory: Path) -> list[Path]:
    """Render every curve of every model to ``directory/<model>-<curve>.png``."""
    try:
        import vl_convert
    except ImportError:
        raise GitmlError(
            "--plots-dir needs vl-convert-python: pip install 'gitml[plots]'"
        ) from None
    written = []
    for model in report.models:
        for curve in model.curves:
            spec = vega_lite(curve, report.base.label, report.head.label)
            png = vl_convert.vegalite_to_png(vl_spec=spec, scale=2)
            name = re.sub(r"[^A-Za-z0-9._-]", "_", f"{model.name}-{curve.name}.png")
            path = directory / name
            atomic_write_bytes(path, png)
            written.append(path)
    return written

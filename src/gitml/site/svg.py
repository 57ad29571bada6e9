"""Charts as inline SVG, drawn when the site is built (no chart library, no script).

Each chart is an ``<svg role="img">`` with a title naming what it shows, so a screen
reader announces it and the page's tables carry the same numbers in text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitml.site.layout import e

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

WIDTH = 640
HEIGHT = 220
PAD_LEFT = 56
PAD_RIGHT = 16
PAD_TOP = 16
PAD_BOTTOM = 40
STAGE_COLOURS = ("#0969da", "#1a7f37", "#9a6700", "#8250df", "#cf222e", "#57606a")


def _open(label: str, width: int, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{e(label)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f"<title>{e(label)}</title>"
    )


def _number(value: float) -> str:
    return f"{value:.4g}"


def line_chart(label: str, points: Sequence[tuple[str, float]]) -> str:
    """``points`` (x label, value) in order, joined by a line: a metric across versions.
    At most 8 x labels are written, so a long history stays legible."""
    if not points:
        return ""
    values = [v for _, v in points]
    low, high = min(values), max(values)
    if high == low:
        low, high = low - 0.5, high + 0.5
    inner_w = WIDTH - PAD_LEFT - PAD_RIGHT
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    step = inner_w / max(len(points) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return PAD_LEFT + i * step, PAD_TOP + (high - v) / (high - low) * inner_h

    coords = [xy(i, v) for i, (_, v) in enumerate(points)]
    parts = [_open(label, WIDTH, HEIGHT)]
    base = PAD_TOP + inner_h
    parts.append(
        f'<line x1="{PAD_LEFT}" y1="{base}" x2="{WIDTH - PAD_RIGHT}" y2="{base}" stroke="#8c959f"/>'
    )
    for v, y in ((high, PAD_TOP), (low, base)):
        parts.append(f'<text x="{PAD_LEFT - 4}" y="{y + 4}" text-anchor="end">{_number(v)}</text>')
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    parts.append(f'<polyline fill="none" stroke="#0969da" stroke-width="2" points="{path}"/>')
    if len(points) <= 60:
        parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#0969da"/>' for x, y in coords)
    every = max(1, -(-len(points) // 8))  # at most 8 labels: version names are wide
    for i, (name, _) in enumerate(points):
        if i % every == 0 or i == len(points) - 1:
            x = coords[i][0]
            parts.append(f'<text x="{x:.1f}" y="{base + 16}" text-anchor="middle">{e(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Span:
    """One bar of a timeline: ``lane`` (a stage) held ``label`` from ``start`` to ``end``."""

    lane: str
    label: str
    start: datetime
    end: datetime
    closed: str  # how it ended, shown in the bar's tooltip


def timeline(label: str, spans: Sequence[Span]) -> str:
    """One lane per stage, a bar per tenure, from the first start to the last end."""
    if not spans:
        return ""
    lanes = list(dict.fromkeys(s.lane for s in spans))
    first = min(s.start for s in spans).timestamp()
    last = max(s.end for s in spans).timestamp()
    total = max(last - first, 1.0)
    lane_h = 28
    height = PAD_TOP + lane_h * len(lanes) + PAD_BOTTOM
    inner_w = WIDTH - PAD_LEFT - PAD_RIGHT - 40
    left = PAD_LEFT + 40
    parts = [_open(label, WIDTH, height)]
    for n, lane in enumerate(lanes):
        y = PAD_TOP + n * lane_h
        parts.append(f'<text x="{left - 6}" y="{y + 17}" text-anchor="end">{e(lane)}</text>')
    for s in spans:
        n = lanes.index(s.lane)
        x = left + (s.start.timestamp() - first) / total * inner_w
        w = max((s.end.timestamp() - s.start.timestamp()) / total * inner_w, 1.5)
        colour = STAGE_COLOURS[n % len(STAGE_COLOURS)]
        tip = f"{s.lane}: {s.label}, {s.start:%Y-%m-%d} to {s.end:%Y-%m-%d} ({s.closed})"
        parts.append(
            f'<rect x="{x:.1f}" y="{PAD_TOP + n * lane_h + 4}" width="{w:.1f}" height="18" '
            f'fill="{colour}" stroke="#fff"><title>{e(tip)}</title></rect>'
        )
    base = PAD_TOP + lane_h * len(lanes) + 14
    parts.append(
        f'<text x="{left}" y="{base}">{e(f"{min(s.start for s in spans):%Y-%m-%d}")}</text>'
    )
    end_text = e(f"{max(s.end for s in spans):%Y-%m-%d}")
    parts.append(f'<text x="{WIDTH - PAD_RIGHT}" y="{base}" text-anchor="end">{end_text}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(label: str, bars: Sequence[tuple[str, float]]) -> str:
    """Horizontal bars, one per (label, value): a figure's values side by side."""
    if not bars:
        return ""
    bar_h = 22
    height = PAD_TOP + bar_h * len(bars) + 8
    left = 200
    inner_w = WIDTH - left - PAD_RIGHT - 60
    high = max(max(abs(v) for _, v in bars), 1e-12)
    parts = [_open(label, WIDTH, height)]
    for n, (name, value) in enumerate(bars):
        y = PAD_TOP + n * bar_h
        w = abs(value) / high * inner_w
        parts.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">{e(name[:32])}</text>')
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="15" fill="#0969da"/>'
            f'<text x="{left + w + 4:.1f}" y="{y + 14}">{_number(value)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)

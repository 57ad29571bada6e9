"""The plots ``dvc.yaml`` declares, as markdown: Mermaid line charts and confusion tables.

An x-y plot becomes a Mermaid ``xychart-beta`` like gitml's own curves (GitHub renders
it in the comment; no image is uploaded anywhere), a confusion plot a table of base and
head counts per cell. Every name, label, field, file and class value comes from the pull
request: it reaches the markdown through :mod:`gitml.report.escape` (``text``/``code``)
and the Mermaid source through ``mermaid_label``.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from gitml.report.escape import code, mermaid_label, text
from gitml.report.mermaid import fixed_point
from gitml.report.model import XYPlot
from gitml.report.tables import markdown_cells

if TYPE_CHECKING:
    from collections.abc import Sequence

    from gitml.report.model import ConfusionMatrix, ConfusionPlot, Plot, PlotLine
    from gitml.report.tables import Align


def _fixed(value: float) -> str:
    """A number in fixed point, to the 12 decimals plot data may carry (already rounded
    to the digits the data has)."""
    return fixed_point(value, 12)


def line_names(lines: Sequence[PlotLine]) -> list[str]:
    """Each line's name without its side: the file (less the common directory) and,
    when the lines show several fields, the field."""
    files = list(dict.fromkeys(line.file for line in lines))
    short = {files[0]: posixpath.basename(files[0])} if len(files) == 1 else {}
    if len(files) > 1:
        try:
            prefix = posixpath.commonpath(files)
        except ValueError:  # absolute and relative paths mixed (a hand-written JSON report)
            prefix = ""
        short = {f: f[len(prefix) :].lstrip("/") or f for f in files}
    several_fields = len({line.field for line in lines}) > 1
    return [
        f"{short[line.file]} {line.field}" if several_fields else short[line.file] for line in lines
    ]


def _y_range(plot: XYPlot) -> tuple[float, float]:
    values = [v for line in plot.lines for v in line.y]
    low, high = min(values), max(values)
    if low >= 0 and high <= 1:
        return 0.0, 1.0  # rates and shares: the whole scale, as gitml's curves
    if low == high:
        return low - 1, high + 1
    return low, high


def xychart(plot: XYPlot, base_label: str, head_label: str) -> str:
    """Mermaid source of an x-y plot (without the markdown fence); every label quoted."""
    side = {"base": f"base {base_label}", "head": f"head {head_label}"}
    low, high = _y_range(plot)
    x_labels = ", ".join(f'"{_fixed(x)}"' for x in plot.x)
    out = [
        "xychart-beta",
        f'    title "{mermaid_label(plot.title)}"',
        f'    x-axis "{mermaid_label(plot.x_label)}" [{x_labels}]',
        f'    y-axis "{mermaid_label(plot.y_label)}" {_fixed(low)} --> {_fixed(high)}',
    ]
    for line, name in zip(plot.lines, line_names(plot.lines), strict=True):
        values = ", ".join(_fixed(v) for v in line.y)
        out.append(f'    line "{mermaid_label(f"{side[line.side]} {name}")}" [{values}]')
    return "\n".join(out)


def _notes(notes: Sequence[str]) -> list[str]:
    return [f"> {text(note)}" for note in notes]


def _xy_block(plot: XYPlot, base_label: str, head_label: str) -> list[str]:
    title = f"**{text(plot.title)}**"
    if not plot.lines or not plot.x:
        return [title, *_notes(plot.notes)]
    # Older Mermaid draws no legend: say which line is which, in drawing order.
    names = ", ".join(
        text(f"{line.side} {name}")
        for line, name in zip(plot.lines, line_names(plot.lines), strict=True)
    )
    chart = f"```mermaid\n{xychart(plot, base_label, head_label)}\n```"
    return [f"{title} · lines: {names}", chart, *_notes(plot.notes)]


def _count(base: int | None, head: int | None) -> str:
    if head is None:
        return f"{base:,} → —"
    if base is None or base == head:
        return f"{head:,}"
    return f"{base:,} → {head:,} ({head - base:+,})"


def _share(base: float | None, head: float | None) -> str:
    def show(value: float | None) -> str:
        return "—" if value is None else f"{value:.3f}"

    if base is None and head is None:
        return "—"
    if base is None:
        return show(head)
    if head is None:
        return f"{show(base)} → —"
    if round(base, 3) == round(head, 3):
        return show(head)
    return f"{show(base)} → {show(head)} ({head - base:+.3f})"


def _shares(counts: tuple[tuple[int, ...], ...] | None) -> list[list[float | None]] | None:
    """Each cell as a share of its column (one y value), as DVC's normalized template."""
    if counts is None:
        return None
    totals = [sum(column) for column in zip(*counts, strict=True)]
    return [[c / t if t else None for c, t in zip(row, totals, strict=True)] for row in counts]


def _matrix_rows(matrix: ConfusionMatrix, normalized: bool) -> list[list[str]]:
    rows = []
    if normalized:
        base, head = _shares(matrix.base), _shares(matrix.head)
        for i, label in enumerate(matrix.labels):
            cells = [
                _share(base[i][j] if base else None, head[i][j] if head else None)
                for j in range(len(matrix.labels))
            ]
            rows.append([text(label), *cells])
        return rows
    for i, label in enumerate(matrix.labels):
        base_row = matrix.base[i] if matrix.base else None
        head_row = matrix.head[i] if matrix.head else None
        cells = [
            _count(base_row[j] if base_row else None, head_row[j] if head_row else None)
            for j in range(len(matrix.labels))
        ]
        rows.append([text(label), *cells])
    return rows


def _confusion_block(plot: ConfusionPlot, tables: bool) -> list[str]:
    out = [f"**{text(plot.title)}**"]
    if not tables:
        out[0] += f" · {len(plot.matrices)} table(s) not shown (comment size limit)"
        return [*out, *_notes(plot.notes)]
    for matrix in plot.matrices:
        sides = "base → head"
        if matrix.base is None:
            sides = "head only: not on the base side"
        elif matrix.head is None:
            sides = "base only: not on the head side"
        unit = "share of each column" if plot.normalized else "count"
        out.append(f"{code(matrix.file)} ({sides}; {unit})")
        header = [
            f"{text(plot.x_label)} ↓ · {text(plot.y_label)} →",
            *(text(label) for label in matrix.labels),
        ]
        left: Align = "left"
        right: Align = "right"
        align = [left] + [right] * len(matrix.labels)
        out.append(markdown_cells(header, _matrix_rows(matrix, plot.normalized), align))
    return [*out, *_notes(plot.notes)]


def plots_block(
    plots: Sequence[Plot],
    base_label: str,
    head_label: str,
    *,
    charts: bool = True,
    tables: bool = True,
) -> list[str]:
    """The folded section of a model's ``dvc.yaml`` plots; nothing when there are none.

    ``base_label``/``head_label`` name the sides (the revisions; escaped here).
    ``charts``/``tables`` off leave the charts or the confusion tables out with a note,
    when the comment must shrink.
    """
    if not plots:
        return []
    body: list[str] = []
    hidden = 0
    for plot in plots:
        if isinstance(plot, XYPlot):
            if charts or not plot.lines or not plot.x:
                body += _xy_block(plot, base_label, head_label)
            else:
                hidden += 1
        else:
            body += _confusion_block(plot, tables)
    if hidden:
        body.append(f"_{hidden} chart(s) not shown (comment size limit)._")
    sides = f"base {code(base_label)}, head {code(head_label)}"
    summary = f"<summary>Plots declared in dvc.yaml ({len(plots)}; {sides})</summary>"
    return [f"<details>{summary}\n\n" + "\n\n".join(body) + "\n\n</details>"]

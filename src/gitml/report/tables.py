"""Plain aligned tables for terminals and markdown tables with every cell escaped.

This is gitml's one markdown table writer: ``--format md`` tables and the pull-request
comment's tables all come out of :func:`markdown_cells`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from gitml.report.escape import text as md_text

if TYPE_CHECKING:
    from collections.abc import Sequence

Align = Literal["left", "right"]
_RULE: dict[Align, str] = {"left": ":--", "right": "--:"}


def plain(header: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest cell, two spaces apart."""
    header = [str(c) for c in header]
    rows = [[str(c) for c in row] for row in rows]
    widths = [max(map(len, column)) for column in zip(header, *rows, strict=True)]
    # One format string for every row: a history can have tens of thousands of them.
    line = "  ".join(f"{{:<{width}}}" for width in widths)
    lines = [line.format(*header).rstrip(), "  ".join("-" * w for w in widths)]
    lines += [line.format(*row).rstrip() for row in rows]
    return "\n".join(lines)


def markdown(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub markdown table with every cell escaped."""
    return markdown_cells([md_text(h) for h in header], [[md_text(c) for c in row] for row in rows])


def markdown_cells(
    header: Sequence[str], rows: Sequence[Sequence[str]], align: Sequence[Align] = ()
) -> str:
    """A GitHub markdown table of cells that are markdown already.

    Each cell must have been escaped by its caller (:mod:`gitml.report.escape`), which
    lets a cell mix escaped text with markup such as ``<code>`` or an icon. Columns are
    left-aligned unless ``align`` says otherwise.
    """
    rule = [_RULE[a] for a in align] if align else [_RULE["left"]] * len(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def markdown_cut(
    header: Sequence[str], align: Sequence[Align], rows: Sequence[Sequence[str]], limit: int | None
) -> str:
    """:func:`markdown_cells` of at most ``limit`` rows, with a note saying how many were
    left out (a pull-request comment has a size limit)."""
    shown = rows if limit is None else rows[:limit]
    cut = markdown_cells(header, shown, align)
    if len(shown) < len(rows):
        cut += f"\n\n_{len(rows) - len(shown)} more row(s) not shown (comment size limit)._"
    return cut


def table(fmt: str, header: list[str], rows: list[list[str]]) -> str:
    """``plain`` for ``table``, ``markdown`` for ``md``."""
    return markdown(header, rows) if fmt == "md" else plain(header, rows)

"""Plain aligned tables for terminals and markdown tables with every cell escaped."""

from __future__ import annotations

from gitml.report.escape import text as md_text


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
    lines = ["| " + " | ".join(md_text(h) for h in header) + " |"]
    lines.append("|" + "|".join(":--" for _ in header) + "|")
    lines += ["| " + " | ".join(md_text(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def table(fmt: str, header: list[str], rows: list[list[str]]) -> str:
    """``plain`` for ``table``, ``markdown`` for ``md``."""
    return markdown(header, rows) if fmt == "md" else plain(header, rows)

"""Plain aligned tables for terminals and markdown tables: no heavy import on query paths."""

from __future__ import annotations

from gitml.report.escape import text as md_text


def plain(header: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest cell, two spaces apart."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
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

"""The dossier as GitHub-flavoured markdown.

Every value is escaped by :mod:`gitml.report.escape` (card text, metric names, logins
and paths come from pull requests): no link, image, mention, HTML or table break can
come from them. Proof citations link to the proof table at the end.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from gitml.dossier.blocks import (
    INTRO,
    PROOF_HELP,
    Bullets,
    Heading,
    Paragraph,
    Table,
    proof_index,
    safe_url,
)
from gitml.dossier.layout import missing_lines, sections
from gitml.report.escape import code, text

if TYPE_CHECKING:
    from gitml.dossier.blocks import Block, Cell, Line
    from gitml.dossier.model import Dossier, Proof


def _cell(cell: Cell, index: dict[Proof, int]) -> str:
    shown = code(cell.text) if cell.code else text(cell.text)
    if cell.proof is not None:
        number = index[cell.proof]
        shown += f" [P{number}](#p{number})"
    return shown


def _link(url: str | None) -> str:
    # A URL a record holds is validated to this shape when parsed; checked again here,
    # so only a plain web address ever becomes a link.
    if url is None:
        return "-"
    return f"[open]({url})" if safe_url(url) else code(url)


def _line(cells: Line, index: dict[Proof, int]) -> str:
    # Only the first cell starts the line: a space opening a later cell is a plain space
    # (the escaper would write it as a reference, to keep a line start from indenting).
    parts = []
    for position, cell in enumerate(cells):
        space = " " if position and cell.text.startswith(" ") else ""
        trimmed = replace(cell, text=cell.text[1:]) if space else cell
        parts.append(space + _cell(trimmed, index))
    return "".join(parts)


def _table(header: tuple[str, ...], rows: list[str]) -> list[str]:
    return [
        "| " + " | ".join(text(h) for h in header) + " |",
        "|" + "---|" * len(header),
        *rows,
    ]


def _block(block: Block, index: dict[Proof, int]) -> list[str]:
    if isinstance(block, Heading):
        return [f"### {text(block.text)}"]
    if isinstance(block, Paragraph):
        return [_line(block.cells, index)]
    if isinstance(block, Bullets):
        return [f"- {_line(item, index)}" for item in block.items] or ["- none"]
    assert isinstance(block, Table)
    if not block.rows:
        return ["_none recorded_"]
    rows = ["| " + " | ".join(_cell(c, index) for c in row) + " |" for row in block.rows]
    return _table(block.header, rows)


def render(dossier: Dossier) -> str:
    """The whole dossier as markdown (the same bytes for the same refs)."""
    laid_out = sections(dossier)
    index = proof_index(dossier, laid_out)
    out = [f"# Dossier: {text(dossier.model)} {text(dossier.version)}", "", text(INTRO), ""]
    missing = missing_lines(dossier)
    if missing:
        out += ["**To be written by a person** (the dossier does not invent these):", ""]
        out += [f"- {text(line)}" for line in missing]
        out.append("")
    out += [f"{s.number}. [{text(s.title)}](#{s.anchor})" for s in laid_out]
    out.append("")
    for section in laid_out:
        out += [
            f'<a id="{section.anchor}"></a>',
            "",
            f"## {section.number}. {text(section.title)}",
            "",
        ]
        for block in section.blocks:
            out += [*_block(block, index), ""]
    out += ['<a id="proofs"></a>', "", "## Proofs", "", text(PROOF_HELP), ""]
    rows = [
        f'| <a id="p{n}"></a>P{n} | {text(p.kind)} | {code(p.value)} | {text(p.label)} | '
        f"{code(p.object)} | {_link(p.url)} |"
        for p, n in index.items()
    ]
    out += _table(("proof", "kind", "value", "where", "git object", "link"), rows)
    return "\n".join(out) + "\n"

"""The dossier as one self-contained HTML file: inline CSS, no script, no external
resource (no font, image or stylesheet is fetched), every value escaped with
:func:`html.escape`. Proof citations link to the proof table at the end of the page."""

from __future__ import annotations

import html
import re
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

if TYPE_CHECKING:
    from gitml.dossier.blocks import Block, Cell, Line
    from gitml.dossier.model import Dossier, Proof

# Line breaks, other control characters and bidirectional overrides (which would show
# the text in another order than it holds) become spaces.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")

STYLE = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;
max-width:72rem;padding:0 1rem;color:#1f2328;background:#fff}
h1{font-size:1.7rem}h2{font-size:1.3rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem;
margin-top:2rem}h3{font-size:1.05rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}code{font:.85em ui-monospace,SFMono-Regular,Menlo,monospace;
overflow-wrap:break-word}a.proof{font-size:.75em;vertical-align:super;margin-left:.2em}
.missing{background:#fff8c5;border:1px solid #d4a72c;padding:.5rem 1rem}
""".strip()


def _e(value: object) -> str:
    return html.escape(_CONTROL.sub(" ", str(value)), quote=True)


def _cell(cell: Cell, index: dict[Proof, int]) -> str:
    shown = f"<code>{_e(cell.text)}</code>" if cell.code else _e(cell.text)
    if cell.proof is not None:
        number = index[cell.proof]
        shown += f'<a class="proof" href="#p{number}">P{number}</a>'
    return shown


def _line(cells: Line, index: dict[Proof, int]) -> str:
    return "".join(_cell(c, index) for c in cells)


def _table(header: tuple[str, ...], rows: list[str]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    return (
        f"<table><thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(rows) + "\n</tbody></table>"
    )


def _block(block: Block, index: dict[Proof, int]) -> str:
    if isinstance(block, Heading):
        return f"<h3>{_e(block.text)}</h3>"
    if isinstance(block, Paragraph):
        return f"<p>{_line(block.cells, index)}</p>"
    if isinstance(block, Bullets):
        items = "".join(f"<li>{_line(item, index)}</li>" for item in block.items)
        return f"<ul>{items or '<li>none</li>'}</ul>"
    assert isinstance(block, Table)
    if not block.rows:
        return "<p><em>none recorded</em></p>"
    rows = [
        "<tr>" + "".join(f"<td>{_cell(c, index)}</td>" for c in row) + "</tr>" for row in block.rows
    ]
    return _table(block.header, rows)


def _link(url: str | None) -> str:
    if url is None:
        return "-"
    if safe_url(url):
        return f'<a href="{_e(url)}" rel="noreferrer">open</a>'
    return f"<code>{_e(url)}</code>"


def render(dossier: Dossier) -> str:
    """The whole dossier as one HTML page (the same bytes for the same refs)."""
    laid_out = sections(dossier)
    index = proof_index(dossier, laid_out)
    title = f"Dossier: {dossier.model} {dossier.version}"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        # No request of any kind: the page is read from a file, offline, by an auditor.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{_e(title)}</h1>",
        f"<p>{_e(INTRO)}</p>",
    ]
    missing = missing_lines(dossier)
    if missing:
        items = "".join(f"<li>{_e(line)}</li>" for line in missing)
        out.append(
            '<div class="missing"><p><strong>To be written by a person</strong> (the dossier '
            f"does not invent these):</p><ul>{items}</ul></div>"
        )
    contents = "".join(f'<li><a href="#{s.anchor}">{_e(s.title)}</a></li>' for s in laid_out)
    out.append(f"<nav><ol>{contents}</ol></nav>")
    for section in laid_out:
        out.append(f'<section id="{section.anchor}">')
        out.append(f"<h2>{section.number}. {_e(section.title)}</h2>")
        out += [_block(block, index) for block in section.blocks]
        out.append("</section>")
    rows = [
        f'<tr id="p{n}"><td>P{n}</td><td>{_e(p.kind)}</td><td><code>{_e(p.value)}</code></td>'
        f"<td>{_e(p.label)}</td><td><code>{_e(p.object)}</code></td><td>{_link(p.url)}</td></tr>"
        for p, n in index.items()
    ]
    out.append('<section id="proofs">')
    out.append("<h2>Proofs</h2>")
    out.append(f"<p>{_e(PROOF_HELP)}</p>")
    out.append(_table(("proof", "kind", "value", "where", "git object", "link"), rows))
    out += ["</section>", "</body>", "</html>"]
    return "\n".join(out) + "\n"

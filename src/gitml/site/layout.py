"""The page shell every site page shares: inline CSS, a Content-Security-Policy that
forbids every request, and the one inline script (table sorting), allowed by its hash.

The pages are opened from ``file://`` or GitHub Pages by people browsing the registry:
nothing is fetched, every link is relative, and every registry string (model names,
authors, descriptions come from commits anyone could push) is escaped here.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re

# Line breaks, other control characters and bidirectional overrides (which would show
# the text in another order than it holds) become spaces, as in the dossier.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")

STYLE = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto 3rem;
max-width:76rem;padding:0 1rem;color:#1f2328;background:#fff}
header{border-bottom:1px solid #d0d7de;padding:.6rem 0;margin-bottom:1rem}
header a{margin-right:1rem}a{color:#0550ae}
h1{font-size:1.6rem}h2{font-size:1.25rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem;
margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}th button{font:inherit;font-weight:bold;border:0;background:none;
padding:0;cursor:pointer;color:#0550ae}
code{font:.85em ui-monospace,SFMono-Regular,Menlo,monospace;overflow-wrap:anywhere}
.note{background:#fff8c5;border:1px solid #d4a72c;padding:.4rem .8rem}
figure{margin:1rem 0}figcaption{font-size:.85rem;color:#57606a}
svg text{font:11px system-ui,sans-serif;fill:#1f2328}
nav.pages a{margin-right:.5rem}
""".strip()

# Optional: a table marked ``data-sortable`` gets header buttons; without the script the
# table reads the same, in the order it was written.
SORT_SCRIPT = (
    "document.querySelectorAll('table[data-sortable]').forEach(function(t){"
    "t.querySelectorAll('thead th').forEach(function(th,i){"
    "var b=document.createElement('button');b.type='button';b.textContent=th.textContent;"
    "th.textContent='';th.appendChild(b);th.setAttribute('aria-sort','none');"
    "b.addEventListener('click',function(){"
    "var up=th.getAttribute('aria-sort')!=='ascending';"
    "t.querySelectorAll('thead th').forEach(function(o){o.setAttribute('aria-sort','none');});"
    "th.setAttribute('aria-sort',up?'ascending':'descending');"
    "var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);"
    "function key(r){var c=r.cells[i];return c.getAttribute('data-key')||c.textContent;}"
    "rows.sort(function(a,b){var x=key(a),y=key(b),p=parseFloat(x),q=parseFloat(y);"
    "var d=(!isNaN(p)&&!isNaN(q)&&String(p)===x&&String(q)===y)?p-q:"
    "x.localeCompare(y,undefined,{numeric:true});return up?d:-d;});"
    "rows.forEach(function(r){body.appendChild(r);});});});});"
)

SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(SORT_SCRIPT.encode()).digest()).decode()

# No request of any kind: no font, image, stylesheet, frame or connection; only the
# inline style and the sorting script above (by its hash) run.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    f"script-src '{SCRIPT_HASH}'; base-uri 'none'; form-action 'none'"
)


def e(value: object) -> str:
    """``value`` as text safe in HTML content and attribute values."""
    return html.escape(_CONTROL.sub(" ", str(value)), quote=True)


def page(title: str, body: str, *, home: str, sortable: bool = False) -> str:
    """A whole page: ``home`` is the relative path to the site root (``""`` or ``"../"``)."""
    script = f"<script>{SORT_SCRIPT}</script>" if sortable else ""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{e(title)}</title>",
            f"<style>{STYLE}</style>",
            "</head>",
            "<body>",
            f'<header><nav aria-label="site"><a href="{home}index.html">Models</a>'
            f'<a href="{home}insights.html">Insights</a></nav></header>',
            "<main>",
            f"<h1>{e(title)}</h1>",
            body,
            "</main>",
            script,
            "</body>",
            "</html>",
            "",
        ]
    )


def table(
    header: tuple[str, ...], rows: list[list[str]], *, sortable: bool = False, caption: str = ""
) -> str:
    """A table of already-escaped cells (a cell may carry ``data-key`` via :func:`keyed`)."""
    if not rows:
        return "<p><em>none recorded</em></p>"
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in header)
    body = "\n".join(
        "<tr>" + "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in row) + "</tr>"
        for row in rows
    )
    attr = " data-sortable" if sortable else ""
    cap = f"<caption>{e(caption)}</caption>" if caption else ""
    return f"<table{attr}>{cap}<thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"


def keyed(shown: str, key: object) -> str:
    """A cell showing ``shown`` (escaped HTML) that sorts by ``key``."""
    return f'<td data-key="{e(key)}">{shown}</td>'

"""Making untrusted text safe inside GitHub-flavoured markdown.

Metric and param names, branch names and values come from pull requests: they must not
break a table, open a code span, inject HTML or notify people. Everything is escaped
here, once, at render time.
"""

from __future__ import annotations

import re

# Characters with markdown meaning that are escaped with a backslash.
_MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]~|]")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def text(value: object) -> str:
    """Escape ``value`` for a markdown table cell or a line of prose.

    Newlines and control characters become spaces; ``|``, backticks, emphasis and link
    brackets are backslash-escaped; URLs are broken so none autolinks; ``&``, ``<``,
    ``>`` and ``"`` become entities; ``@`` becomes ``&#64;`` so an ``@mention`` renders
    as text and notifies no one.

    >>> text("a|b <b>@team</b>")
    'a\\\\|b &lt;b&gt;&#64;team&lt;/b&gt;'
    """
    raw = _CONTROL.sub(" ", str(value))
    escaped = []
    for char in raw:
        if char in _HTML:
            escaped.append(_HTML[char])
        elif char == "@":
            escaped.append("&#64;")
        elif _MARKDOWN_SPECIAL.fullmatch(char):
            escaped.append("\\" + char)
        else:
            escaped.append(char)
    # GitHub autolinks URLs and www. names: break them so no link can be planted.
    return "".join(escaped).replace("://", ":&#47;&#47;").replace("www.", "www&#46;")


def code(value: object) -> str:
    """``value`` shown as inline code that its own backticks cannot close."""
    raw = _CONTROL.sub(" ", str(value))
    # Inline code cannot contain escapes; HTML <code> with entities is robust in tables.
    inner = "".join(_HTML.get(c, "&#64;" if c == "@" else "&#124;" if c == "|" else c) for c in raw)
    inner = inner.replace("`", "&#96;")
    return f"<code>{inner}</code>"


def mermaid_label(value: object, limit: int = 60) -> str:
    """Text for a quoted Mermaid label: no quotes, brackets or newlines, bounded length."""
    raw = _CONTROL.sub(" ", str(value))
    safe = re.sub(r"[^A-Za-z0-9 ._:/+=%-]", "_", raw)
    return safe[:limit]

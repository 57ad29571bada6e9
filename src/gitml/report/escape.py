"""Making untrusted text inert inside GitHub-flavoured markdown: gitml's one escaper.

Metric, param, model and feature names, category values, branch names, paths and hashes
come from the pull request under review. Whatever they hold, the comment must show them
as plain text: no link, image, emphasis, raw HTML, math, table cell boundary, mention or
issue reference. Everything reaches the markdown through this module, once, at render
time; the tests check the result by parsing it with a real markdown renderer
(tests/test_report_inert.py).

GitHub reads a comment in two passes, and both are covered:

1. The markdown parser, which reads the *source*. Characters with inline meaning are
   escaped (backslash or numeric reference, by context, below); ``&``, ``<``, ``>``, ``"``
   become entities, so no raw HTML and no entity that decodes to markup survives.
2. Filters that run on the *rendered text*, after entities are decoded: @mentions,
   ``#123`` / ``owner/repo#123`` / ``GH-123`` references, URL, ``www.`` and e-mail
   autolinks, and math (``$…$``). An entity alone does not stop these (``&#64;team``
   renders as the text ``@team``, which then notifies the team), so the trigger is
   split: a ZERO WIDTH JOINER (U+200D, invisible, no line break) follows every ``@`` and
   ``#``, sits inside ``//`` and ``www.`` (and after a value ending in ``www``, which a
   sentence's full stop may follow) and after ``GH-`` before a digit. Every ``$``
   is its own ``<span>``, as GitHub documents for a literal dollar, so no two dollars of
   the text can pair into a formula. gitml's own words next to a value never end in
   ``@``, ``#``, ``/`` or ``GH`` nor start with ``/`` or a digit, so no trigger forms
   across the edge of a value either.

The two contexts:

* :func:`text` — prose and table cells. Markdown punctuation is backslash-escaped
  (``roc\\_auc``), which keeps the source readable and renders as the name.
* :func:`code` — a name in ``<code>``. GitHub renders markdown *inside* an HTML
  ``<code>`` element (unlike a backtick span), and the same ``<code>`` also sits in a raw
  HTML block (the ``<summary>`` of a folded section), where backslashes are shown as they
  are. So punctuation becomes numeric references, which mean the same in both places and
  are never markdown syntax. A ``_`` between two letters or digits is left as it is: by
  CommonMark's flanking rules it can neither open nor close emphasis, and names such as
  ``train.learning_rate`` stay as readable in the source as on the page. (A backtick span
  would be inert by itself, but a ``|`` inside one needs an escape that only works in a
  table cell, so the name's context would leak into the escaper.)
"""

from __future__ import annotations

import re

# Characters that are replaced by a space: line breaks (a table row or a list item must
# stay one line), other control characters, and bidirectional overrides, which make the
# page show text in another order than the one it holds.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")
# Markdown punctuation with an inline meaning: escape, code span, emphasis and bold,
# links, images, footnotes and task boxes (brackets), strikethrough, table cells.
_PUNCTUATION = frozenset("\\`*_[]~|")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
# Invisible, joins rather than breaks, and is not a letter, digit or space: GitHub's
# mention, reference and autolink patterns do not match across it.
_JOINER = "&#8205;"
# A dollar alone in an element: it cannot pair with another into ``$…$`` or ``$$…$$``.
_DOLLAR = "<span>&#36;</span>"
# A list item or thematic break at a line's start: ``- x``, ``+ x``, ``---``, ``1. x``.
_BLOCK_MARKER = re.compile(r"[-+](?=[ -]|$)|[0-9]{1,9}[.)](?= |$)")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _intraword_run(raw: str, start: int) -> int:
    """The length of the ``_`` run at ``start`` if a letter or digit is on both sides, or 0.

    Such a run is both left- and right-flanking, so CommonMark lets it neither open nor
    close emphasis: ``learning_rate`` needs no escape.
    """
    end = start
    while end < len(raw) and raw[end] == "_":
        end += 1
    inside = start > 0 and raw[start - 1] in _ALNUM and end < len(raw) and raw[end] in _ALNUM
    return end - start if inside else 0


def _line_start(raw: str) -> tuple[str, int]:
    """The escaped start of ``raw`` when it begins a line, and how many characters it took.

    Text follows other text on its line wherever gitml puts it, but a value at a line's
    start (a note after ``> ``) must not open a block: leading spaces become numeric
    references (four would start a code block) and a list marker (``-``, ``+``, ``1.``, ``1)``)
    is escaped.
    """
    indent = len(raw) - len(raw.lstrip(" "))
    marker = _BLOCK_MARKER.match(raw, indent)
    if marker is None:
        return "&#32;" * indent, indent
    found = marker.group()
    return "&#32;" * indent + found[:-1] + "\\" + found[-1], marker.end()


def _inert(value: object, *, in_code: bool) -> str:
    raw = _CONTROL.sub(" ", str(value))
    out: list[str] = []
    index = 0
    if not in_code:
        start, index = _line_start(raw)
        out.append(start)
    while index < len(raw):
        char = raw[index]
        if char in _HTML:
            out.append(_HTML[char])
        elif char == "@":
            out.append("&#64;" + _JOINER)
        elif char == "#":
            out.append("&#35;" + _JOINER)
        elif char == "$":
            out.append(_DOLLAR)
        elif char == "_" and in_code and (run := _intraword_run(raw, index)):
            out.append("_" * run)
            index += run
            continue
        elif char in _PUNCTUATION:
            out.append(f"&#{ord(char)};" if in_code else "\\" + char)
        elif char == "." and raw[max(index - 3, 0) : index].lower() == "www":
            out.append(_JOINER + ".")  # www.example.org
        elif char == "/" and raw[index + 1 : index + 2] == "/":
            out.append("/" + _JOINER)  # https://, ftp://, //host
        elif (
            char == "-"
            and raw[max(index - 2, 0) : index].lower() == "gh"
            and raw[index + 1 : index + 2].isdigit()
        ):
            out.append("-" + _JOINER)  # GH-123
        else:
            out.append(char)
        index += 1
    if raw[-3:].lower() == "www":
        out.append(_JOINER)  # the sentence around the value may go on with a "."
    return "".join(out)


def text(value: object) -> str:
    """Escape ``value`` for a markdown table cell or prose, a line's start included.

    Line breaks and control characters become spaces; markdown punctuation is
    backslash-escaped; ``&<>"`` become entities; ``@``, ``#``, ``//``, ``www.`` and
    ``GH-1`` are split by an invisible joiner and each ``$`` is wrapped in a
    ``<span>`` (module docstring); leading spaces and a leading list marker are escaped.

    >>> text("a|b <b>@team</b>")
    'a\\\\|b &lt;b&gt;&#64;&#8205;team&lt;/b&gt;'
    >>> text("roc_auc")
    'roc\\\\_auc'
    """
    return _inert(value, in_code=False)


def code(value: object) -> str:
    """``value`` as an HTML ``<code>`` element, inert in prose, table cells and raw HTML.

    >>> code("train.learning_rate")
    '<code>train.learning_rate</code>'
    >>> code("[x](https://e.org) *b* _c_")
    '<code>&#91;x&#93;(https:/&#8205;/e.org) &#42;b&#42; &#95;c&#95;</code>'
    """
    return f"<code>{_inert(value, in_code=True)}</code>"


def mermaid_label(value: object, limit: int = 60) -> str:
    """Text for a quoted Mermaid label: no quotes, brackets or newlines, bounded length.

    A Mermaid block is a fenced code block to the markdown parser, so markdown escaping
    does not apply; instead only characters without meaning in a quoted label are kept.
    """
    raw = _CONTROL.sub(" ", str(value))
    safe = re.sub(r"[^A-Za-z0-9 ._:/+=%-]", "_", raw)
    return safe[:limit]

"""Untrusted text cannot break the report's tables or inject markup (property-tested)."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from gitml.report import tables
from gitml.report.escape import code, mermaid_label, text
from gitml.report.markdown import render
from gitml.report.model import Change, MetricDiff, ModelReport, ModelStatus, Report, Side

DANGEROUS = "|`*_[]~<>@\n\r\\&\"'!#:/.w"
untrusted = st.text(alphabet=st.sampled_from(DANGEROUS) | st.characters(), max_size=60)


JOINER = "\u200d"
DOLLAR = "<span>&#36;</span>"
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")


def _unescaped(rendered: str) -> str:
    """Characters outside backslash-escape pairs (what markdown would interpret)."""
    return re.sub(r"\\.", "", rendered.replace(DOLLAR, ""))


def _decode(rendered: str) -> str:
    """The text a reader sees: escapes and references resolved, the inserted joiners gone."""
    plain = html.unescape(re.sub(r"\\(.)", r"\1", rendered.replace(DOLLAR, "&#36;")))
    return plain.replace(JOINER, "")


def _normalised(value: str) -> str:
    return CONTROL.sub(" ", value).replace(JOINER, "")


@given(untrusted)
def test_text_is_inert_and_lossless(value: str) -> None:
    escaped = text(value)
    bare = re.sub(r"&#[0-9]+;", "", _unescaped(escaped))  # numeric references are text
    for char in "|`*_[]~<>@#$\n\r":
        assert char not in bare, (value, escaped)
    assert "://" not in escaped
    assert "www." not in escaped.lower()
    assert _decode(escaped) == _normalised(value)


@given(untrusted)
def test_code_span_cannot_be_closed(value: str) -> None:
    rendered = code(value)
    inner = rendered.removeprefix("<code>").removesuffix("</code>").replace(DOLLAR, "")
    for char in "<>`|@$\\*[]~\n\r":
        assert char not in inner
    # The only "_" left are inside words, where they cannot start or end emphasis.
    for run in re.finditer(r"_+", inner):
        assert re.fullmatch(r"[A-Za-z0-9]_+[A-Za-z0-9]", inner[run.start() - 1 : run.end() + 1])
    assert _decode(rendered.removeprefix("<code>").removesuffix("</code>")) == _normalised(value)


@given(untrusted)
def test_mermaid_label_has_no_syntax(value: str) -> None:
    assert re.fullmatch(r"[A-Za-z0-9 ._:/+=%-]*", mermaid_label(value))


def _report(names: list[str], values: list[str]) -> Report:
    rows = tuple(
        MetricDiff(name, value, value + "x", Change.CHANGED)
        for name, value in zip(names, values, strict=False)
    )
    model = ModelReport("m", ModelStatus.CHANGED, rows, (), "a" * 32, "b" * 32)
    return Report(
        Side("main", "c" * 40, "main|`@x"), Side("h", None, "h<b>"), "main", (model,), (), ()
    )


@settings(max_examples=50)
@given(st.lists(st.tuples(untrusted, untrusted), min_size=1, max_size=8))
def test_metric_tables_keep_their_shape(rows: list[tuple[str, str]]) -> None:
    markdown = render(_report([n for n, _ in rows], [v for _, v in rows]))
    lines = markdown.splitlines()
    start = lines.index("| Metric | Base | Head | Change | Relative |  |")
    table = lines[start : start + 2 + len(rows)]
    for line in table:
        assert _unescaped(line).count("|") == 7, line
    assert "@" not in _unescaped(markdown.replace("&#64;", ""))
    assert "<b>" not in markdown


@settings(max_examples=50)
@given(st.lists(st.lists(untrusted, min_size=2, max_size=2), min_size=1, max_size=5))
def test_plain_markdown_tables_escape_every_cell(rows: list[list[str]]) -> None:
    lines = tables.markdown(["name|", "value"], rows).splitlines()
    assert lines[:2] == ["| name\\| | value |", "|:--|:--|"]
    assert len(lines) == 2 + len(rows)
    for line in lines:
        assert _unescaped(line).count("|") == 3, line


def test_one_table_writer_for_escaped_cells_with_alignment() -> None:
    header, rows = ["Metric", "Base"], [[code("auc"), "0.81"], [text("a|b"), "1"]]
    assert tables.markdown_cells(header, rows, ("left", "right")) == (
        "| Metric | Base |\n|:--|--:|\n| <code>auc</code> | 0.81 |\n| a\\|b | 1 |"
    )
    # Without alignments every column is left-aligned, as in `--format md` tables.
    assert tables.markdown_cells(header, rows).splitlines()[1] == "|:--|:--|"

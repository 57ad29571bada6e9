"""Untrusted text is inert: the rendered markdown, parsed by a real markdown renderer.

Names, labels, paths and values from a pull request go through :mod:`gitml.report.escape`.
These tests do not look for escape characters in the output: they parse it with
markdown-it-py, configured like GitHub (CommonMark, raw HTML, tables, strikethrough, and
autolinks when linkify-it-py is installed), and walk the tokens:

* no link, autolink or image;
* no raw HTML but the exact tags gitml writes itself;
* no structure (emphasis, strikethrough, code span, list, table cell, block) that the
  same document with plain names does not have;
* no text, after entities are decoded, that GitHub's later passes would turn into a
  mention, an issue reference, an autolink or math.
"""

from __future__ import annotations

import dataclasses
import re
import string
from enum import Enum
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from gitml import api
from gitml.monitor.drift_report import DriftReport, FeatureDrift, Performance
from gitml.monitor.thresholds import DriftThresholds
from gitml.report.drift_render import render_markdown
from gitml.report.escape import code, text
from gitml.report.markdown import MARKER, render
from gitml.report.model import DossierLink, GateSummary, MetricDiff, ParamDiff
from tests.helpers import git, run
from tests.report_cases import (
    BASE,
    BASELINE_CONFIG,
    FAIRNESS_CONFIG,
    baseline,
    build_case,
    card,
    files,
    group,
    segments,
    write,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from markdown_it.token import Token

    from gitml.report.model import Report

JOINER = "\u200d"
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")
# The tags gitml writes around escaped text; untrusted text brings none of its own.
TAGS = frozenset({"code", "span", "sub", "details", "summary"})
INLINE_HTML = frozenset({f"<{tag}>" for tag in TAGS} | {f"</{tag}>" for tag in TAGS})
# What GitHub turns into a link or formula after the markdown is rendered, in text with
# entities decoded: mentions and e-mail addresses, #123 and owner/repo#123, GH-123, math,
# and GFM's autolinks (www. and scheme://; checked here whether or not linkify is there).
LIVE_TEXT = re.compile(
    r"@\w|#\d|(?i:gh-\d)|\$[^$]*\$|(?i:www\.)|(?i:[a-z][a-z0-9+.-]*://)",
)


def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    try:
        import linkify_it  # noqa: F401
    except ImportError:
        return md
    md.options["linkify"] = True
    md.enable("linkify")
    assert md.linkify is not None
    # GitHub links www. names, scheme:// URLs and e-mail addresses, not bare domains.
    md.linkify.set({"fuzzy_link": False})
    return md


MD = _renderer()


def _walk(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        yield from _walk(token.children or [])


class _HtmlBlock(HTMLParser):
    """A raw HTML block's tags and decoded text, as a browser would read them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.code: list[str] = []  # the decoded text of each <code> element
        self._in_code = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS or attrs:
            self.problems.append(f"raw HTML tag <{tag} {attrs}>")
        if tag == "code":
            self._in_code = True
            self.code.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag not in TAGS:
            self.problems.append(f"raw HTML end tag </{tag}>")
        if tag == "code":
            self._in_code = False

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f"raw HTML tag <{tag}/>")

    def handle_data(self, data: str) -> None:
        if found := LIVE_TEXT.search(data):
            self.problems.append(f"live text {found.group()!r} in HTML {data!r}")
        if self._in_code:
            self.code[-1] += data

    def handle_comment(self, data: str) -> None:
        if f"<!--{data}-->" != MARKER:
            self.problems.append(f"HTML comment {data!r}")

    def handle_decl(self, decl: str) -> None:
        self.problems.append(f"declaration {decl!r}")

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"processing instruction {data!r}")

    def unknown_decl(self, data: str) -> None:
        self.problems.append(f"declaration {data!r}")


def _html_block(content: str) -> _HtmlBlock:
    parser = _HtmlBlock()
    parser.feed(content)
    parser.close()
    return parser


def problems(markdown: str) -> list[str]:
    """Everything in ``markdown`` that is not plain text or gitml's own markup."""
    found = []
    for token in _walk(MD.parse(markdown)):
        if token.type in ("link_open", "image"):
            found.append(f"{token.type} {token.attrs} ({token.markup or 'inline'})")
        elif token.type == "html_inline" and token.content not in INLINE_HTML:
            found.append(f"raw HTML {token.content!r}")
        elif token.type == "html_block":
            found += _html_block(token.content).problems
        elif token.type == "text" and (live := LIVE_TEXT.search(token.content)):
            found.append(f"live text {live.group()!r} in {token.content!r}")
        elif token.type == "fence" and token.info != "mermaid":
            found.append(f"code block {token.info!r}")
    return found


def shape(markdown: str) -> list[str]:
    """The document's structure: every token but text (and a ``$``'s own ``<span>``)."""
    return [
        token.content if token.type == "html_inline" else f"{token.type}:{token.tag}"
        for token in _walk(MD.parse(markdown))
        if token.type not in ("text", "text_special", "softbreak")
        and not (token.type == "html_inline" and token.content in ("<span>", "</span>"))
    ]


def assert_inert(markdown: str, plain: str) -> None:
    """``markdown`` has no live markup, and the structure of the same with plain names."""
    assert problems(markdown) == [], markdown
    assert shape(markdown) == shape(plain), markdown


def _shown(value: str) -> str:
    """What a reader should see: the value, line breaks and control characters as spaces."""
    return CONTROL.sub(" ", value).replace(JOINER, "")


def _cells(markdown: str) -> list[list[str]]:
    """The text of each body cell of the first table, entities decoded, joiners dropped."""
    rows: list[list[str]] = []
    tokens = MD.parse(markdown)
    for index, token in enumerate(tokens):
        if token.type == "tr_open" and tokens[index - 1].type != "thead_open":
            rows.append([])
        elif token.type == "inline" and rows and tokens[index - 1].type == "td_open":
            parts = [c.content for c in token.children or [] if c.type == "text"]
            rows[-1].append("".join(parts).replace(JOINER, ""))
        elif token.type == "table_close":
            break
    return rows


# --- the escaper, property-tested ----------------------------------------------------

# Markdown and GitHub syntax in pieces, so that generated text meets whole constructs
# (a link, a URL, a reference) as well as single metacharacters.
FRAGMENTS = [
    *"[]()<>!*_~`|$#@:/\\&;.-=+^\n\r\t ",
    *["www.", "WWW.", "http://", "https://evil.example/x", "//host", "ftp://h", "mailto:"],
    *["a@b.co", "@octocat", "@org/team", "#12", "owner/repo#3", "GH-4", "gh-5", "user@1a2b3c4"],
    *["$x$", "$$", "$`y`$", "\\$", "[^1]", "[ ]", "[x]", "](https://evil.example)", "![i]("],
    *["<b>", "</code>", "<span>", "<img src=x>", "<!--", "-->", "<https://e.example>"],
    *["&#64;", "&#35;1", "&lt;", "&amp;", "&#x5b;", "&quot;", "**", "__", "~~", "\\|"],
    *["- ", "1. ", "2) ", "> ", "    ", "---", "===", "```", "~~~", "| --- |", ":+1:"],
    *["javascript:alert(1)", "\u200d", "\u202e", "\u2028", "\x00", "\u00a0", "\ufeff"],
]
letters = st.sampled_from(string.ascii_letters + string.digits)
untrusted = st.lists(
    st.sampled_from(FRAGMENTS) | letters | st.characters(codec="utf-8"), max_size=25
).map("".join)


def _document(value: str) -> str:
    """``value`` in every place gitml puts untrusted text: cells, prose, headings, HTML."""
    return "\n\n".join(
        [
            f"| Name | Code | Value |\n|:--|:--|--:|\n| {text(value)} | {code(value)} | 1 |",
            f"### ⚪ {text(value)}: changed",
            f"> {text(value)} (a note)",
            f"- ❌ {text(value)}",
            f"Metric {text(value)} and parameter {code(value)} of {text(value)}.",
            f"<details><summary>Curves (head {code(value)})</summary>\n\nbody\n\n</details>",
            f"<sub>pipeline: {text(value)} · reproduce: {code(value)}</sub>",
        ]
    )


@settings(max_examples=400, deadline=None)
@given(untrusted)
def test_escaped_text_is_inert_everywhere(value: str) -> None:
    markdown = _document(value)
    assert_inert(markdown, _document("roc_auc"))
    tokens = list(_walk(MD.parse(markdown)))
    assert not {"strong_open", "em_open", "s_open", "code_inline"} & {t.type for t in tokens}
    # The table keeps its three columns, and each cell shows the value as it is.
    [[name, shown_code, number]] = _cells(markdown)
    # (A table cell's outer spaces are not part of its text, as in GFM.)
    assert (name.strip(), shown_code, number) == (_shown(value).strip(), _shown(value), "1")
    # So does the <code> in the raw HTML of a folded section's summary.
    [block] = [t for t in tokens if t.type == "html_block" and "<summary>" in t.content]
    assert [c.replace(JOINER, "") for c in _html_block(block.content).code] == [_shown(value)]


@pytest.mark.parametrize(
    ("value", "token_type"),
    [
        ("[x](https://evil.example)", "link_open"),
        ("![i](https://evil.example/i.png)", "image"),
        ("<https://evil.example>", "link_open"),
        ("**bold** __bold__", "strong_open"),
        ("*em* _em_", "em_open"),
        ("~~gone~~ ~gone~", "s_open"),
        ("`tick`", "code_inline"),
        ("<b>x</b>", "html_inline"),
    ],
)
def test_the_checks_see_what_they_look_for(value: str, token_type: str) -> None:
    """The parser-based check is not vacuous: each hostile value, unescaped, is caught."""

    def document(cell: str, inline: str) -> str:
        return f"| {cell} | x |\n|:--|:--|\n| {cell} | x |\n\nMetric {inline}."

    raw = document(value, f"<code>{value}</code>")
    assert token_type in {t.type for t in _walk(MD.parse(raw))}
    assert problems(raw) or shape(raw) != shape(document("plain", "<code>plain</code>"))
    assert_inert(document(text(value), code(value)), document(text("plain"), code("plain")))


@pytest.mark.parametrize(
    "value",
    [
        *["@octocat", "a@b.co", "#12", "owner/repo#3", "GH-4", "$x^2$", "$$y$$"],
        *["www.evil.example", "https://evil.example", "&#64;team", "&#35;12"],
    ],
)
def test_references_render_as_text_github_does_not_link(value: str) -> None:
    """After entities are decoded the text still holds no trigger (``&#64;x`` would)."""
    assert problems(f"Metric {value}.") != []  # the check sees the raw value
    for markdown in (f"Metric {text(value)}.", f"Metric {code(value)}."):
        assert problems(markdown) == [], markdown
    # An entity alone is not enough: it decodes back to the trigger before GitHub looks.
    if value[0] in "@#":
        assert problems(f"Metric &#{ord(value[0])};{value[1:]}.") != []


def test_ordinary_names_stay_readable() -> None:
    assert text("roc_auc") == "roc\\_auc"
    assert code("train.learning_rate") == "<code>train.learning_rate</code>"
    assert code("models/credit.baseline.json") == "<code>models/credit.baseline.json</code>"
    assert code("a && b") == "<code>a &amp;&amp; b</code>"
    assert text("0.81") == "0.81"
    assert text("-0.5") == "-0.5"
    assert text("gh-pages") == "gh-pages"


# --- the pull-request report -----------------------------------------------------------

HOSTILE = [
    "[x](https://evil.example/a) ![i](https://evil.example/i.png)",
    "**bold** _em_ ~~gone~~ <b>raw</b> &lt;b&gt; &#64;team",
    "@octocat @org/team owner/repo#1 #12 GH-3 a@b.co www.evil.example",
    "$\\sqrt{2}$ $$x$$ [^1] [ ] `tick` a|b | c",
    "<img src=x onerror=alert(1)> <!-- c --> <details>",
    "- 1. > # ``` x\ny\rz",
]


def _renamed(report: Report, names: Callable[[int], str]) -> Report:
    """``report`` with every free-text string replaced, consistently, by ``names(i)``.

    Enum values and the few strings that select a label (a level, a kind, a direction)
    are kept; everything else gitml shows (names, labels, paths, hashes, values, notes,
    gate messages) is replaced.
    """
    keys = {"kind", "level", "direction"}
    seen: dict[str, str] = {}

    def rename(value: Any) -> Any:
        if isinstance(value, Enum) or value is None:
            return value
        if isinstance(value, str):
            return seen.setdefault(value, names(len(seen)))
        if isinstance(value, tuple):
            return tuple(rename(item) for item in value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changed = {
                f.name: rename(getattr(value, f.name))
                for f in dataclasses.fields(value)
                if f.name not in keys
            }
            return dataclasses.replace(value, **changed)
        return value

    renamed: Report = rename(report)
    return renamed


@pytest.fixture(scope="module")
def full_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """A report with every section: metrics, a moved baseline, data, curves, params, gate,
    fairness (a widened gap, a group new on the head), explanations (a feature new in the
    top three) and a promotion's dossier link."""
    report = api.report("main", "feature", root=_case(tmp_path_factory, "baseline-moved"))
    params = api.report("main", "feature", root=_case(tmp_path_factory, "params-added-removed"))
    governance = api.report("main", "feature", root=_case(tmp_path_factory, "fairness"))
    [model] = report.models
    [explained] = governance.models
    assert explained.fairness is not None
    assert explained.fairness.widened
    assert explained.importance is not None
    assert explained.importance.entered_top
    model = dataclasses.replace(
        model,
        notes=("first note", "second note"),
        same_rows=model.metrics[:2],
        same_rows_count=500,
        metrics=(*model.metrics, MetricDiff("label", "old", "new", model.metrics[0].change)),
        fairness=dataclasses.replace(explained.fairness, notes=("a fairness note",)),
        importance=dataclasses.replace(explained.importance, notes=("an importance note",)),
        # As read back from a JSON report (a claim: shown as text, whatever it holds).
        dossier=DossierLink("v1.2.0", "https://ci.example/runs/1", ("Fairness",), False),
    )
    return dataclasses.replace(
        report,
        models=(model,),
        params=(*params.params, ParamDiff("train.kind", "lr", "hgb", params.params[0].change)),
        gate=GateSummary("failed", "main", ("credit: roc_auc below 0.8", "other")),
        pipeline="ran",
    )


def _case(factory: pytest.TempPathFactory, name: str) -> Path:
    repo = factory.mktemp("inert") / name
    build_case(repo, name)
    return repo


def test_full_report_with_hostile_names(full_report: Report) -> None:
    plain = render(_renamed(full_report, lambda i: f"name{i}"))
    hostile = render(_renamed(full_report, lambda i: HOSTILE[i % len(HOSTILE)]))
    assert "<details><summary>Curves" in hostile  # every section is there
    assert "<details><summary>Fairness by segment" in hostile
    assert "🚩 new in the top 3" in hostile
    assert "**Dossier**" in hostile
    assert_inert(hostile, plain)
    # A link this run read from a registration record is a link only if it is a plain
    # https URL: a hostile one is text, as any other.
    [model] = full_report.models
    assert model.dossier is not None
    verified = dataclasses.replace(
        full_report,
        models=(
            dataclasses.replace(model, dossier=dataclasses.replace(model.dossier, verified=True)),
        ),
    )
    plain = render(_renamed(verified, lambda i: f"name{i}"))
    hostile = render(_renamed(verified, lambda i: HOSTILE[i % len(HOSTILE)]))
    assert_inert(hostile, plain)


@settings(max_examples=60, deadline=None)
@given(st.lists(untrusted.filter(str.strip), min_size=1, max_size=12))
def test_full_report_with_generated_names(full_report: Report, names: list[str]) -> None:
    plain = render(_renamed(full_report, lambda i: f"name{i}"))
    hostile = render(_renamed(full_report, lambda i: names[i % len(names)]))
    assert_inert(hostile, plain)


def _build(repo: Path, base: dict[str, str], head: dict[str, str]) -> None:
    """Commit ``base`` on ``main`` and ``head`` on ``feature`` (as report_cases does)."""
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    for branch, content in (("main", base), ("feature", head)):
        if branch != "main":
            git(repo, "checkout", "-q", "-b", branch)
        write(repo, content)
        git(repo, "add", "-A")
        run("git", "commit", "-q", "--allow-empty", "-m", branch, cwd=repo)


def _named_case(
    model: str, metric: str, param: str, category: str
) -> tuple[dict[str, str], dict[str, str]]:
    """The baseline-moved case with the given model, metric, param and category names."""
    moved: dict[str, Any] = BASELINE_CONFIG
    config = {
        "models": {model: moved["models"]["credit"]},
        "metrics": {**moved["metrics"], metric: "higher"},
    }
    params = {"train": {"model": "hgb", param: 0.06}}
    regions = {"central": 0.5, "north": 0.3, category: 0.2}
    head_baseline = baseline(2000, income=44_000.0, regions=regions, score=0.16, present=0.85)
    head_baseline["model"] = model
    base_baseline = baseline(1000)
    base_baseline["model"] = model
    base = files({**BASE, metric: 0.5}, config=config, params=params, baseline=base_baseline)
    head = files(
        {**BASE, "roc_auc": 0.819, metric: 0.7},
        md5="b" * 32,
        data=("e" * 32, 2_940_000, 2),
        config=config,
        params={"train": {"model": "hgb", param: 0.1}},
        baseline=head_baseline,
    )
    return base, head


def test_report_from_a_repository_with_hostile_names(tmp_path: Path) -> None:
    """Names as a pull request writes them: metrics JSON, params.yaml, baseline, gitml.yaml."""
    rendered = []
    for label, names in (
        ("plain", ("credit", "recall", "max_depth", "west")),
        # A model name may hold lower-case letters, digits and dashes: GH-12 is a reference.
        ("hostile", ("gh-12", HOSTILE[2], HOSTILE[0], HOSTILE[1] + " " + HOSTILE[3])),
    ):
        repo = tmp_path / label
        _build(repo, *_named_case(*names))
        rendered.append(render(api.report("main", "feature", root=repo)))
    plain, hostile = rendered
    assert "octocat" in hostile  # the hostile metric is shown
    assert_inert(hostile, plain)


def _fairness_case(groups: list[str], features: list[str]) -> tuple[dict[str, str], ...]:
    """The fairness case with the given group names (region) and feature names."""

    def side(gaps: tuple[float, float, float], shift: float, order: list[int]) -> dict[str, str]:
        regions = {
            name: group(1000 + 10 * i, 100, (0.2 - shift * i, 0.6, 0.1, 0.8 if i else None, 0.01))
            for i, name in enumerate(groups)
        }
        ranking = [(features[i], 0.06 - 0.01 * rank) for rank, i in enumerate(order)]
        extra = {
            "metrics/credit_segments.json": segments(regions, gaps),
            "models/credit.card.yaml": card(ranking),
        }
        return files(BASE, config=FAIRNESS_CONFIG, extra=extra, md5=f"{len(order)}" * 32)

    base = side((0.03, 0.85, 0.06), 0.0, [0, 1, 2, 3, 4, 5])
    head = side((0.09, 0.84, 0.07), 0.05, [0, 4, 1, 2, 5])
    head = {**head, "dvc.lock": files(BASE, md5="b" * 32)["dvc.lock"]}
    return base, head


def test_fairness_and_explanations_from_a_repository_with_hostile_names(tmp_path: Path) -> None:
    """Group names as a segment report writes them, feature names as a card does."""
    rendered = []
    for label, groups, features in (
        ("plain", ["central", "north", "south"], [f"feature{i}" for i in range(6)]),
        ("hostile", HOSTILE[:3], [*HOSTILE, "x"]),
    ):
        repo = tmp_path / label
        _build(repo, *_fairness_case(groups, features))
        rendered.append(render(api.report("main", "feature", root=repo)))
    plain, hostile = rendered
    assert "evil.example" in hostile  # the hostile names are shown, as text
    assert "fairness gap widened" in hostile
    assert "🚩 new in the top 3" in hostile
    assert_inert(hostile, plain)


# --- gitml drift --format md -------------------------------------------------------------


def _feature(name: str, status: str, unseen: tuple[str, ...], reason: str) -> FeatureDrift:
    return FeatureDrift(
        name=name,
        kind="categorical" if unseen else "numeric",
        status=status,
        severity=1.0,
        reasons=(reason,) if reason else (),
        rows=100,
        present=95,
        psi=0.3,
        chi2=None,
        chi2_pvalue=None,
        ks=0.2 if not unseen else None,
        ks_pvalue=0.001,
        mean_reference=1.0,
        mean_batch=2.0,
        js=0.1 if unseen else None,
        unseen_share=0.1 if unseen else None,
        unseen_categories=len(unseen) if unseen else None,
        unseen=tuple((category, 0.05) for category in unseen),
        missing_rate_reference=0.01,
        missing_rate_batch=0.05,
        missing_pvalue=0.5,
    )


def _drift_report(names: Callable[[int], str]) -> DriftReport:
    features = (
        _feature(names(0), "drift", (names(1), names(2), names(3), names(4)), names(5)),
        _feature(names(6), "warn", (), names(7)),
        _feature(names(8), "ok", (names(9),), ""),
    )
    score = dataclasses.replace(_feature("score", "warn", (), names(10)), kind="score")
    performance = Performance(80, 0.8, 0.82, 0.1, 0.12, 0.02, 0.03, 0.02)
    return DriftReport(
        model=names(11),
        verdict="drift",
        rows=100,
        baseline_rows=1000,
        features=features,
        score=score,
        performance=performance,
        ignored_columns=(names(12), names(13)),
        thresholds=DriftThresholds(),
    )


def test_drift_markdown_with_hostile_feature_names() -> None:
    plain = render_markdown(_drift_report(lambda i: f"name{i}"))
    hostile = render_markdown(_drift_report(lambda i: HOSTILE[i % len(HOSTILE)]))
    assert "evil.example" in hostile
    assert_inert(hostile, plain)


@settings(max_examples=60, deadline=None)
@given(st.lists(untrusted.filter(str.strip), min_size=1, max_size=14))
def test_drift_markdown_with_generated_names(names: list[str]) -> None:
    plain = render_markdown(_drift_report(lambda i: f"name{i}"))
    hostile = render_markdown(_drift_report(lambda i: names[i % len(names)]))
    assert_inert(hostile, plain)


def test_golden_reports_are_inert() -> None:
    """The reviewed golden comments pass the same check (one holds a hostile category)."""
    golden = sorted((Path(__file__).parents[1] / "golden" / "report").glob("*.md"))
    assert len(golden) >= 10
    for path in golden:
        assert problems(path.read_text()) == [], path.name

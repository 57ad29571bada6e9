"""``gitml report --from-json``: a trusted job renders a fork's JSON report itself.

The JSON comes from an untrusted run, so it is read strictly (size, JSON only, the
document budget, the report schema) and rendered by the normal renderer: what it says
reaches the markdown only through the escaper.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from gitml.cli.main import main
from gitml.report.from_json import MAX_BYTES, NOTICE, load, read_report, to_report
from gitml.report.jsondata import to_data
from gitml.report.markdown import MARKER, render

GOLDEN = Path(__file__).parent / "golden" / "report"
CASES = sorted(GOLDEN.glob("*.json"))
# The case with the most kinds of content: a moved drift baseline, metrics, params.
RICH = GOLDEN / "baseline-moved.json"


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["report", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_a_saved_report_renders_as_the_normal_comment_with_a_notice(
    case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(case.read_text())
    report = read_report(case)
    assert to_data(report) == data  # nothing lost or invented on the way back
    out = tmp_path / "comment.md"
    code, stdout, stderr = _cli(capsys, "--from-json", str(case), "-o", str(out))
    assert (code, stdout, stderr) == (0, "", "")
    markdown = out.read_text()
    # The normal renderer's comment, with one line saying whose claims it shows.
    assert markdown.replace(f"\n\n{NOTICE}", "", 1) == render(to_report(data))
    marker, title, notice, gate = markdown.split("\n\n")[:4]
    assert (marker, notice) == (MARKER, NOTICE)
    assert title.startswith("## gitml report: ")
    assert gate.startswith("**Gate**")


def test_json_output_is_the_validated_report_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, stdout, _ = _cli(capsys, "--from-json", str(RICH), "--json")
    assert code == 0
    assert json.loads(stdout) == json.loads(RICH.read_text())


def _write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "report.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def _rich() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(RICH.read_text())
    return data


def _broken(change: str) -> str:
    data = _rich()
    model = data["models"][0]
    if change == "unknown status":
        model["status"] = "pwned"
    elif change == "missing key":
        del data["gate"]
    elif change == "unknown key":
        data["comment"] = "hello"
    elif change == "wrong type":
        model["metrics"][0]["head"] = {"nested": 1}
    elif change == "material baseline without its comparison":
        model["baseline"]["comparison"] = None
    elif change == "delta that is not a number":
        model["metrics"][0]["delta"] = "a lot"
    elif change == "a curve too long to chart":
        model["curves"][0]["x"] = [1e308] * 5000
    elif change == "bad drift thresholds":
        model["baseline"]["comparison"]["thresholds"] = {"psi_warn": 5.0, "psi_drift": 0.1}
    return json.dumps(data)


INVALID = {
    "not JSON": ("{'models': []}", "not valid JSON (line 1)"),
    "YAML, not JSON": ("models: []\n", "not valid JSON"),
    "NaN literal": ('{"x": NaN}', "NaN is not JSON"),
    "duplicate key": ('{"stage": "main", "stage": "prod"}', "duplicate key 'stage'"),
    "not an object": ("[1, 2, 3]", "is not of type 'object'"),
    "too deep": ("[" * 100_000 + "]" * 100_000, "nested"),
    "not UTF-8": (b'{"stage": "\xff"}', "not UTF-8 text"),
    "unknown status": (_broken("unknown status"), "models[0].status: 'pwned' is not one of"),
    "missing key": (_broken("missing key"), "missing required key(s): 'gate'"),
    "unknown key": (_broken("unknown key"), "unknown key(s) 'comment'"),
    "wrong type": (_broken("wrong type"), "models[0].metrics[0].head"),
    "material baseline without its comparison": (
        _broken("material baseline without its comparison"),
        "not a gitml report: a material baseline needs its comparison",
    ),
    "delta that is not a number": (
        _broken("delta that is not a number"),
        "not a gitml report: expected a number, got 'a lot'",
    ),
    "bad drift thresholds": (_broken("bad drift thresholds"), "thresholds"),
    "a curve too long to chart": (
        _broken("a curve too long to chart"),
        "not a gitml report: a curve has more than 200 points",
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_an_invalid_report_is_refused_with_one_line(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content, expected = INVALID[case]
    path = _write(tmp_path, content)
    out = tmp_path / "comment.md"
    code, stdout, stderr = _cli(capsys, "--from-json", str(path), "-o", str(out))
    assert code == 1, stderr
    assert stdout == ""
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith(f"gitml: error: {path}: "), stderr
    assert expected in stderr, stderr
    assert "Traceback" not in stderr
    assert not out.exists()


def test_an_oversized_report_is_refused_before_it_is_parsed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    valid = RICH.read_text()
    at_limit = _write(tmp_path, valid + " " * (MAX_BYTES - len(valid.encode())))
    assert at_limit.stat().st_size == MAX_BYTES
    assert _cli(capsys, "--from-json", str(at_limit))[0] == 0
    over = _write(tmp_path, valid + " " * (MAX_BYTES + 1 - len(valid.encode())))
    code, stdout, stderr = _cli(capsys, "--from-json", str(over))
    assert (code, stdout) == (1, "")
    assert stderr == f"gitml: error: {over}: larger than 524,288 bytes: not a gitml report\n"
    # Invalid as well as too large: the size is what is reported (nothing was parsed).
    garbage = _write(tmp_path, "{" * (MAX_BYTES + 10))
    assert "larger than 524,288 bytes" in _cli(capsys, "--from-json", str(garbage))[2]


def test_a_missing_or_special_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for path in (tmp_path / "absent.json", tmp_path):
        code, _, stderr = _cli(capsys, "--from-json", str(path))
        assert code == 1
        assert stderr == f"gitml: error: {path}: not found (or not a regular file)\n"


@pytest.mark.parametrize(
    "options",
    [["--head", "HEAD"], ["--stage", "production"], ["--no-rescore"], ["--plots-dir", "p"]],
)
def test_options_that_compute_a_report_do_not_combine_with_from_json(
    options: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, stderr = _cli(capsys, "--from-json", str(RICH), *options)
    assert code == 2
    assert f"--from-json renders a finished report: {options[0]} do not apply" in stderr


def test_from_json_and_base_are_one_or_the_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as both:
        main(["report", "--base", "main", "--from-json", str(RICH)])
    assert both.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
    with pytest.raises(SystemExit) as neither:
        main(["report"])
    assert neither.value.code == 2
    assert "one of the arguments --base --from-json is required" in capsys.readouterr().err


# --- hostile strings ----------------------------------------------------------------

HOSTILE = (
    "PWN<img src=x onerror=alert(1)><script>alert(2)</script>"
    "[click](https://evil.example/x) ![i](https://evil.example/i.png) <https://evil.example> "
    "www.evil.example @acme/team #12 acme/credit#3 $x^2$ **bold** `tick` a|b\nnew line"
)
# Values the schema fixes to a set (or to numbers' spellings): left as they are.
FIXED = {"status", "change", "direction", "kind", "level", "pipeline", "delta", "relative"}


def _poison(node: Any, key: str = "") -> Any:
    """Every free-text string in the report replaced by ``HOSTILE``."""
    if isinstance(node, dict):
        return {k: _poison(v, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_poison(v, key) for v in node]
    if isinstance(node, str) and key not in FIXED and node not in ("NaN", "Infinity"):
        return HOSTILE
    return node


# What the renderer itself writes as raw HTML: bare tags without attributes, the marker.
OWN_TAGS = {"code", "details", "summary", "sub", "span"}
# Text GitHub would turn into a link, a mention or an issue reference, or math.
LIVE = re.compile(r"@\w|#\d|\$[^$\s][^$]*\$|(?i:www\.)|://")


class _Html(HTMLParser):
    """What a browser reads in a raw HTML block: every tag, and the decoded text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in OWN_TAGS or attrs:
            self.problems.append(f"<{tag} {attrs}>")

    def handle_endtag(self, tag: str) -> None:
        if tag not in OWN_TAGS:
            self.problems.append(f"</{tag}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f"<{tag}/>")

    def handle_comment(self, data: str) -> None:
        if f"<!--{data}-->" != MARKER:
            self.problems.append(f"<!--{data}-->")

    def handle_data(self, data: str) -> None:
        if found := LIVE.search(data):
            self.problems.append(f"live text {found.group()!r}")


def _html_problems(content: str) -> list[str]:
    parser = _Html()
    parser.feed(content)
    parser.close()
    return parser.problems


def _tokens(markdown: str) -> list[Any]:
    parser = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    out = []
    stack = list(parser.parse(markdown))
    while stack:
        token = stack.pop()
        out.append(token)
        stack.extend(token.children or [])
    return out


def test_hostile_strings_in_a_fork_report_stay_inert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    poisoned = _poison(_rich())
    path = _write(tmp_path, json.dumps(poisoned))
    out = tmp_path / "comment.md"
    code, _, stderr = _cli(capsys, "--from-json", str(path), "-o", str(out))
    assert code == 0, stderr
    markdown = out.read_text()
    assert markdown.count("PWN") >= 10  # the payload is shown, as text, in many places
    tokens = _tokens(markdown)
    assert not [t for t in tokens if t.type in ("link_open", "image")]
    for token in tokens:
        if token.type in ("html_inline", "html_block"):
            assert _html_problems(token.content) == [], token.content
        if token.type in ("text", "code_inline"):
            assert not LIVE.search(token.content), token.content
    assert "<img" not in markdown
    assert "<script" not in markdown
    # Mermaid labels are sanitised to a small alphabet: no quote can close a label.
    for block in re.findall(r"```mermaid\n(.*?)\n```", markdown, re.DOTALL):
        for label in re.findall(r'"([^"]*)"', block):
            assert re.fullmatch(r"[A-Za-z0-9 ._:/+=%-]*", label), label


def test_load_returns_the_schema_valid_document() -> None:
    assert load(RICH) == json.loads(RICH.read_text())

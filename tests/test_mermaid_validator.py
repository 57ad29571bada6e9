"""The Mermaid validator (tests/mermaid) really parses: it accepts good diagrams, rejects bad ones.

Every case goes through one `parse_mermaid` call, i.e. one Node process, to keep this fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.mermaid.check import MermaidResult, mermaid_version, parse_mermaid

pytestmark = pytest.mark.slow

VALID_XYCHART = """\
xychart-beta
  title "Precision & recall (validation set) #1"
  x-axis "threshold" [0, 0.1, 0.2, 0.3, 0.5]
  y-axis "score" 0 --> 1
  line "precision" [0.5, 0.61, 0.7, 0.82, 0.9]
  line "recall" [1, 0.95, 0.87, 0.7, 0.41]
"""

VALID_FLOWCHART = """\
flowchart LR
  data["data (v2)"] --> train --> eval{"AUC ≥ 0.8?"}
  eval -->|yes| promote
"""

VALID_PIE = """\
pie title "Label share"
  "good": 70.5
  "bad": 29.5
"""

# (source, expected ok, for a rejection: a fragment of Mermaid's message)
CASES: dict[str, tuple[str, bool, str]] = {
    "xychart": (VALID_XYCHART, True, ""),
    "xychart_trailing_comma": (
        VALID_XYCHART.replace("[0.5, 0.61, 0.7, 0.82, 0.9]", "[0.1, ]"),
        False,
        "Parse error",
    ),
    "xychart_misspelt_keyword": (
        VALID_XYCHART.replace('  line "recall"', '  lnie "recall"'),
        False,
        "Parse error",
    ),
    "xychart_exponent_value": (
        VALID_XYCHART.replace("[0.5, 0.61,", "[5e-05, 0.61,"),
        False,
        "Parse error",
    ),
    "flowchart": (VALID_FLOWCHART, True, ""),
    "pie": (VALID_PIE, True, ""),
    "fenced_xychart": (f"```mermaid\n{VALID_XYCHART}```\n", False, "No diagram type detected"),
    "not_a_diagram": ("hello world", False, "No diagram type detected"),
}

EXPECTED_TYPES = {"xychart": "xychart", "flowchart": "flowchart-v2", "pie": "pie"}


@pytest.fixture(scope="module")
def results() -> dict[str, MermaidResult]:
    names = list(CASES)
    answers = parse_mermaid([CASES[name][0] for name in names])
    return dict(zip(names, answers, strict=True))


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if case[1]])
def test_valid_diagram_parses(results: dict[str, MermaidResult], name: str) -> None:
    result = results[name]
    assert result["ok"], result.get("error")
    assert result.get("type") == EXPECTED_TYPES[name]


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if not case[1]])
def test_invalid_diagram_is_rejected(results: dict[str, MermaidResult], name: str) -> None:
    result = results[name]
    assert result["ok"] is False
    assert CASES[name][2] in result.get("error", "")


def test_uses_the_pinned_mermaid() -> None:
    package = json.loads((Path(__file__).parent / "mermaid" / "package.json").read_text())
    assert mermaid_version() == package["dependencies"]["mermaid"]


def test_no_sources_means_no_node_run() -> None:
    assert parse_mermaid([]) == []

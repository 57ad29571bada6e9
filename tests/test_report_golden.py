"""Golden-file tests: the exact markdown and JSON of the report for fixed repositories.

Regenerate on purpose with ``pytest tests/test_report_golden.py --update-golden`` and
review the diff of ``tests/golden/report/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitml import api
from gitml.documents import packaged_schema, schema_problems
from gitml.report.jsondata import to_data
from gitml.report.markdown import render
from tests.report_cases import CASES, build_case

GOLDEN = Path(__file__).parent / "golden" / "report"


@pytest.mark.parametrize("case", sorted(CASES))
def test_report_matches_golden(case: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    repo = tmp_path / case
    build_case(repo, case)
    report = api.report("main", "feature", root=repo)
    markdown = render(report)
    data = to_data(report)
    assert schema_problems(data, packaged_schema("report.schema.json"), "report") == []
    rendered = {"md": markdown, "json": json.dumps(data, indent=2) + "\n"}
    for suffix, text in rendered.items():
        golden = GOLDEN / f"{case}.{suffix}"
        if request.config.getoption("--update-golden"):
            golden.write_text(text)
        assert golden.exists(), f"{golden} missing: run with --update-golden"
        assert text == golden.read_text(), f"{golden.name} differs (review, then --update-golden)"


def test_markdown_never_links_local_images(tmp_path: Path) -> None:
    for case in CASES:
        repo = tmp_path / case
        build_case(repo, case)
        markdown = render(api.report("main", "feature", root=repo))
        assert "![" not in markdown
        assert "<img" not in markdown.lower()

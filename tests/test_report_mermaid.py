"""Every chart the report renders parses with Mermaid's own parser (under node + jsdom)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from gitml import api
from gitml.report.markdown import render
from tests.mermaid.check import mermaid_version, parse_mermaid
from tests.report_cases import CASES, build_case

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow
FENCE = re.compile(r"```mermaid\n(.*?)\n```", re.DOTALL)


def test_report_charts_parse_with_mermaid(tmp_path: Path, repo: Path) -> None:
    sources = []
    for case in CASES:
        build_case(tmp_path / case, case)
        sources += FENCE.findall(render(api.report("main", "feature", root=tmp_path / case)))
    # The real example project: ROC, precision-recall and calibration of a trained model.
    params = repo / "params.yaml"
    params.write_text(params.read_text().replace("learning_rate: 0.06", "learning_rate: 0.1"))
    from tests.helpers import dvc

    dvc(repo, "repro", "-q")
    sources += FENCE.findall(render(api.report("main", root=repo)))
    assert len(sources) >= 10
    results = parse_mermaid(sources)
    failures = [
        (src, r.get("error")) for src, r in zip(sources, results, strict=True) if not r["ok"]
    ]
    assert failures == [], f"mermaid {mermaid_version()} rejected charts"
    assert {r.get("type") for r in results} == {"xychart"}

"""Fairness and explanations in the pull-request report, and a promotion's dossier link.

Pure comparisons first (a gap that widened beyond the base's interval, rank changes and
features new in the top three, missing and malformed sides), then the markdown and JSON
they render to, then real repositories: a DVC pipeline committed twice with different
segment reports and model cards, reported by ``gitml report``; and a promotion pull
request whose candidate was registered by a CI run, whose report links that run's dossier.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitml import api
from gitml.documents import packaged_schema, schema_problems
from gitml.report.fairness import compare_fairness, gap_direction, widened
from gitml.report.from_json import read_report, render_markdown, to_report
from gitml.report.importance import compare_importance
from gitml.report.jsondata import to_data
from gitml.report.markdown import render
from gitml.report.model import Availability, DossierLink, Estimate
from tests.helpers import dvc, git, gitml
from tests.report_cases import card, group, segments

GAPS = ("demographic_parity_difference", "demographic_parity_ratio", "equalized_odds_difference")
REGIONS = {
    "central": group(2300, 300, (0.2, 0.63, 0.1, 0.81, 0.012)),
    "south": group(1200, 240, (0.17, 0.6, 0.09, 0.79, 0.02)),
}


def _report(region_gaps: tuple[float, float, float], regions: dict[str, Any] = REGIONS) -> Any:
    return json.loads(segments(regions, region_gaps))


# --- the widened-gap rule ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        # A difference is fairer lower: flagged above the base's interval [0.01, 0.05].
        ("demographic_parity_difference", 0.051, True),
        ("demographic_parity_difference", 0.05, False),  # on the bound: within
        ("demographic_parity_difference", 0.0, False),  # narrower is fairer
        # A ratio is fairer higher: flagged below the base's interval [0.01, 0.05].
        ("demographic_parity_ratio", 0.009, True),
        ("demographic_parity_ratio", 0.01, False),
        ("demographic_parity_ratio", 0.9, False),
        ("some_other_gap", 0.9, False),  # no known direction: never flagged
    ],
)
def test_a_gap_widens_when_the_head_leaves_the_base_interval_on_the_unfair_side(
    name: str, head: float, expected: bool
) -> None:
    base = Estimate(0.03, 0.01, 0.05)
    assert widened(base, Estimate(head, head - 0.01, head + 0.01), gap_direction(name)) is expected


def test_nothing_to_compare_is_not_a_widened_gap() -> None:
    base = Estimate(0.03, 0.01, 0.05)
    assert not widened(None, Estimate(0.9), "lower")
    assert not widened(base, None, "lower")
    assert not widened(base, Estimate(None), "lower")  # not computable on the head
    assert not widened(Estimate(0.03), Estimate(0.9), "lower")  # the base has no interval


def test_segments_compare_group_by_group_and_flag_the_widened_gap() -> None:
    head_regions = {**REGIONS, "west": group(40, 2, (0.1, 0.5, 0.08, None, 0.05))}
    diff = compare_fairness(
        "metrics/credit_segments.json",
        _report((0.03, 0.85, 0.06)),
        _report((0.09, 0.84, 0.07), head_regions),
        columns=("region", "age_band"),
    )
    assert (diff.base, diff.head, diff.confidence, diff.notes) == (
        Availability.PRESENT,
        Availability.PRESENT,
        0.95,
        (),
    )
    assert [s.column for s in diff.segments] == ["region", "age_band"]  # declared order
    region = diff.segments[0]
    assert [(g.name, g.direction, g.widened) for g in region.gaps] == [
        ("demographic_parity_difference", "lower", True),
        ("demographic_parity_ratio", "higher", False),  # 0.84 is inside [0.83, 0.87]
        ("equalized_odds_difference", "lower", False),
    ]
    assert region.gaps[0].delta == pytest.approx(0.06)
    assert [(column, gap.name) for column, gap in diff.widened] == [
        ("region", "demographic_parity_difference")
    ]
    west = region.groups[-1]
    assert (west.name, west.base_rows, west.head_rows) == ("west", None, 40)
    auc = next(m for m in west.metrics if m.name == "roc_auc")
    assert (auc.base, auc.head, auc.delta) == (None, Estimate(None, None, None), None)


def test_a_missing_or_malformed_side_is_shown_as_such_never_a_failure() -> None:
    report = _report((0.03, 0.85, 0.06))
    new = compare_fairness("seg.json", None, report, base_label="main")
    assert (new.base, new.head, new.widened) == (Availability.MISSING, Availability.PRESENT, ())
    assert new.segments[0].gaps[0].base is None
    gone = compare_fairness("seg.json", report, None)
    assert (gone.base, gone.head) == (Availability.PRESENT, Availability.MISSING)
    broken = compare_fairness(
        "seg.json", report, {"segments": {"region": {"gaps": {"x": "wide"}}}}, head_label="pr"
    )
    assert broken.head == Availability.MALFORMED
    assert broken.notes == (
        "not a segment report: seg.json at pr: segments.region.gaps.x: expected a mapping, got str",
    )
    unparsable = compare_fairness("seg.json", report, None, head_error="line 3: bad JSON")
    assert unparsable.head == Availability.MALFORMED
    assert unparsable.notes == ("seg.json at head: not read: line 3: bad JSON",)
    undeclared = compare_fairness("seg.json", report, report, columns=("region", "income_band"))
    assert undeclared.notes == (
        "segment column income_band is declared but not in seg.json at head",
    )


# --- the ranking -----------------------------------------------------------------------

BASE_FEATURES = [("late", 0.06), ("dti", 0.04), ("income", 0.03), ("rate", 0.02), ("amount", 0.01)]


def _card(features: list[tuple[str, float]]) -> Any:
    return yaml.safe_load(card(features))


def test_ranks_move_and_a_feature_new_in_the_top_three_is_flagged() -> None:
    head = [("late", 0.05), ("rate", 0.045), ("dti", 0.04), ("tenure", 0.02), ("income", 0.01)]
    diff = compare_importance(_card(BASE_FEATURES), _card(head))
    assert diff is not None
    rows = [(f.name, f.base_rank, f.head_rank, f.movement, f.entered_top) for f in diff.features]
    assert rows == [
        ("late", 1, 1, 0, False),
        ("rate", 4, 2, 2, True),  # from 4th into the top 3
        ("dti", 2, 3, -1, False),
        ("tenure", None, 4, None, False),  # new, but not in the top 3
        ("income", 3, 5, -2, False),
        ("amount", 5, None, None, False),  # the base's top 5, gone from the head
    ]
    assert diff.entered_top == ("rate",)
    assert (diff.method, diff.scoring) == ("permutation", "roc_auc")


def test_a_feature_never_measured_before_that_enters_the_top_three_is_flagged() -> None:
    head = [("late", 0.05), ("brand_new", 0.045), *BASE_FEATURES[1:]]
    diff = compare_importance(_card(BASE_FEATURES), _card(head))
    assert diff is not None
    assert diff.entered_top == ("brand_new",)


def test_the_card_order_does_not_matter_the_means_do() -> None:
    diff = compare_importance(_card(BASE_FEATURES), _card(list(reversed(BASE_FEATURES))))
    assert diff is not None
    assert [(f.name, f.movement) for f in diff.features][:2] == [("late", 0), ("dti", 0)]


def test_a_first_ranking_flags_nothing_and_no_ranking_shows_nothing() -> None:
    first = compare_importance({"model": "credit"}, _card(BASE_FEATURES))
    assert first is not None
    assert (first.base, first.head, first.entered_top) == (
        Availability.MISSING,
        Availability.PRESENT,
        (),
    )
    assert compare_importance({"model": "credit"}, {"model": "credit"}) is None
    assert compare_importance(None, None) is None
    broken = compare_importance(
        _card(BASE_FEATURES), {"importance": {"features": [{"name": "x", "mean": "high"}]}}
    )
    assert broken is not None
    assert broken.head == Availability.MALFORMED
    assert broken.notes == (
        "no feature ranking: card at head: importance.features[0].mean: expected a number, "
        "got 'high'",
    )


# --- markdown and JSON ---------------------------------------------------------------


@pytest.fixture(scope="module")
def fairness_case(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tests.report_cases import build_case

    repo = tmp_path_factory.mktemp("fairness") / "fairness"
    build_case(repo, "fairness")
    return api.report("main", "feature", root=repo)


def _outside_folds(markdown: str) -> str:
    return re.sub(r"<details>.*?</details>", "", markdown, flags=re.DOTALL)


def test_the_flags_are_visible_outside_the_folds(fairness_case: Any) -> None:
    markdown = render(fairness_case)
    visible = _outside_folds(markdown)
    assert "### 🟢 credit: improved · ⚠️ fairness gap widened" in visible
    assert "| credit | 🟢 improved · ⚠️ fairness gap widened |" in visible
    assert (
        "- ⚠️ region: demographic\\_parity\\_difference ↓ 0.03 [0.01, 0.05] → 0.09 [0.07, 0.11]"
    ) in visible
    assert "🚩 new in the top 3: <code>interest_rate</code> (rank 4 on the base)" in visible
    # The tables are folded.
    assert "| south | 1,200 → 1,190 | selection\\_rate |" not in visible
    assert "| south | 1,200 → 1,190 | selection\\_rate |" in markdown
    assert "| interest\\_rate | 4 | 2 | ↑2 🚩 | 0.021 → 0.044 |" in markdown


def test_the_json_report_carries_both_and_reads_back_the_same(
    fairness_case: Any, tmp_path: Path
) -> None:
    data = to_data(fairness_case)
    assert schema_problems(data, packaged_schema("report.schema.json"), "report") == []
    [model] = data["models"]
    assert [g["name"] for g in model["fairness"]["segments"][0]["gaps"] if g["widened"]] == [
        "demographic_parity_difference"
    ]
    assert [f["name"] for f in model["importance"]["features"] if f["entered_top"]] == [
        "interest_rate"
    ]
    path = tmp_path / "report.json"
    path.write_text(json.dumps(data))
    again = read_report(path)
    assert to_data(again) == data
    assert render(again) == render(fairness_case)


def test_a_dossier_link_from_a_json_report_is_text_not_a_link(fairness_case: Any) -> None:
    import dataclasses

    url = "https://github.com/acme/credit/actions/runs/42"
    link = DossierLink("v1.3.0", url, ("5. Fairness and explanations",))
    [model] = fairness_case.models
    report = dataclasses.replace(fairness_case, models=(dataclasses.replace(model, dossier=link),))
    line = next(x for x in render(report).splitlines() if "**Dossier**" in x)
    assert line == (
        f"📄 **Dossier** of <code>credit&#64;&#8205;v1.3.0</code>: <{url}> (artifact "
        "<code>gitml-dossier</code>, file <code>credit&#64;&#8205;v1.3.0.dossier.html</code>; "
        "see its sections “5\\. Fairness and explanations”)"
    )
    claimed = render_markdown(to_report(to_data(report)))
    assert f"<{url}>" not in claimed  # a fork's JSON could claim any URL
    assert "<code>https:/&#8205;/github.com/acme/credit/actions/runs/42</code>" in claimed
    hostile = dataclasses.replace(link, run_url="javascript:alert(1)//https://x")
    model = dataclasses.replace(model, dossier=hostile)
    assert "<javascript" not in render(dataclasses.replace(report, models=(model,)))


# --- real repositories ---------------------------------------------------------------

EVALUATE = '''"""Writes what the example's evaluate stage writes, from params.yaml (a stand-in)."""
import json
import pathlib

import yaml

params = yaml.safe_load(pathlib.Path("params.yaml").read_text())["evaluate"]
out = pathlib.Path("metrics")
out.mkdir(exist_ok=True)
pathlib.Path("models").mkdir(exist_ok=True)
gaps = {
    column: {name: gap["value"] for name, gap in segment["gaps"].items()}
    for column, segment in params["segments"]["segments"].items()
}
(out / "credit.json").write_text(json.dumps({"roc_auc": params["auc"], "fairness": gaps}))
(out / "credit_segments.json").write_text(json.dumps(params["segments"]))
pathlib.Path("models/credit.card.yaml").write_text(yaml.safe_dump(params["card"]))
pathlib.Path("models/credit.skops").write_text(f"model trained for auc {params['auc']}")
'''
PIPELINE = {
    "stages": {
        "evaluate": {
            "cmd": f"{Path(sys.executable).name} evaluate.py",
            "deps": ["evaluate.py"],
            "params": ["evaluate"],
            "outs": [
                "models/credit.skops",
                {"models/credit.card.yaml": {"cache": False}},
                {"metrics/credit_segments.json": {"cache": False}},
            ],
            "metrics": [{"metrics/credit.json": {"cache": False}}],
        }
    }
}
GITML = {
    "version": 1,
    "models": {
        "credit": {
            "artifact": "models/credit.skops",
            "metrics": ["metrics/credit.json"],
            "card": "models/credit.card.yaml",
            "fairness": {
                "segments": ["region"],
                "report": "metrics/credit_segments.json",
                "min_group_rows": 30,
            },
        }
    },
    "stages": ["staging"],
    "metrics": {"roc_auc": "higher"},
}


def _params(auc: float, gaps: tuple[float, float, float], features: list[tuple[str, float]]) -> str:
    return yaml.safe_dump(
        {
            "evaluate": {
                "auc": auc,
                "segments": _report(gaps),
                "card": yaml.safe_load(card(features)),
            }
        }
    )


def _commit(repo: Path, message: str) -> None:
    dvc(repo, "repro", "-q")
    dvc(repo, "push", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def _pipeline_repo(repo: Path) -> Path:
    """A git + DVC project whose pipeline writes a segment report and a card; ``main``
    holds the first run, ``feature`` a second with a wider gap and a new top feature."""
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    dvc(repo, "init", "-q")
    dvc(repo, "remote", "add", "-d", "local", str(repo.parent / f"{repo.name}-remote"))
    (repo / "evaluate.py").write_text(EVALUATE)
    (repo / "dvc.yaml").write_text(yaml.safe_dump(PIPELINE, sort_keys=False))
    (repo / "gitml.yaml").write_text(yaml.safe_dump(GITML, sort_keys=False))
    (repo / "params.yaml").write_text(_params(0.81, (0.03, 0.85, 0.06), BASE_FEATURES))
    _commit(repo, "first model")
    git(repo, "checkout", "-q", "-b", "feature")
    head = [("late", 0.05), ("rate", 0.045), ("dti", 0.04), ("income", 0.03), ("amount", 0.01)]
    (repo / "params.yaml").write_text(_params(0.82, (0.09, 0.84, 0.07), head))
    _commit(repo, "lean on the interest rate")
    return repo


def test_gitml_report_on_a_dvc_pipeline_shows_fairness_and_explanations(tmp_path: Path) -> None:
    repo = _pipeline_repo(tmp_path / "project")
    shown = gitml(repo, "report", "--base", "main", "--head", "feature").stdout
    visible = _outside_folds(shown)
    assert "### 🟢 credit: improved · ⚠️ fairness gap widened" in visible
    assert "**Fairness** <code>metrics/credit_segments.json</code>: ⚠️ 1 gap(s) widened" in visible
    assert "🚩 new in the top 3: <code>rate</code> (rank 4 on the base)" in visible
    assert "<summary>Fairness by segment: <code>region</code>" in shown
    data = json.loads(gitml(repo, "report", "--base", "main", "--head", "feature", "--json").stdout)
    [model] = data["models"]
    assert (model["fairness"]["base"], model["fairness"]["head"]) == ("present", "present")
    assert model["importance"]["features"][1] == {
        "name": "rate",
        "rank": {"base": 4, "head": 2},
        "mean": {"base": 0.02, "head": 0.045},
        "entered_top": True,
    }
    assert "dossier" not in model  # a pull request into main: no promotion, no link
    # The gaps are in the metrics file (gates hold them), but the verdict is the model's
    # quality: they are judged in the fairness block, against the base's intervals.
    assert [metric["name"] for metric in model["metrics"]] == ["roc_auc"]
    assert model["status"] == "improved"


def test_a_gap_metric_is_gated_like_any_metric(tmp_path: Path) -> None:
    repo = _pipeline_repo(tmp_path / "project")
    git(repo, "checkout", "-q", "main")
    config = yaml.safe_load((repo / "gitml.yaml").read_text())
    rule = {"fairness.region.demographic_parity_difference": {"max": 0.05}}
    config["gates"] = {"staging": {"metrics": rule}}
    (repo / "gitml.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    git(repo, "commit", "-qam", "Gate the region parity gap")
    git(repo, "branch", "staging")  # the stage's branch: where the gate is read from
    failed = gitml(repo, "check", "--base", "staging", "--head", "feature", check=False)
    assert failed.returncode == 3, failed.stderr
    [row] = [line for line in failed.stdout.splitlines() if "demographic_parity" in line]
    assert "0.09" in row
    assert "fail" in row
    passed = gitml(repo, "check", "--base", "staging", "--head", "main", check=False)
    assert passed.returncode == 0, passed.stdout + passed.stderr


def test_a_broken_or_missing_segment_report_on_the_head_is_a_line_not_a_failure(
    tmp_path: Path,
) -> None:
    repo = _pipeline_repo(tmp_path / "project")
    (repo / "metrics" / "credit_segments.json").write_text('{"segments": ["not", "a", "map"]}')
    report = api.report("feature", root=repo, rescore=False)  # the workspace as head
    [model] = report.models
    assert model.fairness is not None
    assert model.fairness.head == Availability.MALFORMED
    (repo / "metrics" / "credit_segments.json").unlink()
    report = api.report("feature", root=repo, rescore=False)
    markdown = render(report)
    # dvc.lock still names the file: its bytes are what cannot be had, and the note says why.
    assert (
        "**Fairness** <code>metrics/credit_segments.json</code>: ⚠️ unavailable on the head "
        "<code>workspace</code> (see the note)"
    ) in markdown
    assert "not in the local DVC cache and not in the DVC remote" in markdown
    assert "fairness gap widened" not in markdown


def test_a_promotion_report_links_the_dossier_of_the_registered_candidate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _pipeline_repo(tmp_path / "project")
    git(repo, "checkout", "-q", "main")
    gitml(repo, "register")
    git(repo, "branch", "staging")  # the stage holds the first version's commit
    git(repo, "merge", "-q", "--ff-only", "feature")
    # The register workflow's run: GitHub's variables give the record its run URL.
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/credit")
    monkeypatch.setenv("GITHUB_RUN_ID", "4242")
    gitml(repo, "register")
    for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"):
        monkeypatch.delenv(name)
    git(repo, "checkout", "-q", "-b", "promote/staging")
    url = "https://github.com/acme/credit/actions/runs/4242"
    shown = gitml(repo, "report", "--base", "staging", "--head", "HEAD").stdout
    dossier = [line for line in shown.splitlines() if "**Dossier**" in line]
    assert dossier == [
        f"📄 **Dossier** of <code>credit&#64;&#8205;v0.2.0</code>: <{url}> (artifact "
        "<code>gitml-dossier</code>, file <code>credit&#64;&#8205;v0.2.0.dossier.html</code>; "
        "see its sections “5\\. Fairness and explanations” and “6\\. Human oversight and "
        "approvals”)"
    ]
    data = json.loads(gitml(repo, "report", "--base", "staging", "--head", "HEAD", "--json").stdout)
    assert data["models"][0]["dossier"] == {
        "version": "v0.2.0",
        "run_url": url,
        "sections": ["5. Fairness and explanations", "6. Human oversight and approvals"],
    }
    # Into main there is no promotion: no link.
    into_main = gitml(repo, "report", "--base", "staging", "--head", "HEAD", "--stage", "main")
    assert "**Dossier**" not in into_main.stdout

"""Adopting gitml in a DVC get-started-like project whose evaluation is logged by DVCLive.

Both variants (DVCLive's `eval/` committed to git, or a cached DVC output) must give the
same answers: `gitml init` and `gitml validate` pass, and the pull-request report agrees
with `dvc metrics diff` and `dvc params diff` to the last bit, judges DVCLive's nested
metric names by the right direction, and draws the plots the project's dvc.yaml declares.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

from tests.adoption.adopt import (
    adopt,
    adopt_then_update_pr,
    commit_adoption,
    dvc_json,
    gitml_config,
    gitml_json,
)
from tests.adoption.projects import BASE, HEAD, MODEL, PR_PARAM
from tests.helpers import dvc, gitml, run

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow

METRICS_FILE = "eval/metrics.json"
# What each DVCLive metric means, by its first name segment: `avg_prec/test` is logged
# as {"avg_prec": {"test": ...}} and flattened by DVC (and gitml) to `avg_prec.test`.
DIRECTIONS = {"avg_prec": "higher", "roc_auc": "higher", "log_loss": "lower"}
SPLITS = ("train", "test")
# The plots dvc.yaml declares (top level, get-started form: `y: {file: field}`).
PLOT_IDS = ("ROC", "Precision-Recall", "Confusion-Matrix")
ROC_TITLE = "ROC, train and test"


def _expected_change(name: str, old: float, new: float) -> str:
    if new == old:
        return "unchanged"
    higher = DIRECTIONS[name.partition(".")[0]] == "higher"
    return "better" if (new > old) == higher else "worse"


def _model(report: dict[str, Any]) -> dict[str, Any]:
    names = [model["name"] for model in report["models"]]
    assert names == [MODEL], f"models in the report: {names}"
    model = report["models"][0]
    assert isinstance(model, dict)
    return model


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}.{key}" if prefix else key
        flat.update(_flatten(value, name) if isinstance(value, dict) else {name: value})
    return flat


def _assert_agrees_with_dvc(
    report: dict[str, Any], metrics_diff: dict[str, Any], params_diff: dict[str, Any]
) -> None:
    """gitml's metrics and params rows are DVC's numbers, judged by each metric's direction."""
    model = _model(report)
    rows = {row["name"]: row for row in model["metrics"]}
    expected = metrics_diff[METRICS_FILE]
    assert set(expected) == {f"{m}.{s}" for m in DIRECTIONS for s in SPLITS}  # the fixture
    assert set(rows) == set(expected)
    for name, values in expected.items():
        row = rows[name]
        # Exact equality: the same JSON numbers, parsed, subtracted in the same order.
        assert (row["base"], row["head"], row["delta"]) == (
            values["old"],
            values["new"],
            values["diff"],
        ), name
        assert row["direction"] == DIRECTIONS[name.partition(".")[0]], name
        assert row["change"] == _expected_change(name, values["old"], values["new"]), name
    # The fixture's pull request improves every metric, so the verdict is unambiguous.
    assert {row["change"] for row in rows.values()} == {"better"}
    assert model["status"] == "improved"
    params = {row["name"]: (row["base"], row["head"]) for row in report["params"]}
    assert params == {
        name: (values["old"], values["new"]) for name, values in params_diff["params.yaml"].items()
    }
    section, key, before, after = PR_PARAM
    assert params == {f"{section}.{key}": (before, after)}


def _dvc_confusion_counts(repo: Path, *revs: str) -> Counter[tuple[str, str, str, str]]:
    """DVC's confusion data: how many (rev, file name, actual, predicted) records it plots."""
    plots = dvc_json(repo, "plots", "diff", *revs)["data"]["Confusion-Matrix"]
    values = [value for plot in plots for value in plot["content"]["data"]["values"]]
    return Counter((v["rev"], v["filename"], v["actual"], v["predicted"]) for v in values)


def _assert_plots_drawn(
    repo: Path, report: dict[str, Any], markdown: str, base: str, head: str | None
) -> None:
    """The three plots dvc.yaml declares: ROC and precision-recall as Mermaid charts of
    four lines (base and head, train and test), the confusion matrices as count tables
    whose every cell is what `dvc plots diff` counts."""
    plots = {plot["id"]: plot for plot in _model(report)["plots"]}
    assert set(plots) == set(PLOT_IDS)
    for ident, field in (("ROC", "tpr"), ("Precision-Recall", "precision")):
        lines = {(line["side"], line["file"], line["field"]) for line in plots[ident]["lines"]}
        kind = "roc" if ident == "ROC" else "prc"
        assert lines == {
            (side, f"eval/plots/sklearn/{kind}/{split}.json", field)
            for side in ("base", "head")
            for split in SPLITS
        }, ident
    assert markdown.count("xychart-beta") >= 2
    assert f"**{ROC_TITLE}**" in markdown
    assert "**Confusion-Matrix**" in markdown
    confusion = plots["Confusion-Matrix"]
    assert confusion["kind"] == "confusion"
    dvc_revs = (base, head) if head else (base,)
    counts = _dvc_confusion_counts(repo, *dvc_revs)
    sides = {"base": base, "head": head or "workspace"}
    matrices = {matrix["file"]: matrix for matrix in confusion["matrices"]}
    assert set(matrices) == {f"eval/plots/sklearn/cm/{split}.json" for split in SPLITS}
    for path, matrix in matrices.items():
        labels = matrix["labels"]
        for side, rev in sides.items():
            cells = {
                (actual, predicted): matrix[side][row][column]
                for row, actual in enumerate(labels)
                for column, predicted in enumerate(labels)
            }
            name = path.rsplit("/", 1)[1]  # DVC names the file by its base name
            expected = {
                (actual, predicted): counts[(rev, name, actual, predicted)]
                for actual, predicted in cells
            }
            assert cells == expected, (path, side)
            # No record left out: gitml's labels cover every record DVC plots.
            total = sum(n for (r, f, _, _), n in counts.items() if (r, f) == (rev, name))
            assert sum(cells.values()) == total, (path, side)


def test_init_drafts_the_dvclive_model_and_validates(get_started_repo: Path) -> None:
    answer = adopt(get_started_repo)
    assert answer["models"] == [MODEL]
    model = gitml_config(get_started_repo)["models"][MODEL]
    assert model["artifact"] == "model.pkl"
    assert METRICS_FILE in model["metrics"]


def test_pr_report_agrees_with_dvc(get_started_repo: Path) -> None:
    repo = get_started_repo
    adopt_then_update_pr(repo)
    report = gitml_json(repo, "report", "--base", BASE, "--head", HEAD)
    metrics_diff = dvc_json(repo, "metrics", "diff", BASE, HEAD)
    params_diff = dvc_json(repo, "params", "diff", BASE, HEAD)
    _assert_agrees_with_dvc(report, metrics_diff, params_diff)
    assert report["head"]["commit"] == run("git", "rev-parse", HEAD, cwd=repo).stdout.strip()
    markdown = gitml(repo, "report", "--base", BASE, "--head", HEAD).stdout
    _assert_plots_drawn(repo, report, markdown, BASE, HEAD)


def test_workspace_report_after_checking_out_the_pr(get_started_repo: Path) -> None:
    repo = get_started_repo
    adopt_then_update_pr(repo)
    dvc(repo, "checkout", "-q")  # the pull request's cached outputs into the work tree
    report = gitml_json(repo, "report", "--base", BASE)
    assert report["head"]["commit"] is None
    _assert_agrees_with_dvc(
        report, dvc_json(repo, "metrics", "diff", BASE), dvc_json(repo, "params", "diff", BASE)
    )
    markdown = gitml(repo, "report", "--base", BASE).stdout
    _assert_plots_drawn(repo, report, markdown, BASE, None)


def test_report_reads_the_dvc_remote_when_the_cache_is_gone(get_started_repo: Path) -> None:
    """A fresh CI runner has no DVC cache: the cached variant's metrics come from the remote."""
    repo = get_started_repo
    adopt_then_update_pr(repo)
    metrics_diff = dvc_json(repo, "metrics", "diff", BASE, HEAD)
    params_diff = dvc_json(repo, "params", "diff", BASE, HEAD)
    shutil.rmtree(repo / ".dvc" / "cache")
    report = gitml_json(repo, "report", "--base", BASE, "--head", HEAD)
    _assert_agrees_with_dvc(report, metrics_diff, params_diff)


def test_the_adoption_pull_request_shows_base_values(get_started_repo: Path) -> None:
    """The pull request that adds gitml is judged against a main without gitml.yaml: the
    model exists on both sides (unchanged), it is not a "new model"."""
    repo = get_started_repo
    on_main = _flatten(json.loads((repo / METRICS_FILE).read_text()))  # main is checked out
    run("git", "switch", "-q", "-c", "adopt-gitml", cwd=repo)
    adopt(repo)
    commit_adoption(repo)
    report = gitml_json(repo, "report", "--base", BASE, "--head", "adopt-gitml")
    model = _model(report)
    assert model["status"] == "unchanged"
    rows = {row["name"]: row for row in model["metrics"]}
    assert {name: (row["base"], row["head"]) for name, row in rows.items()} == {
        name: (value, value) for name, value in on_main.items()
    }
    assert {row["change"] for row in rows.values()} == {"unchanged"}
    assert report["params"] == []


def test_before_init_the_report_reads_dvc_yaml_alone(get_started_repo: Path) -> None:
    """No gitml.yaml anywhere: the model, its DVCLive metrics and the declared plots come
    from dvc.yaml, with the same numbers as DVC's own diff (the README's step 2)."""
    repo = get_started_repo
    assert not (repo / "gitml.yaml").exists()
    report = gitml_json(repo, "report", "--base", BASE, "--head", HEAD)
    metrics_diff = dvc_json(repo, "metrics", "diff", BASE, HEAD)
    params_diff = dvc_json(repo, "params", "diff", BASE, HEAD)
    _assert_agrees_with_dvc(report, metrics_diff, params_diff)
    markdown = gitml(repo, "report", "--base", BASE, "--head", HEAD).stdout
    _assert_plots_drawn(repo, report, markdown, BASE, HEAD)
    assert gitml(repo, "check", "--base", BASE, "--head", HEAD).stdout.endswith(
        "not_configured (no gate configured for this stage)\n"
    )

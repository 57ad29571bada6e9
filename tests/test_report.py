"""`gitml report` on real repositories: agreement with DVC, edge cases and bad input."""

from __future__ import annotations

import json
import math
import shutil
from typing import TYPE_CHECKING

import pytest
import yaml

from gitml import api
from gitml.errors import ConfigError, GitError
from gitml.registry.stage_branches import stage_for_base
from gitml.report.build import pipeline_status
from gitml.report.markdown import GITHUB_COMMENT_LIMIT, render
from gitml.report.model import BaselineStatus, Change, ModelStatus
from tests.helpers import dvc, git, gitml
from tests.report_cases import (
    BASE,
    BASELINE_CONFIG,
    CASES,
    CONFIG,
    baseline,
    build_case,
    files,
    write,
)

if TYPE_CHECKING:
    from pathlib import Path


def _edit_params(repo: Path, section: str, key: str, value: object) -> None:
    path = repo / "params.yaml"
    params = yaml.safe_load(path.read_text())
    target = params[section]
    *parents, leaf = key.split(".")
    for parent in parents:
        target = target[parent]
    target[leaf] = value
    path.write_text(yaml.safe_dump(params, sort_keys=False))


@pytest.mark.slow
def test_numbers_agree_with_dvc(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    _edit_params(repo, "train", "hist_gradient_boosting.learning_rate", 0.12)
    _edit_params(repo, "evaluate", "threshold", 0.3)
    dvc(repo, "repro", "-q")
    git(repo, "commit", "-qam", "Tune the learning rate and threshold")

    report = api.report("main", "feature", root=repo)
    dvc_metrics = json.loads(dvc(repo, "metrics", "diff", "main", "feature", "--json").stdout)
    dvc_params = json.loads(dvc(repo, "params", "diff", "main", "feature", "--json").stdout)

    ours = {
        row.name: row for model in report.models for row in (*model.metrics, *model.operational)
    }
    # The fairness gaps are shown (and judged) in the fairness block, with their intervals.
    gaps = {
        f"fairness.{segment.column}.{gap.name}": gap
        for model in report.models
        if model.fairness is not None
        for segment in model.fairness.segments
        for gap in segment.gaps
    }
    compared = 0
    for _file, rows in dvc_metrics.items():
        for name, values in rows.items():
            if name in gaps:
                estimates = (gaps[name].base, gaps[name].head)
                shown = [None if e is None else e.value for e in estimates]
                assert shown == pytest.approx([values["old"], values["new"]], rel=1e-5), name
                continue
            row = ours[name]
            assert (row.base, row.head) == (values["old"], values["new"]), name
            if values.get("diff") is not None and row.delta is not None:
                assert math.isclose(row.delta, values["diff"], rel_tol=1e-9, abs_tol=1e-12), name
                compared += 1
    assert compared >= 5
    # DVC lists changed metrics only; everything we call unchanged must be absent there.
    listed = {name for rows in dvc_metrics.values() for name in rows}
    unchanged = {name for name, row in ours.items() if row.change == Change.UNCHANGED}
    assert not unchanged & listed

    params = {p.name: p for p in report.params}
    expected = dvc_params["params.yaml"]
    assert set(params) == set(expected)
    for name, values in expected.items():
        assert (params[name].base, params[name].head) == (values["old"], values["new"])


@pytest.mark.slow
def test_report_on_the_workspace_after_repro(repo: Path) -> None:
    _edit_params(repo, "train", "model", "logistic_regression")
    log = dvc(repo, "repro").stdout
    report = api.report("main", root=repo, repro_log=log)
    assert report.head.commit is None
    assert report.pipeline == "ran"
    (model,) = report.models
    assert model.artifact_changed
    assert model.status in {ModelStatus.REGRESSED, ModelStatus.MIXED, ModelStatus.IMPROVED}
    assert [p.name for p in report.params] == ["train.model"]
    assert {c.name for c in model.curves} == {"roc", "pr", "calibration"}
    markdown = gitml(repo, "report", "--base", "main").stdout
    assert (
        "<code>train.model</code> | hist\\_gradient\\_boosting | logistic\\_regression" in markdown
    )
    json_out = json.loads(gitml(repo, "report", "--base", "main", "--json").stdout)
    assert json_out["models"][0]["status"] == model.status.value


def test_unknown_base_explains_the_shallow_clone_fix(tmp_path: Path) -> None:
    build_case(tmp_path / "r", "improved")
    result = gitml(tmp_path / "r", "report", "--base", "origin/main", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "gitml: error: unknown revision 'origin/main': the clone may be shallow or lack the "
        "branch: run `git fetch origin main` (or check out with `fetch-depth: 0` in GitHub "
        "Actions)"
    )
    with pytest.raises(GitError):
        api.report("--upload-pack=evil", root=tmp_path / "r")


def test_corrupt_metrics_names_file_and_revision(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    build_case(repo, "improved")
    (repo / "metrics/credit.json").write_text('{"roc_auc": 0.8,')
    with pytest.raises(ConfigError, match=r"metrics/credit.json at workspace: not valid YAML"):
        api.report("main", root=repo)
    result = gitml(repo, "report", "--base", "main", check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("gitml: error: metrics/credit.json at workspace: not valid")


def test_metrics_file_missing_in_the_workspace_is_an_error(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    build_case(repo, "improved")
    (repo / "metrics/credit.json").unlink()
    with pytest.raises(ConfigError, match=r"metrics/credit.json: missing in workspace \(run"):
        api.report("main", root=repo)


def test_metrics_file_missing_on_base_reads_as_new_model(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    build_case(repo, "improved")
    git(repo, "checkout", "-q", "main")
    git(repo, "rm", "-q", "metrics/credit.json")
    git(repo, "commit", "-qm", "drop metrics")
    git(repo, "checkout", "-q", "feature")
    (model,) = api.report("main", "feature", root=repo).models
    assert model.status == ModelStatus.NEW
    assert model.notes == ("no metrics on the base side: shown as a new model",)


def test_the_report_and_its_gate_read_each_revision_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitml.report import sides

    repo = tmp_path / "r"
    build_case(repo, "regressed")
    gate = {"metrics": {"roc_auc": {"max_regression": {"atol": 0}}}}
    config = {**CONFIG, "gates": {"main": gate}}
    # The rules are the target's: main gets the gate, and the feature branch follows it.
    branch = git(repo, "branch", "--show-current").stdout.strip()
    git(repo, "checkout", "-q", "main")
    (repo / "gitml.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    git(repo, "commit", "-qam", "gate main")
    git(repo, "checkout", "-q", branch)
    git(repo, "merge", "-q", "main", "-m", "Merge main")
    read: list[str] = []
    read_side = sides.read_side

    def counting(tree: sides.Tree, root: Path | None = None) -> sides.SideFiles:
        read.append(tree.label)
        return read_side(tree, root)

    monkeypatch.setattr(sides, "read_side", counting)
    report = api.report("main", "feature", root=repo)
    assert report.gate.status == "failed"
    assert report.gate.failures[0].startswith("credit: roc_auc regression vs baseline: 0.7912")
    assert sorted(read) == ["feature", "main"]


def test_a_pull_request_that_relaxes_its_gate_is_judged_by_the_targets(tmp_path: Path) -> None:
    """The judge comes from the target: loosening ``gates:`` on the branch changes nothing
    for this pull request, and the report says the rules change."""
    repo = tmp_path / "r"
    build_case(repo, "regressed")
    strict = {"metrics": {"roc_auc": {"max_regression": {"atol": 0}}}}
    branch = git(repo, "branch", "--show-current").stdout.strip()
    git(repo, "checkout", "-q", "main")
    (repo / "gitml.yaml").write_text(
        yaml.safe_dump({**CONFIG, "gates": {"main": strict}}, sort_keys=False)
    )
    git(repo, "commit", "-qam", "gate main")
    git(repo, "checkout", "-q", branch)
    git(repo, "merge", "-q", "main", "-m", "Merge main")
    loose = {"metrics": {"roc_auc": {"max_regression": {"atol": 1}}}}
    (repo / "gitml.yaml").write_text(
        yaml.safe_dump({**CONFIG, "gates": {"main": loose}}, sort_keys=False)
    )
    git(repo, "commit", "-qam", "Relax the gate")
    report = api.report("main", branch, root=repo)
    assert report.gate.status == "failed"
    assert report.gate.rules_changed
    assert "changes the gate rules" in render(report)
    assert api.check(root=repo, base="main", head=branch).status == "failed"


def test_many_models_and_metrics_stay_under_githubs_limit(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    models = {
        f"model-{i}": {
            "artifact": f"m{i}.skops",
            "metrics": [f"metrics/m{i}.json"],
            "plots": "metrics/plots",
        }
        for i in range(12)
    }
    config = {
        "models": models,
        "stage_branch": "{stage}/{model}",
        "metrics": {f"metric_{j}": "higher" for j in range(400)},
    }
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    base = files(BASE)
    head = files(BASE)
    for i in range(12):
        base[f"metrics/m{i}.json"] = json.dumps({f"metric_{j}": j / 1000 for j in range(400)})
        head[f"metrics/m{i}.json"] = json.dumps({f"metric_{j}": j / 999 for j in range(400)})
    base["gitml.yaml"] = head["gitml.yaml"] = yaml.safe_dump(config)
    write(repo, base)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    write(repo, head)
    markdown = render(api.report("main", root=repo))
    assert len(markdown) < GITHUB_COMMENT_LIMIT
    assert "not shown (comment size limit)" in markdown
    assert markdown.count("### ") >= 12


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("origin/main", "main"),
        ("main", "main"),
        ("origin/staging", "staging"),
        ("refs/heads/production", "production"),
        ("feature/x", "main"),
    ],
)
def test_stage_is_derived_from_the_base_branch(base: str, expected: str) -> None:
    assert stage_for_base(base, ("staging", "production"), "{stage}") == expected


def test_stage_for_per_model_branches() -> None:
    stages = ("staging", "production")
    assert stage_for_base("origin/production/credit", stages, "{stage}/{model}") == "production"


@pytest.mark.parametrize(
    ("log", "status"),
    [
        ("Running stage 'train':\n", "ran"),
        ("Stage 'train' is cached - skipping run, checking out outputs\n", "restored"),
        ("Running stage 'evaluate':\nStage 'train' is cached - skipping run\n", "partly-restored"),
        ("Stage 'train' didn't change, skipping\n", "up-to-date"),
        (None, "unknown"),
    ],
)
def test_pipeline_status_from_the_repro_log(log: str | None, status: str) -> None:
    assert pipeline_status(log) == status


def test_png_plots_are_written_offline(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    build_case(repo, "improved")
    plots = tmp_path / "plots"
    out = gitml(
        repo,
        "report",
        "--base",
        "main",
        "--plots-dir",
        str(plots),
        "-o",
        str(tmp_path / "report.md"),
    )
    assert out.stdout == ""
    pngs = sorted(p.name for p in plots.iterdir())
    assert pngs == ["credit-roc.png"]
    assert (plots / "credit-roc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![" not in (tmp_path / "report.md").read_text()


def _add_shifted_batch(repo: Path, rows: int = 2000) -> None:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["data"]["batches"].append(
        {"file": "batch-001.csv", "rows": rows, "seed": 99, "shift": 1.0}
    )
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    from tests.helpers import example

    example(repo, "data")
    dvc(repo, "add", "-q", "data")


@pytest.mark.slow
def test_data_change_scores_champion_and_challenger_on_the_same_rows(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "more-data")
    _add_shifted_batch(repo)
    dvc(repo, "repro", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Add a batch from the downturn")

    report = api.report("main", "more-data", root=repo)
    (model,) = report.models
    assert [d.path for d in report.data] == ["data"]
    head_metrics = json.loads((repo / "metrics/credit.json").read_text())
    card = yaml.safe_load((repo / "models/credit.card.yaml").read_text())
    assert model.same_rows_count == card["evaluation_data"]["rows"]
    same = {row.name: row for row in model.same_rows}
    assert list(same) == ["roc_auc", "average_precision", "log_loss", "brier_score", "f1"]
    # The challenger on its own evaluation rows is exactly what its metrics file says.
    for name, row in same.items():
        assert math.isclose(row.head, head_metrics[name], rel_tol=1e-5), name
    # The champion was scored on the same (new) rows, so its numbers are not base's file's.
    base_metrics = json.loads(git(repo, "show", "main:metrics/credit.json").stdout)
    assert not math.isclose(same["roc_auc"].base, base_metrics["roc_auc"], rel_tol=1e-6)
    markdown = render(report)
    assert "**Champion vs challenger on the same rows**" in markdown

    # Without the base model's bytes anywhere, the report still renders, with a note.
    shutil.rmtree(repo / ".dvc" / "cache")
    (model,) = api.report("main", "more-data", root=repo).models
    assert model.same_rows == ()
    assert model.notes[0].startswith("the base model could not be re-scored on the head's rows")


# --- the drift baseline -------------------------------------------------------------------

# What the generator's downturn moves (src/credit_example/generate.py).
SHIFTED_FEATURES = {"annual_income", "debt_to_income", "credit_utilization", "interest_rate"}


@pytest.mark.slow
def test_a_batch_from_the_downturn_shows_the_baseline_moving(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "downturn")
    _add_shifted_batch(repo, rows=4000)  # as many rows as main has: half the new rows shifted
    dvc(repo, "repro", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Add a batch from the downturn")

    report = api.report("main", "downturn", root=repo, rescore=False)
    (model,) = report.models
    change = model.baseline
    assert change is not None
    assert change.diff is not None
    assert change.status == BaselineStatus.MATERIAL
    assert change.path == "models/credit.baseline.json"
    assert (change.rows_base, change.rows_head) == (1000, 2000)
    moved = [f.name for f in change.diff.moved]
    assert moved
    assert set(moved) <= SHIFTED_FEATURES, moved
    assert change.diff.score.level != "ok"  # the downturn raises the predicted risk

    markdown = render(report)
    block = markdown.split("**Drift baseline**")[1].split("**Operational figures**")[0]
    for name in moved:
        assert f"| {name.replace('_', chr(92) + '_')} | " in block
    assert "| predicted score | " in block
    assert "reference rows 1,000 → 2,000" in block
    data = json.loads(
        gitml(repo, "report", "--base", "main", "--head", "downturn", "--json").stdout
    )
    baseline = data["models"][0]["baseline"]
    assert baseline["status"] == "material"
    assert [f["name"] for f in baseline["comparison"]["features"] if f["level"] != "ok"] == moved


@pytest.mark.slow
def test_a_hyperparameter_change_moves_the_score_distribution_at_most(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "tune")
    _edit_params(repo, "train", "hist_gradient_boosting.learning_rate", 0.2)
    dvc(repo, "repro", "-q")
    git(repo, "commit", "-qam", "Tune the learning rate")

    (model,) = api.report("main", "tune", root=repo).models
    change = model.baseline
    assert change is not None
    assert change.diff is not None
    assert change.status in {BaselineStatus.CHANGED, BaselineStatus.MATERIAL}
    # Same evaluation rows: every feature's reference is exactly the same.
    assert change.diff.moved == ()
    assert all(f.psi == 0.0 and f.level == "ok" for f in change.diff.features)
    assert (change.diff.score.psi or 0.0) > 0
    assert (change.rows_base, change.rows_head) == (1000, 1000)


def test_baseline_statuses_on_each_side(tmp_path: Path) -> None:
    expected = {
        "baseline-moved": BaselineStatus.MATERIAL,
        "baseline-immaterial": BaselineStatus.CHANGED,
        "baseline-added": BaselineStatus.ADDED,
        "baseline-missing": BaselineStatus.MISSING,
        "baseline-removed": BaselineStatus.REMOVED,
        "improved": None,  # no side configures a baseline
    }
    for case, status in expected.items():
        build_case(tmp_path / case, case)
        (model,) = api.report("main", "feature", root=tmp_path / case).models
        assert (model.baseline.status if model.baseline else None) == status, case
    # Byte-identical baselines: nothing to say, in markdown or beyond the status in JSON.
    same = files(BASE, config=BASELINE_CONFIG, baseline=baseline(1000))
    build_pair(tmp_path / "same", (same, {**same, "metrics/credit.json": '{"roc_auc": 0.9}'}))
    report = api.report("main", "feature", root=tmp_path / "same")
    unchanged = report.models[0].baseline
    assert unchanged is not None
    assert unchanged.status == BaselineStatus.UNCHANGED
    assert "Drift baseline" not in render(report)


def build_pair(repo: Path, case: tuple[dict[str, str], dict[str, str]]) -> None:
    """Build an ad-hoc case the way build_case builds the named ones."""
    CASES["_adhoc"] = case
    try:
        build_case(repo, "_adhoc")
    finally:
        del CASES["_adhoc"]


def test_a_corrupt_baseline_names_file_revision_and_key(tmp_path: Path) -> None:
    broken = baseline(1000)
    broken["features"]["annual_income"]["fractions"] = [0.5, 0.5]
    base = files(BASE, config=BASELINE_CONFIG, baseline=baseline(1000))
    head = files(BASE, md5="b" * 32, config=BASELINE_CONFIG, baseline=broken)
    build_pair(tmp_path / "r", (base, head))
    result = gitml(tmp_path / "r", "report", "--base", "main", "--head", "feature", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "gitml: error: models/credit.baseline.json at feature: "
        "features.annual_income.fractions: 2 fractions for 9 edges (expected edges + 1)"
    )
    head["models/credit.baseline.json"] = "{not json"
    build_pair(tmp_path / "r2", (base, head))
    with pytest.raises(ConfigError, match=r"^models/credit.baseline.json at feature: not valid"):
        api.report("main", "feature", root=tmp_path / "r2")


def test_a_bad_drift_threshold_in_gitml_yaml_is_named(tmp_path: Path) -> None:
    config = {**BASELINE_CONFIG, "drift": {"psi_warn": 0.5, "psi_drift": 0.25}}
    base = files(BASE, config=BASELINE_CONFIG, baseline=baseline(1000))
    head = files(BASE, md5="b" * 32, config=config, baseline=baseline(1000, score=0.2))
    build_pair(tmp_path / "r", (base, head))
    with pytest.raises(ConfigError, match=r"drift\.psi_warn: must be >= 0 and <= psi_drift"):
        api.report("main", "feature", root=tmp_path / "r")


def test_thresholds_come_from_the_heads_gitml_yaml(tmp_path: Path) -> None:
    lenient = {
        **BASELINE_CONFIG,
        "drift": {"psi_warn": 5, "psi_drift": 9, "ks_warn": 0.9, "ks_drift": 0.95},
    }
    base = files(BASE, config=BASELINE_CONFIG, baseline=baseline(1000))
    head = files(BASE, md5="b" * 32, config=lenient, baseline=baseline(1000, score=0.16))
    build_pair(tmp_path / "r", (base, head))
    (model,) = api.report("main", "feature", root=tmp_path / "r").models
    assert model.baseline is not None
    assert model.baseline.diff is not None
    assert model.baseline.status == BaselineStatus.CHANGED
    assert model.baseline.diff.thresholds.psi_warn == 5

"""Which configuration reads each side of a comparison: the target's, then the other side's,
then dvc.yaml's, then the working tree's; and what a candidate cannot change by its own."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import yaml

from gitml import api
from tests.helpers import git, gitml
from tests.report_cases import lock

if TYPE_CHECKING:
    from pathlib import Path

DVC_YAML = {
    "stages": {"train": {"cmd": "python train.py", "outs": ["models/m.pkl"]}},
    "metrics": ["eval/metrics.json"],
    "artifacts": {"clf": {"path": "models/m.pkl", "type": "model"}},
}
GITML = {"models": {"clf": {"metrics": ["eval/metrics.json"]}}, "metrics": {"auc": "higher"}}


def _commit(repo: Path, files: dict[str, object], message: str) -> None:
    for name, content in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.unlink()
            continue
        text = content if isinstance(content, str) else yaml.safe_dump(content)
        path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


def _metrics(auc: float, loss: float) -> str:
    return json.dumps({"auc": {"train": 0.99, "test": auc}, "loss": {"test": loss}})


def _repo(tmp_path: Path, dvc_yaml: dict[str, object] | None = None) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    files: dict[str, object] = {
        "eval/metrics.json": _metrics(0.80, 0.50),
        "dvc.lock": lock("a" * 32).replace("models/credit.skops", "models/m.pkl"),
        "params.yaml": {"train": {"alpha": 0.1}},
    }
    if dvc_yaml is not None:
        files["dvc.yaml"] = dvc_yaml
    _commit(repo, files, "before gitml")
    return repo


def test_the_adoption_pull_request_compares_with_a_base_that_predates_gitml(
    tmp_path: Path,
) -> None:
    # The base has no gitml.yaml and no `artifacts:` yet: only its metrics and dvc.lock.
    repo = _repo(tmp_path, {"stages": DVC_YAML["stages"]})
    git(repo, "checkout", "-qb", "adopt")
    _commit(
        repo,
        {"dvc.yaml": DVC_YAML, "gitml.yaml": GITML, "eval/metrics.json": _metrics(0.82, 0.45)},
        "adopt gitml",
    )
    (model,) = api.report("main", "adopt", root=repo).models
    assert model.status == "improved"
    rows = {row.name: row for row in model.metrics}
    assert (rows["auc.test"].base, rows["auc.test"].head) == (0.80, 0.82)
    assert rows["loss.test"].direction == "lower"  # from its name: gitml.yaml declares auc only
    assert model.headline is not None
    assert model.headline.name == "auc.test"


def test_commits_without_any_configuration_are_read_with_the_working_trees(
    tmp_path: Path,
) -> None:
    repo = _repo(tmp_path)  # no dvc.yaml artifacts, no gitml.yaml
    git(repo, "checkout", "-qb", "head")
    _commit(repo, {"eval/metrics.json": _metrics(0.70, 0.60)}, "worse")
    failed = gitml(repo, "report", "--base", "main", "--head", "head", check=False)
    assert failed.returncode == 1
    assert "no model to compare" in failed.stderr
    # `gitml init` ran, nothing committed yet: the working tree's gitml.yaml reads both.
    (repo / "gitml.yaml").write_text(
        yaml.safe_dump({"models": {"clf": {"artifact": "models/m.pkl", **GITML["models"]["clf"]}}})
    )
    (model,) = api.report("main", "head", root=repo).models
    assert model.status == "regressed"


def test_a_candidate_cannot_point_its_judge_at_a_file_of_its_choosing(tmp_path: Path) -> None:
    repo = _repo(tmp_path, DVC_YAML)
    gate = {"main": {"metrics": {"auc.test": {"min": 0.75}}}}
    _commit(repo, {"gitml.yaml": {**GITML, "gates": gate}}, "adopt gitml")
    git(repo, "checkout", "-qb", "candidate")
    # The pipeline's real metrics got worse; the candidate adds a flattering file and
    # points its own gitml.yaml at it.
    forged = {**GITML, "models": {"clf": {"metrics": ["eval/forged.json"]}}, "gates": gate}
    _commit(
        repo,
        {
            "eval/metrics.json": _metrics(0.60, 0.90),
            "eval/forged.json": _metrics(0.99, 0.01),
            "gitml.yaml": forged,
        },
        "forge",
    )
    report = api.report("main", "candidate", root=repo)
    (model,) = report.models
    assert {row.name: row.head for row in model.metrics}["auc.test"] == 0.60
    assert report.gate.status == "failed"


def test_a_required_metric_that_became_nan_fails_the_gate(tmp_path: Path) -> None:
    repo = _repo(tmp_path, DVC_YAML)
    gate = {"main": {"required_metrics": ["auc.test"]}}
    _commit(repo, {"gitml.yaml": {**GITML, "gates": gate}}, "adopt gitml")
    git(repo, "checkout", "-qb", "nan")
    nan = json.dumps({"auc": {"train": 0.99, "test": float("nan")}, "loss": {"test": 0.4}})
    _commit(repo, {"eval/metrics.json": nan}, "auc is NaN, loss improved")
    report = api.report("main", "nan", root=repo)
    (model,) = report.models
    rows = {row.name: row.change for row in model.metrics}
    assert rows == {"auc.test": "became NaN", "loss.test": "better", "auc.train": "unchanged"}
    assert model.status == "mixed"  # one better, one NaN: never "improved"
    assert report.gate.status == "failed"
    assert report.gate.failures == ("clf: auc.test present: NaN (limit required)",)


def test_a_stage_gate_without_gitml_yaml_says_what_is_missing(tmp_path: Path) -> None:
    repo = _repo(tmp_path, DVC_YAML)
    result = gitml(repo, "check", "--stage", "prod", check=False)
    assert result.returncode == 1
    assert result.stderr == (
        "gitml: error: --stage 'prod': no gitml.yaml declares stages or gates here (run "
        "`gitml init`; without one only pull requests into main are reported)\n"
    )

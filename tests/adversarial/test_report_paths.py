"""A pull request cannot make the report quote a file of the machine it runs on.

In a repository without gitml.yaml (or in the pull request that adopts gitml) the files
the report reads come from the candidate's dvc.yaml, and the working tree is the
candidate's checkout: a path with `..` or a committed symbolic link must not lead out.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import yaml

from tests.helpers import git, gitml

if TYPE_CHECKING:
    from pathlib import Path

SECRET = {"roc_auc": 0.123456789}  # what a runner's file would leak into a comment


def _repo(tmp_path: Path, metrics: list[str]) -> Path:
    (tmp_path / "secret.json").write_text(json.dumps(SECRET))
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    dvc_yaml = {
        "metrics": metrics,
        "artifacts": {
            "clf": {"path": "model.pkl", "type": "model"},
            "stolen": {"path": "../secret.json", "type": "model"},
        },
    }
    (repo / "dvc.yaml").write_text(yaml.safe_dump(dvc_yaml))
    (repo / "eval").mkdir()
    (repo / "eval" / "metrics.json").write_text(json.dumps({"roc_auc": 0.8}))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    return repo


def test_metrics_paths_out_of_the_repository_are_not_read(tmp_path: Path) -> None:
    repo = _repo(tmp_path, ["eval/metrics.json", "../secret.json", "/etc/hostname"])
    result = gitml(repo, "report", "--base", "main", "--json")
    report = json.loads(result.stdout)
    assert [m["name"] for m in report["models"]] == ["clf"]  # `stolen` is left out
    (model,) = report["models"]
    assert "0.123456789" not in result.stdout
    assert [row["name"] for row in model["metrics"]] == ["roc_auc"]


def test_a_committed_symlink_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    repo = _repo(tmp_path, ["eval/metrics.json"])
    git(repo, "checkout", "-qb", "candidate")
    (repo / "eval" / "metrics.json").unlink()
    (repo / "eval" / "metrics.json").symlink_to(tmp_path / "secret.json")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "point the metrics at the runner's file")
    # The candidate checked out in CI: the working tree holds the link.
    result = gitml(repo, "report", "--base", "main", check=False)
    assert result.returncode == 1
    assert result.stderr == (
        "gitml: error: eval/metrics.json: leads out of the repository (`..` or a symbolic "
        "link): not read\n"
    )
    assert "0.123456789" not in result.stdout
    # Read from the commit instead, the link is a blob whose text is a path, not JSON
    # metrics: it never reaches the runner's file either.
    by_commit = gitml(repo, "report", "--base", "main", "--head", "candidate", check=False)
    assert "0.123456789" not in by_commit.stdout + by_commit.stderr

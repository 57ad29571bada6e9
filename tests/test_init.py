"""`gitml init` in a DVC repository that is not the example project."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import yaml

from gitml.init import WORKFLOWS
from tests.helpers import PROJECT_ROOT, dvc, git, gitml

if TYPE_CHECKING:
    from pathlib import Path

TEMPLATES = PROJECT_ROOT / "src" / "gitml" / "templates"


def test_shipped_templates_are_the_repositorys_own_workflows() -> None:
    for name in WORKFLOWS:
        assert (TEMPLATES / "workflows" / name).read_bytes() == (
            PROJECT_ROOT / ".github" / "workflows" / name
        ).read_bytes(), name
    assert (TEMPLATES / "actions" / "setup-gitml" / "action.yml").read_bytes() == (
        PROJECT_ROOT / ".github" / "actions" / "setup-gitml" / "action.yml"
    ).read_bytes()


def _foreign_repo(root: Path) -> Path:
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    dvc(root, "init", "-q")
    (root / "dvc.yaml").write_text(
        yaml.safe_dump(
            {
                "stages": {
                    "featurize": {"cmd": "python featurize.py", "outs": ["features.parquet"]},
                    "fit": {
                        "cmd": "python fit.py",
                        "deps": ["features.parquet"],
                        "outs": ["out/churn.joblib"],
                        "metrics": [{"eval/scores.json": {"cache": False}}],
                    },
                },
                "artifacts": {
                    "churn": {
                        "path": "out/churn.joblib",
                        "type": "model",
                        "desc": "Churn in 90 days",
                    },
                    "features": {"path": "features.parquet", "type": "dataset"},
                },
            },
            sort_keys=False,
        )
    )
    (root / "eval").mkdir()
    (root / "eval" / "scores.json").write_text(
        json.dumps({"roc_auc": 0.71, "logloss": 0.4, "rows": 900})
    )
    return root


def test_init_scaffolds_a_foreign_dvc_repository(tmp_path: Path) -> None:
    repo = _foreign_repo(tmp_path / "churn")
    out = gitml(repo, "init").stdout
    assert "wrote gitml.yaml" in out
    assert "next steps:" in out
    assert "required reviewers" in out
    config = yaml.safe_load((repo / "gitml.yaml").read_text())
    assert config["models"] == {
        "churn": {
            "artifact": "out/churn.joblib",
            "metrics": ["eval/scores.json"],
            "description": "Churn in 90 days",
        }
    }
    assert config["metrics"] == {"logloss": "lower", "roc_auc": "higher"}
    for name in WORKFLOWS:
        assert (repo / ".github" / "workflows" / name).read_bytes() == (
            TEMPLATES / "workflows" / name
        ).read_bytes()
    report = json.loads(gitml(repo, "validate", "--json").stdout)
    assert report["ok"], report


def test_init_never_overwrites_without_force(tmp_path: Path) -> None:
    repo = _foreign_repo(tmp_path / "churn")
    gitml(repo, "init")
    workflow = repo / ".github" / "workflows" / "register.yml"
    workflow.write_text("# customised by the team\n")
    again = gitml(repo, "init", check=False)
    assert again.returncode == 1
    assert "kept  .github/workflows/register.yml (exists; --force overwrites)" in again.stdout
    assert workflow.read_text() == "# customised by the team\n"
    gitml(repo, "init", "--force")
    assert workflow.read_bytes() == (TEMPLATES / "workflows" / "register.yml").read_bytes()


def test_init_needs_a_declared_model(tmp_path: Path) -> None:
    repo = tmp_path / "plain"
    repo.mkdir()
    (repo / "dvc.yaml").write_text("stages: {}\n")
    result = gitml(repo, "init", check=False)
    assert result.returncode == 1
    assert "dvc.yaml: no `artifacts:` entry of type model" in result.stderr
    assert not (repo / "gitml.yaml").exists()
    missing = gitml(tmp_path, "init", check=False)
    assert "dvc.yaml: not found" in missing.stderr

"""`gitml init` in a DVC repository that is not the example project."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
import yaml

from gitml.init import WORKFLOWS
from tests.helpers import PROJECT_ROOT, dvc, git, gitml
from tests.workflows.act import pull_request_payload, run_act
from tests.workflows.github_api import TOKEN, act_environment, expect_statuses, statuses

if TYPE_CHECKING:
    from pathlib import Path

    from pytest_httpserver import HTTPServer

    from tests.conftest import Clock

TEMPLATES = PROJECT_ROOT / "src" / "gitml" / "templates"


def test_shipped_templates_are_the_repositorys_own_workflows() -> None:
    for name in WORKFLOWS:
        assert (TEMPLATES / "workflows" / name).read_bytes() == (
            PROJECT_ROOT / ".github" / "workflows" / name
        ).read_bytes(), name
    assert (TEMPLATES / "actions" / "setup-gitml" / "action.yml").read_bytes() == (
        PROJECT_ROOT / ".github" / "actions" / "setup-gitml" / "action.yml"
    ).read_bytes()


# A churn project's two stages (plain Python, no ML library): its files are laid out as
# this team chose (out/, eval/), nothing like the example project's models/ and metrics/.
FEATURIZE = """\
from pathlib import Path

Path("features.parquet").write_text("tenure,plan\\n" + "12,basic\\n" * 900)
"""
FIT = """\
import json
from pathlib import Path

import yaml

depth = yaml.safe_load(Path("params.yaml").read_text())["fit"]["depth"]
rows = Path("features.parquet").read_text().count("\\n") - 1
Path("out").mkdir(exist_ok=True)
Path("out/churn.joblib").write_bytes(f"churn model, depth {depth}".encode())
Path("eval").mkdir(exist_ok=True)
scores = {"roc_auc": round(0.6 + depth / 100, 3), "logloss": 0.4, "rows": rows}
Path("eval/scores.json").write_text(json.dumps(scores))
"""


def _foreign_repo(root: Path) -> Path:
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    dvc(root, "init", "-q")
    (root / "featurize.py").write_text(FEATURIZE)
    (root / "fit.py").write_text(FIT)
    (root / "params.yaml").write_text("fit:\n  depth: 3\n")
    (root / "dvc.yaml").write_text(
        yaml.safe_dump(
            {
                "stages": {
                    "featurize": {
                        "cmd": "python featurize.py",
                        "deps": ["featurize.py"],
                        "outs": ["features.parquet"],
                    },
                    "fit": {
                        "cmd": "python fit.py",
                        "deps": ["features.parquet", "fit.py"],
                        "params": ["fit"],
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
    # The required status every pull request gets, and the real check names of the jobs.
    assert "require the `gitml/check` status" in out
    propose = yaml.safe_load((TEMPLATES / "workflows" / "propose.yml").read_text())
    for job in ("build", "build-fork", "stage"):
        assert f"'{propose['jobs'][job]['name']}'" in out, job
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


@pytest.mark.slow
def test_scaffolded_workflows_run_in_the_foreign_repository(
    tmp_path: Path, clock: Clock, httpserver: HTTPServer
) -> None:
    """The workflows `gitml init` wrote, run by act in the repository it wrote them to: no
    constraints.txt (setup-python's pip cache must not demand one), and the pipeline's own
    files (eval/, out/) are what the pull request run commits back, then registers."""
    repo = _foreign_repo(tmp_path / "churn")
    gitml(repo, "init")
    remote = tmp_path / "dvc-remote"
    dvc(repo, "remote", "add", "-d", "storage", str(remote))
    dvc(repo, "repro", "-q")
    dvc(repo, "push", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Churn model, with gitml")
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "-u", "origin", "main")
    assert not (repo / "constraints.txt").exists()
    assert not (repo / "requirements.txt").exists()

    # A pull request that deepens the model, without running the pipeline.
    git(repo, "checkout", "-q", "-b", "deeper")
    (repo / "params.yaml").write_text("fit:\n  depth: 5\n")
    git(repo, "commit", "-qam", "Deeper model")
    git(repo, "push", "-q", "origin", "deeper")
    sha = git(repo, "rev-parse", "HEAD").stdout.strip()
    expect_statuses(httpserver)
    payload = pull_request_payload(3, "deeper", "main", sha)
    env, secrets = act_environment(httpserver), {"GITHUB_TOKEN": TOKEN}
    proposed = run_act(
        repo, "pull_request", "propose.yml", "gate", payload, tmp_path / "act-1", env, secrets
    )
    assert proposed.returncode == 0, proposed.output[-5000:]
    git(repo, "fetch", "-q", "origin")
    pushed = git(repo, "rev-parse", "origin/deeper").stdout.strip()
    committed = git(repo, "diff", "--name-only", sha, pushed).stdout.split()
    assert committed == ["dvc.lock", "eval/scores.json"]
    assert json.loads(git(repo, "show", f"{pushed}:eval/scores.json").stdout)["roc_auc"] == 0.65
    assert [(s.sha, s.state) for s in statuses(httpserver)] == [(pushed, "success")]
    ((_args, report),) = proposed.cml_calls
    assert "churn" in report

    # Merged: the push to main registers the version whose bytes the run pushed.
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--ff-only", "origin/deeper")
    git(repo, "push", "-q", "origin", "main")
    clock.tick()
    push = {"ref": "refs/heads/main", "repository": {"full_name": "acme/credit"}}
    registered = run_act(repo, "push", "register.yml", "register", push, tmp_path / "act-2")
    assert registered.returncode == 0, registered.output[-5000:]
    tags = git(repo, "ls-remote", "--tags", "--refs", "origin").stdout
    assert "refs/tags/churn@v" in tags

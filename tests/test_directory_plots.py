"""A plots directory (DVCLive's step metrics, `dvclive/plots/metrics`) is drawn file by
file, listed on each side: from git, or from the manifest of a cached DVC output."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import pytest
import yaml

from tests.helpers import dvc, git, gitml, run

if TYPE_CHECKING:
    from pathlib import Path

pytest.importorskip("dvclive")

# Logs a short training run with real DVCLive: step metrics under dvclive/plots/metrics.
TRAIN = """\
import sys
from dvclive import Live

rate = float(sys.argv[1])
with Live(dir="dvclive", dvcyaml={dvcyaml}, save_dvc_exp=False) as live:
    loss = 1.0
    for step in range(6):
        loss *= 1 - rate
        live.log_metric("train/loss", round(loss, 6))
        live.log_metric("train/acc", round(1 - loss / 2, 6))
        live.next_step()
open("model.pkl", "w").write(f"model trained at rate {{rate}}")
"""
ARTIFACTS = {"clf": {"path": "model.pkl", "type": "model"}}


def _train(repo: Path, rate: float) -> None:
    run(sys.executable, "train.py", str(rate), cwd=repo)


def _git_tracked(repo: Path) -> None:
    """DVCLive writes dvc.yaml itself (top-level metrics and the plots directory)."""
    (repo / "train.py").write_text(TRAIN.format(dvcyaml='"dvc.yaml"'))
    _train(repo, 0.2)
    document = yaml.safe_load((repo / "dvc.yaml").read_text())
    assert document["plots"] == [{"dvclive/plots/metrics": {"x": "step"}}]  # DVCLive's own
    document["artifacts"] = ARTIFACTS
    (repo / "dvc.yaml").write_text(yaml.safe_dump(document))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "first run")
    git(repo, "checkout", "-qb", "pr")
    _train(repo, 0.4)
    git(repo, "commit", "-qam", "faster learning rate")


def _cached(repo: Path, tmp_path: Path) -> None:
    """The run is a DVC stage whose `dvclive` directory is a cached output."""
    (repo / "train.py").write_text(TRAIN.format(dvcyaml="False"))
    (repo / "params.yaml").write_text("rate: 0.2\n")
    stage = {
        "cmd": "python train.py ${rate}",
        "deps": ["train.py"],
        "params": ["rate"],
        "outs": ["dvclive", "model.pkl"],
    }
    document = {
        "stages": {"train": stage},
        "metrics": ["dvclive/metrics.json"],
        "plots": [{"dvclive/plots/metrics": {"x": "step"}}],
        "artifacts": ARTIFACTS,
    }
    (repo / "dvc.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    dvc(repo, "remote", "add", "-q", "-d", "store", str(tmp_path / "remote"))
    dvc(repo, "repro", "-q")
    dvc(repo, "push", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "first run")
    git(repo, "checkout", "-qb", "pr")
    (repo / "params.yaml").write_text("rate: 0.4\n")
    dvc(repo, "repro", "-q")
    dvc(repo, "push", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "faster learning rate")


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["git", "cached"])
def test_dvclive_step_metrics_are_drawn_per_file(tmp_path: Path, variant: str) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    dvc(repo, "init", "-q")
    git(repo, "commit", "-qm", "dvc init")  # DVCLive reads the current commit
    if variant == "git":
        _git_tracked(repo)
    else:
        _cached(repo, tmp_path)
        run("rm", "-rf", ".dvc/cache", "dvclive", cwd=repo)  # a fresh CI runner: the remote
    report = json.loads(gitml(repo, "report", "--base", "main", "--head", "pr", "--json").stdout)
    (model,) = report["models"]
    plots = {plot["id"]: plot for plot in model["plots"]}
    assert set(plots) == {
        "dvclive/plots/metrics/train/loss.tsv",
        "dvclive/plots/metrics/train/acc.tsv",
    }
    loss = plots["dvclive/plots/metrics/train/loss.tsv"]
    assert loss["x"] == [0, 1, 2, 3, 4, 5]  # one point per step
    lines = {line["side"]: line["y"] for line in loss["lines"]}
    assert lines["base"][0] == pytest.approx(0.8)
    assert lines["head"][0] == pytest.approx(0.6)
    assert model["status"] == "improved"  # train.loss lower, train.acc higher
    markdown = gitml(repo, "report", "--base", "main", "--head", "pr").stdout
    assert "**dvclive/plots/metrics/train/loss.tsv**" in markdown


def test_a_plots_directory_behind_a_symlink_is_not_listed(tmp_path: Path) -> None:
    from gitml.report.sources import WorkspaceTree

    outside = tmp_path / "outside" / "plots"
    outside.mkdir(parents=True)
    (outside / "secret.csv").write_text("step,x\n0,1\n")
    repo = tmp_path / "repo"
    (repo / "dvclive").mkdir(parents=True)
    (repo / "dvclive" / "own.csv").write_text("step,x\n0,1\n")
    (repo / "dvclive" / "linked").symlink_to(outside, target_is_directory=True)
    (repo / "up").symlink_to(tmp_path / "outside", target_is_directory=True)
    tree = WorkspaceTree(repo)
    assert tree.files_under("dvclive") == ["dvclive/own.csv"]
    assert tree.files_under("dvclive/linked") == []
    assert tree.files_under("up/plots") == []

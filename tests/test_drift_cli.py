"""`gitml drift` on a registered version of the example model, with generated live data."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from credit_example.generate import write_csv
from gitml import api
from tests.helpers import git, gitml

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Clock

pytestmark = pytest.mark.slow


def test_drift_against_the_version_baseline(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    calm, downturn = tmp_path / "calm.csv", tmp_path / "downturn.csv"
    write_csv(calm, 3000, seed=501, shift=0.0)
    write_csv(downturn, 3000, seed=502, shift=1.0)
    ok = gitml(repo, "drift", "credit@v0.1.0", "--data", str(calm), "--fail-on-drift", "--json")
    assert json.loads(ok.stdout)["verdict"] != "drift"
    found = gitml(
        repo,
        "drift",
        "credit@latest",
        "--data",
        str(downturn),
        "--fail-on-drift",
        "--json",
        check=False,
    )
    assert found.returncode == 4
    report = json.loads(found.stdout)
    assert report["verdict"] == "drift"
    assert {"annual_income", "credit_utilization"} <= set(report["drifted"])
    # The labels in the batch give live quality next to the version's own.
    assert report["performance"]["roc_auc"] is not None
    table = gitml(repo, "drift", "credit", "--data", str(downturn)).stdout
    assert "annual_income" in table


def test_drift_bad_input_is_one_clear_line(origin_repo: Path, clock: Clock, tmp_path: Path) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    broken = tmp_path / "broken.csv"
    broken.write_text("age,region\n30,north\n")
    result = gitml(repo, "drift", "credit", "--data", str(broken), check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("gitml: error: ")
    assert result.stderr.count("\n") == 1
    config = (repo / "gitml.yaml").read_text()
    monitor = config[config.index("monitor:") : config.index("retrain:")]
    (repo / "gitml.yaml").write_text(config.replace(monitor, ""))
    git(repo, "commit", "-qam", "No monitor.data")
    missing = gitml(repo, "drift", "credit", check=False)
    assert "no data: pass --data FILE or set monitor.data in gitml.yaml" in missing.stderr

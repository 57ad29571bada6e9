"""`gitml drift` on a registered version of the example model, with generated live data."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest

from credit_example.generate import default_probability, write_csv
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


def _registered(repo: Path) -> None:
    api.register(root=repo, push=True)


def test_a_bad_value_is_named_before_the_model_scores(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = origin_repo
    _registered(repo)
    calm = tmp_path / "calm.csv"
    write_csv(calm, 300, seed=503, shift=0.0)
    frame = pd.read_csv(calm)
    assert "score" not in frame.columns  # so the version's model scores the batch
    text = frame.astype({"annual_income": object})
    text.loc[2, "annual_income"] = "lots"
    infinite = frame.astype({"loan_amount": float})
    infinite.loc[4, "loan_amount"] = np.inf
    batches = {
        "text.csv": (text, "'annual_income': expected a number, row 3 holds 'lots'"),
        "text.parquet": (text, "'annual_income': expected a number, row 3 holds 'lots'"),
        "inf.csv": (infinite, "'loan_amount': expected a finite number, row 5 holds inf"),
        "inf.parquet": (infinite, "'loan_amount': expected a finite number, row 5 holds inf"),
    }
    for name, (bad, message) in batches.items():
        path = tmp_path / name
        if name.endswith(".csv"):
            bad.to_csv(path, index=False)
        else:
            bad.astype({"annual_income": str}).to_parquet(path)
        result = gitml(repo, "drift", "credit@v0.1.0", "--data", str(path), check=False)
        assert result.returncode == 1, (name, result.stderr)
        assert result.stderr == f"gitml: error: {path}: column {message}\n", name
        assert result.stdout == ""


def _scored(path: Path, rows: int, seed: int, shift: float) -> Path:
    """A generated batch with a ``score`` column (the generator's own odds), so that
    ``gitml drift`` need not load the model: quicker, and the comparison is the same."""
    write_csv(path, rows, seed=seed, shift=shift)
    frame = pd.read_csv(path)
    frame["score"] = default_probability(frame)
    frame.to_csv(path, index=False)
    return path


def _report(repo: Path, data: Path, *args: str) -> dict[str, Any]:
    out = gitml(repo, "drift", "credit@v0.1.0", "--data", str(data), "--json", *args)
    report: dict[str, Any] = json.loads(out.stdout)
    return report


def test_baseline_and_signature_come_from_the_version(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = origin_repo
    _registered(repo)
    batch = _scored(tmp_path / "mild.csv", 1500, seed=504, shift=0.5)
    before = _report(repo, batch)
    assert before["verdict"] != "ok"  # so a different baseline would show
    # The workspace files change: another threshold, a feature fewer, other bins.
    signature_file = repo / "models" / "credit.signature.json"
    signature = json.loads(signature_file.read_text())
    signature["threshold"] = 0.9
    signature["features"] = [f for f in signature["features"] if f["name"] != "annual_income"]
    signature_file.write_text(json.dumps(signature))
    baseline_file = repo / "models" / "credit.baseline.json"
    baseline = json.loads(baseline_file.read_text())
    for entry in baseline["features"].values():
        if entry["kind"] == "numeric":
            entry["edges"] = [2 * e for e in entry["edges"]]
    baseline_file.write_text(json.dumps(baseline))
    assert _report(repo, batch) == before
    signature_file.unlink()
    baseline_file.unlink()
    assert _report(repo, batch) == before


def test_drift_thresholds_in_gitml_yaml_change_the_verdict(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = origin_repo
    _registered(repo)
    # A log whose scores were not recorded: the features alone decide (the score is not
    # judged without values), and the model need not be loaded.
    downturn = tmp_path / "downturn.csv"
    write_csv(downturn, 2000, seed=505, shift=1.0)
    pd.read_csv(downturn).assign(score=np.nan).to_csv(downturn, index=False)
    default = gitml(
        repo, "drift", "credit@v0.1.0", "--data", str(downturn), "--fail-on-drift", "--json",
        check=False,
    )  # fmt: skip
    assert default.returncode == 4
    assert json.loads(default.stdout)["verdict"] == "drift"
    config = (repo / "gitml.yaml").read_text()
    assert "drift:\n  psi_warn: 0.1\n  psi_drift: 0.25\n" in config
    lenient = "drift:\n" + "".join(
        f"  {check}_drift: 0.95\n" for check in ("psi", "ks", "js", "missing", "unseen")
    )
    (repo / "gitml.yaml").write_text(
        config.replace("drift:\n  psi_warn: 0.1\n  psi_drift: 0.25\n", lenient)
    )
    custom = _report(repo, downturn, "--fail-on-drift")  # exit 0: drift is not found
    assert custom["thresholds"]["psi_drift"] == custom["thresholds"]["ks_drift"] == 0.95
    assert custom["verdict"] == "warn"
    assert custom["drifted"] == []
    assert {"annual_income", "credit_utilization"} <= set(custom["warned"])


def test_a_prediction_log_must_be_the_checked_version(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = origin_repo
    _registered(repo)
    calm = tmp_path / "calm.csv"
    write_csv(calm, 200, seed=506, shift=0.0)
    frame = pd.read_csv(calm)
    features = frame.drop(columns=["default"]).astype(object).where(frame.notna(), None)
    log = tmp_path / "predictions.jsonl"

    def write_log(version: str) -> None:
        lines = [
            json.dumps({"model": "credit", "version": version, "features": row, "score": 0.1})
            for row in features.to_dict(orient="records")
        ]
        log.write_text("\n".join(lines) + "\n")

    write_log("v0.1.0")
    assert _report(repo, log)["rows"] == 200
    write_log("v0.2.0")
    refused = gitml(repo, "drift", "credit@v0.1.0", "--data", str(log), check=False)
    assert refused.returncode == 1
    assert refused.stderr == (
        f"gitml: error: {log}: line 1 (and 199 more of 200 records) logs a prediction of "
        "credit@v0.2.0, not of credit@v0.1.0, the version checked: check credit@v0.2.0 "
        "instead, or keep only credit@v0.1.0's lines\n"
    )

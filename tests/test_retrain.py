"""`gitml retrain`: the drift-to-retrain loop on the example, and every way it can refuse.

Real repositories, real DVC (local remote), real scikit-learn; GitHub is a local server
that checks the requests against GitHub's documented API.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pandas as pd
import pytest
import yaml
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from gitml import api
from tests.helpers import dvc, example, git, gitml

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np
    from pytest_httpserver import HTTPServer

    from tests.conftest import Clock

pytestmark = pytest.mark.slow

# Features the generator's `shift` moves (src/credit_example/generate.py): incomes fall,
# debt-to-income, utilisation, late payments and interest rates rise.
SHIFTED = {
    "annual_income",
    "debt_to_income",
    "credit_utilization",
    "num_late_payments_24m",
    "interest_rate",
}
UNMOVED = {"age", "loan_purpose", "home_ownership", "region", "num_credit_lines"}


def _data_md5(repo: Path, rev: str) -> str:
    return str(yaml.safe_load(git(repo, "show", f"{rev}:data.dvc").stdout)["outs"][0]["md5"])


def _state(repo: Path) -> tuple[str, str, str]:
    """Branch, HEAD and status of the user's checkout (what retrain must leave alone)."""
    return (
        git(repo, "branch", "--show-current").stdout,
        git(repo, "rev-parse", "HEAD").stdout,
        git(repo, "status", "--porcelain", "--ignored").stdout,
    )


def _production(repo: Path, clock: Clock) -> None:
    api.register(root=repo, push=True)
    clock.tick()
    assert api.promote("credit", "production", root=repo, push=True).kind == "new-stage"
    clock.tick()
    (outcome,) = api.promote_on_push("production", root=repo)
    assert outcome.status == "recorded"


def test_drift_to_retrain_loop(origin_repo: Path, clock: Clock, tmp_path: Path) -> None:
    repo = origin_repo
    _production(repo, clock)

    # Unshifted live data: no drift.
    calm = tmp_path / "calm.csv"
    example(tmp_path, "batch", "--rows", "2000", "--seed", "501", "--shift", "0", "-o", str(calm))
    ok = gitml(repo, "drift", "credit@production", "--data", str(calm), "--fail-on-drift", "--json")
    assert json.loads(ok.stdout)["verdict"] != "drift"

    # The scheduled check: monitor.data runs the generator in a downturn (gitml.yaml),
    # recorded in the registry as monitor.yml records it.
    saved, report = tmp_path / "live" / "batch.csv", tmp_path / "drift.json"
    found = gitml(
        repo,
        "drift",
        "credit@production",
        "--record",
        "--push",
        "--save-batch",
        str(saved),
        "--fail-on-drift",
        "--json",
        "-o",
        str(report),
        check=False,
    )
    assert found.returncode == 4, found.stderr
    assert "recorded gitml.drift/credit/1 (pushed)" in found.stderr
    drift = json.loads(found.stdout)
    assert drift["verdict"] == "drift"
    assert {"annual_income", "credit_utilization", "interest_rate"} <= set(drift["drifted"])
    assert set(drift["drifted"]) <= SHIFTED | {"months_since_last_delinquency"}
    assert not UNMOVED & set(drift["drifted"])
    recipe = json.loads((tmp_path / "live" / "batch.csv.recipe.json").read_text())
    assert (recipe["rows"], recipe["seed"], recipe["shift"]) == (4000, 101, 1.0)

    # Retrain: a branch with the batch in data/, its recipe in params, a new data.dvc.
    before = _state(repo)
    out = gitml(
        repo, "retrain", "credit", "--data", str(saved), "--drift-report", str(report), "--json"
    )
    result = json.loads(out.stdout)
    assert _state(repo) == before  # the checkout is untouched
    md5 = result["data"]["md5"]
    assert result["branch"] == f"retrain/credit-{md5[:8]}"
    assert (result["status"], result["base"], result["pushed"]) == ("created", "main", False)
    assert result["data"] == {"path": "data/batch-001.csv", "md5": md5, "rows": 4000}
    assert (result["pull_request"], result["dispatched"]) == (None, False)
    assert sorted(result["changed"]) == ["data.dvc", "params.yaml"]
    branch = result["branch"]
    assert git(repo, "rev-parse", branch).stdout.strip() == result["commit"]
    assert result["data_dvc"]["before"] == _data_md5(repo, "main")
    assert result["data_dvc"]["after"] == _data_md5(repo, branch) != _data_md5(repo, "main")
    params = yaml.safe_load(git(repo, "show", f"{branch}:params.yaml").stdout)
    assert params["data"]["batches"][-1] == {
        "file": "batch-001.csv",
        "rows": 4000,
        "seed": 101,
        "shift": 1.0,
    }
    message = git(repo, "log", "-1", "--format=%B", branch).stdout
    assert message.startswith("Retrain credit on new data: batch.csv (4,000 rows)\n")
    assert f"md5 {md5}" in message
    assert "Why: gitml drift: verdict drift for credit on 4000 rows; drifted: " in message
    assert '"seed": 101' in message

    # Same batch again: the branch exists, nothing is rebuilt.
    again = json.loads(gitml(repo, "retrain", "credit", "--data", str(saved), "--json").stdout)
    assert (again["status"], again["commit"]) == ("exists", result["commit"])

    # The propose run: reproduce on the branch, then the report re-scores the production
    # model on the new evaluation rows, half of them from the downturn.
    git(repo, "checkout", "-q", branch)
    dvc(repo, "checkout", "-q")
    dvc(repo, "repro", "-q")
    report_json = json.loads(gitml(repo, "report", "--base", "main", "--format", "json").stdout)
    (model,) = report_json["models"]
    same = {m["name"]: m for m in model["same_rows"]["metrics"]}
    assert model["same_rows"]["rows"] == 2000
    assert same["log_loss"]["head"] < same["log_loss"]["base"]
    assert same["brier_score"]["head"] < same["brier_score"]["base"]
    assert same["roc_auc"]["head"] > same["roc_auc"]["base"]
    markdown = gitml(repo, "report", "--base", "main").stdout
    assert "evaluation rows" in markdown

    # On the downturn alone (a fresh batch neither model saw), the retrained model beats
    # production: both models rescore exactly the same shifted rows.
    shifted = tmp_path / "shifted.csv"
    example(
        tmp_path, "batch", "--rows", "3000", "--seed", "777", "--shift", "1", "-o", str(shifted)
    )
    old, new = _scores_on(repo, shifted)
    labels = pd.read_csv(shifted)["default"].to_numpy()
    assert log_loss(labels, new) < log_loss(labels, old)
    assert brier_score_loss(labels, new) < brier_score_loss(labels, old)
    assert roc_auc_score(labels, new) > roc_auc_score(labels, old)


def _scores_on(repo: Path, batch: Path) -> tuple[np.ndarray, np.ndarray]:
    """Scores of ``batch`` by production's model and by the workspace's retrained one."""
    from gitml.registry.fetch import load
    from gitml.signature import feature_frame, signature_from_text
    from gitml.storage import load_model

    signature_file = repo / "models" / "credit.signature.json"
    signature = signature_from_text(signature_file.read_text(), str(signature_file))
    rows = feature_frame(signature, pd.read_csv(batch))
    production = load("credit@production", root=repo)
    retrained = load_model(repo / "models" / "credit.skops")
    return production.predict_proba(rows)[:, 1], retrained.predict_proba(rows)[:, 1]


def test_fresh_clone_regenerates_the_retrain_branch_data(origin_repo: Path, tmp_path: Path) -> None:
    repo = origin_repo
    batch = tmp_path / "b.csv"
    example(tmp_path, "batch", "--rows", "500", "--seed", "7", "--shift", "0.5", "-o", str(batch))
    result = json.loads(
        gitml(repo, "retrain", "credit", "--data", str(batch), "--push", "--json").stdout
    )
    assert result["pushed"] is True
    # A clone with no DVC remote at all: `credit-example data` + `dvc add` reproduce data.dvc.
    clone = tmp_path / "clone"
    origin = git(repo, "remote", "get-url", "origin").stdout.strip()
    git(tmp_path, "clone", "-q", "--branch", result["branch"], origin, str(clone))
    dvc(clone, "remote", "remove", "storage")
    example(clone, "data")
    dvc(clone, "add", "-q", "data")
    assert git(clone, "status", "--porcelain", "--", "data.dvc", "params.yaml").stdout == ""
    assert _data_md5(clone, "HEAD") == result["data_dvc"]["after"]


def test_push_puts_the_data_in_the_dvc_remote(origin_repo: Path, tmp_path: Path) -> None:
    repo = origin_repo
    batch = tmp_path / "b.csv"
    example(tmp_path, "batch", "--rows", "300", "--seed", "8", "--shift", "1", "-o", str(batch))
    result = api.retrain("credit", batch, root=repo, push=True)
    assert result.pushed
    assert result.data is not None
    remote = tmp_path / "dvc-remote" / "files" / "md5"
    assert (remote / result.data.md5[:2] / result.data.md5[2:]).is_file()
    assert result.data_dvc is not None
    after = result.data_dvc[2]
    assert (remote / after[:2] / after[2:]).is_file()  # the directory listing too
    heads = git(repo, "ls-remote", "--heads", "origin", result.branch).stdout
    assert heads.split()[0] == result.commit
    # Pushing again for the same batch reports the existing branch on the remote.
    git(repo, "branch", "-D", result.branch)
    assert api.retrain("credit", batch, root=repo, push=True).status == "exists"


def test_generic_project_copies_the_batch_under_a_new_name(
    origin_repo: Path, tmp_path: Path
) -> None:
    repo = origin_repo
    config = (repo / "gitml.yaml").read_text()
    hook = "  adopt: credit-example adopt {file} --into {dir}\n"
    assert hook in config
    (repo / "gitml.yaml").write_text(config.replace(hook, ""))
    git(repo, "commit", "-qam", "No adopt hook")
    batch = tmp_path / "live.csv"
    example(tmp_path, "batch", "--rows", "300", "--seed", "9", "-o", str(batch))
    result = api.retrain("credit", batch, root=repo, branch="more-data")
    assert result.data is not None
    assert result.data.path == f"data/live-{result.data.md5[:8]}.csv"
    assert result.changed == ("data.dvc",)
    listing = git(repo, "show", "more-data:params.yaml").stdout
    assert listing == git(repo, "show", "main:params.yaml").stdout


def test_bad_inputs_are_refused_and_leave_nothing(origin_repo: Path, tmp_path: Path) -> None:
    repo = origin_repo
    branches = git(repo, "branch", "--list").stdout

    def refused(*args: str, code: int = 1) -> str:
        out = gitml(repo, "retrain", *args, check=False)
        assert out.returncode == code, out.stdout
        assert out.stderr.startswith("gitml: error: ")
        assert out.stderr.count("\n") == 1
        assert git(repo, "branch", "--list").stdout == branches
        assert git(repo, "worktree", "list").stdout.count("\n") == 1
        return out.stderr

    assert "nope.csv: file not found" in refused("credit", "--data", str(tmp_path / "nope.csv"))
    batch = tmp_path / "b.csv"
    example(tmp_path, "batch", "--rows", "300", "--seed", "3", "-o", str(batch))
    assert "unknown model 'debit' (known: credit)" in refused("debit", "--data", str(batch))

    wrong = tmp_path / "wrong.csv"
    text = batch.read_text().replace("annual_income", "income", 1)
    wrong.write_text(text)
    message = refused("credit", "--data", str(wrong))
    assert "does not match the data schema data.schema.yaml" in message
    assert "column 'annual_income': missing from wrong.csv" in message

    # The template's own data: its bytes are already there.
    (tmp_path / "dup").mkdir()
    dup = tmp_path / "dup" / "batch-000.csv"
    dup.write_bytes((repo / "data" / "batch-000.csv").read_bytes())
    assert "already in the data as data/batch-000.csv" in refused("credit", "--data", str(dup))

    # No recipe: the example's hook refuses (a fresh clone could not regenerate it).
    bare = tmp_path / "bare.csv"
    bare.write_bytes(batch.read_bytes())
    assert "retrain.adopt: `credit-example` exited 1: " in refused("credit", "--data", str(bare))

    # A recipe that does not regenerate the bytes.
    edited = tmp_path / "edited.csv"
    lines = batch.read_text().splitlines(keepends=True)
    edited.write_text("".join(lines[:-1]))
    (tmp_path / "edited.csv.recipe.json").write_text((tmp_path / "b.csv.recipe.json").read_text())
    assert "its bytes are not what its recipe" in refused("credit", "--data", str(edited))

    assert "--open-pr needs GITHUB_TOKEN" in refused(
        "credit", "--data", str(batch), "--open-pr", code=2
    )
    assert "unknown revision 'nowhere'" in refused(
        "credit", "--data", str(batch), "--base", "nowhere"
    )


def test_a_dirty_checkout_is_left_exactly_as_it_was(origin_repo: Path, tmp_path: Path) -> None:
    repo = origin_repo
    with (repo / "params.yaml").open("a") as handle:
        handle.write("# work in progress\n")
    (repo / "notes.txt").write_text("untracked\n")
    git(repo, "add", "notes.txt")
    git(repo, "checkout", "-q", "-b", "feature")
    before = _state(repo)
    batch = tmp_path / "b.csv"
    example(tmp_path, "batch", "--rows", "300", "--seed", "4", "-o", str(batch))
    result = api.retrain("credit", batch, root=repo)
    assert _state(repo) == before
    assert (repo / "params.yaml").read_text().endswith("# work in progress\n")
    branch_params = git(repo, "show", f"{result.branch}:params.yaml").stdout
    assert "work in progress" not in branch_params
    assert (
        git(repo, "rev-parse", f"{result.branch}^").stdout == git(repo, "rev-parse", "main").stdout
    )


HEADERS = {
    "Accept": "application/vnd.github+json",
    "Authorization": "Bearer t0ken",
    "X-GitHub-Api-Version": "2022-11-28",
}


def test_open_pr_and_dispatch_the_propose_workflow(
    origin_repo: Path, tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = origin_repo
    batch = tmp_path / "b.csv"
    example(tmp_path, "batch", "--rows", "300", "--seed", "5", "--shift", "1", "-o", str(batch))
    httpserver.expect_ordered_request(
        "/repos/acme/credit/pulls", method="POST", headers=HEADERS
    ).respond_with_json({"number": 12, "html_url": "https://github.example/pull/12"}, status=201)
    httpserver.expect_ordered_request(
        "/repos/acme/credit/actions/workflows/propose.yml/dispatches",
        method="POST",
        headers=HEADERS,
        json={"ref": "main", "inputs": {"pr": "12"}},
    ).respond_with_data("", status=204)
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    monkeypatch.setenv("GITHUB_API_URL", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/credit")
    result = json.loads(
        gitml(repo, "retrain", "credit", "--data", str(batch), "--open-pr", "--json").stdout
    )
    httpserver.check_assertions()
    assert result["pull_request"] == {"number": 12, "url": "https://github.example/pull/12"}
    assert (result["pushed"], result["dispatched"]) == (True, True)
    (request, _response) = httpserver.log[0]
    body = request.get_json()
    assert (body["head"], body["base"]) == (result["branch"], "main")
    assert body["title"] == "Retrain credit on new data: b.csv (300 rows)"
    assert "<code>data/batch-001.csv</code>" in body["body"]
    assert git(repo, "ls-remote", "--heads", "origin", result["branch"]).stdout


def test_a_failed_pull_request_leaves_no_branch(
    origin_repo: Path, tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = origin_repo
    batch = tmp_path / "b.csv"
    example(tmp_path, "batch", "--rows", "300", "--seed", "6", "-o", str(batch))
    httpserver.expect_request("/repos/acme/credit/pulls", method="POST").respond_with_json(
        {"message": "Resource not accessible by integration"}, status=403
    )
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    monkeypatch.setenv("GITHUB_API_URL", httpserver.url_for("/").rstrip("/"))
    out = gitml(
        repo,
        "retrain",
        "credit",
        "--data",
        str(batch),
        "--open-pr",
        "--repository",
        "acme/credit",
        check=False,
    )
    assert out.returncode == 1
    assert "GitHub API 403: Resource not accessible by integration" in out.stderr
    assert "retrain/" not in git(repo, "branch", "--list").stdout
    assert git(repo, "ls-remote", "--heads", "origin", "retrain/*").stdout == ""

"""The GitHub Actions workflows: linted with real tools, and executed with `act`."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import pytest
import yaml

from gitml import api
from tests.helpers import BIN_DIR, PROJECT_ROOT, git, run
from tests.registry_flow import remote_tags, set_param
from tests.workflows.act import CHECKOUT, STANDINS, remote_actions, run_act

if TYPE_CHECKING:
    from pathlib import Path

    from pytest_httpserver import HTTPServer

    from tests.conftest import Clock

WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"
ALL = sorted(WORKFLOWS.glob("*.yml"))


def test_actionlint_reports_nothing() -> None:
    result = run(
        BIN_DIR / "actionlint",
        *map(str, ALL),
        cwd=PROJECT_ROOT,
        check=False,
        env={"PATH": f"{BIN_DIR}:/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_reports_no_findings() -> None:
    import os
    import subprocess

    # Offline, and with no token in the environment (zizmor would try the network).
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN")}
    result = subprocess.run(
        [str(BIN_DIR / "zizmor"), "--offline", "--format", "plain", str(PROJECT_ROOT / ".github")],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


def test_every_zizmor_ignore_is_listed_with_its_reason() -> None:
    ignores = []
    for path in sorted((PROJECT_ROOT / ".github").rglob("*.yml")):
        for line in path.read_text().splitlines():
            if "zizmor: ignore[" in line:
                rule = re.search(r"zizmor: ignore\[([^\]]+)\]\s*(.*)", line)
                assert rule, line
                assert rule.group(2), f"{path.name}: an ignore without a reason: {line}"
                ignores.append((path.name, rule.group(1)))
    assert sorted(set(ignores)) == [
        ("comment.yml", "dangerous-triggers"),
        ("monitor.yml", "self-repository"),
        ("promote.yml", "self-repository"),
        ("propose.yml", "self-repository"),
        ("register.yml", "self-repository"),
    ]


def test_workflows_match_githubs_schema() -> None:
    result = run(
        BIN_DIR / "check-jsonschema",
        "--builtin-schema",
        "vendor.github-workflows",
        *map(str, ALL),
        cwd=PROJECT_ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_remote_action_is_pinned_and_has_a_stand_in() -> None:
    used = remote_actions(WORKFLOWS)
    for action in used:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), f"{action} not pinned"
    assert used == {*STANDINS, CHECKOUT}


def _load(name: str) -> dict:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    # PyYAML reads the `on:` key as True.
    document["on"] = document.pop(True, document.get("on"))
    return document


def test_triggers_and_permissions() -> None:
    """act does not apply branch filters: check the trigger configuration here."""
    propose, register, promote = _load("propose.yml"), _load("register.yml"), _load("promote.yml")
    assert propose["on"]["pull_request"]["branches"] == [
        "main",
        "staging",
        "production",
        "staging/**",
        "production/**",
    ]
    assert register["on"] == {"push": {"branches": ["main"]}}
    assert promote["on"]["push"]["branches"] == [
        "staging",
        "production",
        "staging/**",
        "production/**",
    ]
    for document in (propose, register, promote, _load("comment.yml")):
        assert document["permissions"] == {}
        for job in document["jobs"].values():
            assert "timeout-minutes" in job
            writes = {k for k, v in job["permissions"].items() if v == "write"}
            assert writes <= {"contents", "pull-requests", "statuses"}
    monitor = _load("monitor.yml")
    assert set(monitor["on"]) == {"schedule", "workflow_dispatch"}
    assert monitor["on"]["schedule"][0]["cron"]
    assert monitor["permissions"] == {}
    (job,) = monitor["jobs"].values()
    assert "timeout-minutes" in job
    # It pushes a branch, opens a pull request and dispatches propose.yml for it.
    assert job["permissions"] == {
        "contents": "write",
        "pull-requests": "write",
        "actions": "write",
    }
    assert register["concurrency"]["group"] == "register-main"
    assert promote["jobs"]["promote"]["environment"].startswith("${{")
    fork = propose["jobs"]["build-fork"]
    assert fork["permissions"] == {"contents": "read"}
    assert not any("secrets." in json.dumps(v) for v in fork.get("env", {}).values())


def test_no_untrusted_expression_inside_run() -> None:
    untrusted = re.compile(
        r"\$\{\{\s*github\.(head_ref|event\.(pull_request|issue|comment|"
        r"head_commit|commits|workflow_run))"
    )
    for path in ALL:
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for step in job["steps"]:
                assert not untrusted.search(step.get("run", "")), (path.name, step)


@pytest.fixture
def act_repo(origin_repo: Path, tmp_path: Path) -> Path:
    """``origin_repo`` with an absolute DVC remote URL (act runs jobs in a copy elsewhere)."""
    from tests.helpers import dvc, git

    # Rewrite the single template commit so every version's commit (stage branches start
    # there) names the remote by an absolute path, as an s3:// URL would be.
    remote = tmp_path / "dvc-remote"
    dvc(origin_repo, "remote", "add", "--force", "--default", "storage", str(remote))
    git(origin_repo, "commit", "-q", "-a", "--amend", "--no-edit")
    git(origin_repo, "push", "-q", "--force", "origin", "main")
    assert f"url = {remote}" in (origin_repo / ".dvc" / "config").read_text()
    return origin_repo


@pytest.mark.slow
def test_act_push_to_main_registers_and_pushes_the_version_tag(
    act_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = act_repo
    payload = {"ref": "refs/heads/main", "repository": {"full_name": "acme/credit"}}
    result = run_act(repo, "push", "register.yml", "register", payload, tmp_path / "act")
    assert result.returncode == 0, result.output[-4000:]
    assert remote_tags(repo) == ["credit@v0.1.0"]


def _pr_payload(number: int, head: str, base: str, sha: str) -> dict[str, object]:
    repo = {"full_name": "acme/credit", "name": "credit", "owner": {"login": "acme"}}
    return {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "head": {"ref": head, "sha": sha, "repo": repo},
            "base": {"ref": base, "repo": repo},
        },
        "repository": repo,
    }


@pytest.mark.slow
def test_act_pull_request_reproduces_commits_back_reports_and_sets_the_status(
    act_repo: Path, clock: Clock, tmp_path: Path, httpserver: HTTPServer
) -> None:
    repo = act_repo
    # The author changed a parameter but did not run the pipeline.
    git(repo, "checkout", "-q", "-b", "fewer-leaves")
    set_param(repo, "train", "hist_gradient_boosting.max_leaf_nodes", 8)
    git(repo, "commit", "-qam", "Fewer leaves per tree")
    git(repo, "push", "-q", "origin", "fewer-leaves")
    sha = git(repo, "rev-parse", "HEAD").stdout.strip()
    httpserver.expect_request(
        re.compile(r"/repos/acme/credit/statuses/[0-9a-f]{40}"), method="POST"
    ).respond_with_json({"state": "success"}, status=201)
    result = run_act(
        repo,
        "pull_request",
        "propose.yml",
        "build",
        _pr_payload(5, "fewer-leaves", "main", sha),
        tmp_path / "act",
        env={
            "GITHUB_API_URL": httpserver.url_for("/").rstrip("/"),
            "GITHUB_REPOSITORY": "acme/credit",
        },
        secrets={"GITHUB_TOKEN": "t0ken"},
    )
    assert result.returncode == 0, result.output[-5000:]
    # The reproduced outputs were committed back to the pull request branch ...
    git(repo, "fetch", "-q", "origin")
    log = git(repo, "log", "--format=%s", "origin/fewer-leaves", "-2").stdout.splitlines()
    assert log == ["Reproduce pipeline outputs [gitml]", "Fewer leaves per tree"]
    pushed = git(repo, "rev-parse", "origin/fewer-leaves").stdout.strip()
    # ... the artefact is in the DVC remote, so main's lock will name stored bytes ...
    from tests.registry_flow import model_md5

    md5 = model_md5(repo, "origin/fewer-leaves")
    assert (tmp_path / "dvc-remote" / "files" / "md5" / md5[:2] / md5[2:]).is_file()
    # ... the gate status was set on that commit through the API ...
    (request, _) = httpserver.log[-1]
    assert request.path == f"/repos/acme/credit/statuses/{pushed}"
    assert request.get_json()["state"] == "success"
    assert request.headers["Authorization"] == "Bearer t0ken"
    # ... and one sticky comment was posted with the report, without image upload.
    ((args, report),) = result.cml_calls
    assert args == [
        "comment",
        "update",
        "--target=pr/5",
        "--watermark-title=gitml report",
        "report.md",
    ]
    assert "## gitml report" in report
    assert "**Gate** (stage <code>main</code>): ✅ passed" in report
    assert "pipeline: ran" in report
    assert (result.artifacts / "gitml-plots" / "credit-roc.png").is_file()


@pytest.mark.slow
def test_act_push_to_staging_records_the_promotion(
    act_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = act_repo
    api.register(root=repo, push=True)
    api.promote("credit", "staging", root=repo, push=True)
    git(repo, "checkout", "-q", "staging")
    payload = {"ref": "refs/heads/staging", "repository": {"full_name": "acme/credit"}}
    clock.tick()
    result = run_act(repo, "push", "promote.yml", "promote", payload, tmp_path / "act")
    assert result.returncode == 0, result.output[-4000:]
    assert "credit#staging#1" in remote_tags(repo)
    assert "deploy hook for staging" in result.output


@pytest.mark.slow
def test_act_refuses_a_promotion_whose_artefact_is_not_stored(
    act_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = act_repo
    api.register(root=repo, push=True)
    api.promote("credit", "production", root=repo, push=True)
    from tests.registry_flow import model_md5

    md5 = model_md5(repo)
    (tmp_path / "dvc-remote" / "files" / "md5" / md5[:2] / md5[2:]).unlink()
    git(repo, "checkout", "-q", "production")
    payload = {"ref": "refs/heads/production", "repository": {"full_name": "acme/credit"}}
    result = run_act(repo, "push", "promote.yml", "promote", payload, tmp_path / "act")
    assert result.returncode != 0
    assert f"artefact {md5} is not in the DVC remote" in result.output
    assert "deploy hook for" not in result.output
    assert not [t for t in remote_tags(repo) if "#production#" in t]


@pytest.mark.slow
def test_act_pull_request_into_a_stage_verifies_without_retraining(
    act_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = act_repo
    api.register(root=repo, push=True)
    api.promote("credit", "staging", root=repo, push=True)
    clock.tick()
    api.promote_on_push("staging", root=repo)
    from tests.registry_flow import merge_pull_request

    clock.tick()
    merge_pull_request(repo, 8, "leaves", ("train", "hist_gradient_boosting.max_leaf_nodes", 8))
    clock.tick()
    api.register(root=repo, push=True)
    prepared = api.promote("credit", "staging", root=repo, push=True)
    git(repo, "checkout", "-q", prepared.branch)
    result = run_act(
        repo,
        "pull_request",
        "propose.yml",
        "stage",
        _pr_payload(9, prepared.branch, "staging", prepared.commit),
        tmp_path / "act",
    )
    assert result.returncode == 0, result.output[-4000:]
    assert "Running stage" not in result.output  # no retraining
    assert "credit v0.2.0 → staging: would-record" in result.output
    ((args, report),) = result.cml_calls
    assert args[2] == "--target=pr/9"
    assert "<code>HEAD</code> vs <code>origin/staging</code>" in report


@pytest.mark.slow
@pytest.mark.parametrize(("number", "posted"), [("5\n", True), ("5; touch /tmp/pwned\n", False)])
def test_act_comment_posts_a_fork_report_and_rejects_a_forged_number(
    act_repo: Path, tmp_path: Path, number: str, posted: bool
) -> None:
    artifact = tmp_path / "act" / "artifacts" / "gitml-report"
    artifact.mkdir(parents=True)
    (artifact / "report.md").write_text("## gitml report\n")
    (artifact / "pr-number").write_text(number)
    payload = {
        "workflow_run": {"id": 1, "event": "pull_request", "conclusion": "success"},
        "repository": {"full_name": "acme/credit"},
    }
    result = run_act(act_repo, "workflow_run", "comment.yml", "comment", payload, tmp_path / "act")
    assert (result.returncode == 0) is posted, result.output[-3000:]
    if posted:
        ((args, report),) = result.cml_calls
        assert args[2] == "--target=pr/5"
        assert report == "## gitml report\n"
    else:
        assert result.cml_calls == []
        assert "bad pull request number" in result.output


@pytest.mark.slow
def test_act_schedule_finds_drift_and_opens_a_retraining_pull_request(
    act_repo: Path, clock: Clock, tmp_path: Path, httpserver: HTTPServer
) -> None:
    """The scheduled monitor: production's model against gitml.yaml's monitor.data (the
    example's generator in a downturn) → drift → a pushed retraining branch, its pull
    request, and the propose workflow dispatched for it through the API."""
    repo = act_repo
    api.register(root=repo, push=True)
    for stage in ("staging", "production"):
        clock.tick()
        api.promote("credit", stage, root=repo, push=True)
        clock.tick()
        api.promote_on_push(stage, root=repo, push=True)
    httpserver.expect_request("/repos/acme/credit/pulls", method="POST").respond_with_json(
        {"number": 12, "html_url": "https://github.example/acme/credit/pull/12"}, status=201
    )
    httpserver.expect_request(
        "/repos/acme/credit/actions/workflows/propose.yml/dispatches", method="POST"
    ).respond_with_data("", status=204)
    git(repo, "fetch", "-q", "origin")
    git(repo, "checkout", "-q", "main")
    result = run_act(
        repo,
        "schedule",
        "monitor.yml",
        "drift",
        {"schedule": "23 5 * * *", "repository": {"full_name": "acme/credit"}},
        tmp_path / "act",
        env={
            "GITHUB_API_URL": httpserver.url_for("/").rstrip("/"),
            "GITHUB_REPOSITORY": "acme/credit",
        },
        secrets={"GITHUB_TOKEN": "t0ken"},
    )
    assert result.returncode == 0, result.output[-5000:]
    branches = git(repo, "ls-remote", "--heads", "origin", "retrain/*").stdout.split()
    (branch,) = [b.removeprefix("refs/heads/") for b in branches if b.startswith("refs/")]
    assert branch.startswith("retrain/credit-")
    requests = {request.path: request.get_json() for request, _ in httpserver.log}
    pull = requests["/repos/acme/credit/pulls"]
    assert (pull["head"], pull["base"]) == (branch, "main")
    dispatch = requests["/repos/acme/credit/actions/workflows/propose.yml/dispatches"]
    assert dispatch == {"ref": "main", "inputs": {"pr": "12"}}
    # The branch adds the batch to the DVC-tracked data, recorded so it regenerates.
    git(repo, "fetch", "-q", "origin", f"{branch}:refs/remotes/origin/{branch}")
    changed = git(repo, "diff", "--name-only", "main", f"origin/{branch}").stdout.split()
    assert {"data.dvc", "params.yaml"} <= set(changed)

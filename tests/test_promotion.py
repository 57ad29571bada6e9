"""Promotion on real repositories: merge-to-promote, rollback, and injected faults."""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING

import pytest

from gitml import api
from tests.helpers import BIN_DIR, dvc, git, gitml, run
from tests.registry_flow import merge_pull_request, model_md5, remote_tags

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Clock

pytestmark = pytest.mark.slow
# A change that improves the model on the tests' data (AUC 0.821 -> 0.833): gates pass.
IMPROVE = ("train", "hist_gradient_boosting.max_leaf_nodes", 8)


def merge_into(repo: Path, stage: str, branch: str) -> None:
    """Merge a prepared branch into a stage branch and push it, as GitHub's merge button."""
    git(repo, "fetch", "-q", "origin")
    git(repo, "checkout", "-q", "-B", stage, f"origin/{stage}")
    git(repo, "merge", "-q", "--no-ff", branch, "-m", f"Merge pull request #90 from team/{branch}")
    git(repo, "push", "-q", "origin", stage)
    git(repo, "checkout", "-q", "main")


def gto_show(repo: Path) -> dict[str, object]:
    shown = json.loads(run(BIN_DIR / "gto", "show", "--json", cwd=repo).stdout)
    return {
        n: {"version": r["version"], "stage": {k: v for k, v in r["stage"].items() if v}}
        for n, r in shown.items()
    }


def gitml_show(repo: Path) -> dict[str, object]:
    return {
        r.model: {"version": r.latest, "stage": {s.stage: s.version for s in r.stages if s.version}}
        for r in api.registry(root=repo)
    }


def agree(repo: Path) -> dict[str, object]:
    ours = gitml_show(repo)
    assert ours == gto_show(repo)
    return ours


def test_register_promote_and_roll_back(origin_repo: Path, clock: Clock) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    clock.tick()
    first = api.promote("credit", "staging", root=repo, push=True)
    assert first.kind == "new-stage"
    clock.tick()
    (outcome,) = api.promote_on_push("staging", root=repo)
    assert (outcome.status, outcome.tag) == ("recorded", "credit#staging#1")
    assert agree(repo) == {"credit": {"version": "v0.1.0", "stage": {"staging": "v0.1.0"}}}
    assert api.promote_on_push("staging", root=repo)[0].status == "up-to-date"

    clock.tick()
    merge_pull_request(repo, 11, "l2", IMPROVE)
    clock.tick()
    api.register(root=repo, push=True)
    clock.tick()
    prepared = api.promote("credit", "staging", root=repo, push=True)
    assert prepared.kind == "promotion"
    assert prepared.branch == "promote/credit-v0.2.0-to-staging"
    assert "gh pr create --base staging --head promote/credit-v0.2.0-to-staging" in (
        prepared.command or ""
    )
    clock.tick()
    merge_into(repo, "staging", "origin/promote/credit-v0.2.0-to-staging")
    clock.tick()
    (outcome,) = api.promote_on_push("staging", root=repo)
    assert (outcome.status, outcome.version, outcome.kind) == ("recorded", "v0.2.0", "promotion")
    assert agree(repo)["credit"] == {"version": "v0.2.0", "stage": {"staging": "v0.2.0"}}
    # The stage's tip holds exactly the registered bytes.
    assert model_md5(repo, "origin/staging") == model_md5(repo, "main")

    clock.tick()
    back = api.rollback("credit", "staging", root=repo, push=True)
    assert (back.version, back.note) == ("v0.1.0", "previous promotion before v0.2.0")
    clock.tick()
    merge_into(repo, "staging", f"origin/{back.branch}")
    clock.tick()
    (outcome,) = api.promote_on_push("staging", root=repo)
    assert (outcome.status, outcome.version, outcome.kind) == ("recorded", "v0.1.0", "rollback")
    assert agree(repo)["credit"]["stage"] == {"staging": "v0.1.0"}
    events = [(h.event, h.version, h.stage) for h in api.history("credit", root=repo)]
    assert events == [
        ("registration", "v0.1.0", None),
        ("promotion", "v0.1.0", "staging"),
        ("registration", "v0.2.0", None),
        ("promotion", "v0.2.0", "staging"),
        ("rollback", "v0.1.0", "staging"),
    ]
    # A second rollback has nowhere further back to go, and says so.
    with pytest.raises(Exception, match="no earlier promotion to roll back to"):
        api.rollback("credit", "staging", root=repo)
    # Unassign and deprecate are recorded and GTO agrees.
    clock.tick()
    assert api.unassign("credit", "staging", root=repo, push=True) == "credit#staging!#4"
    assert agree(repo)["credit"]["stage"] == {"staging": "v0.2.0"}  # falls back, as in GTO
    clock.tick()
    assert api.deprecate("credit@v0.2.0", root=repo, push=True) == "credit@v0.2.0!#5"
    assert agree(repo)["credit"] == {"version": "v0.1.0", "stage": {}}
    assert [h.event for h in api.history("credit", root=repo)][-2:] == [
        "unassignment",
        "deregistration",
    ]


def test_a_stage_tip_with_an_unregistered_artefact_is_refused(
    origin_repo: Path, clock: Clock
) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    api.promote("credit", "staging", root=repo, push=True)
    clock.tick()
    api.promote_on_push("staging", root=repo)
    # Someone pushes a retrained model straight to staging, around the process.
    git(repo, "checkout", "-q", "staging")
    from tests.registry_flow import set_param

    set_param(repo, *IMPROVE)
    dvc(repo, "repro", "-q")
    git(repo, "commit", "-qam", "hotfix straight to staging")
    dvc(repo, "push", "-q")
    git(repo, "push", "-q", "origin", "staging")
    git(repo, "checkout", "-q", "main")
    clock.tick()
    result = gitml(repo, "promote", "--on-push", "staging", "--push", check=False)
    assert result.returncode == 5
    assert "staging holds an unregistered artefact" in result.stdout
    assert remote_tags(repo) == ["credit#staging#1", "credit@v0.1.0"]
    (row,) = api.registry(root=repo)
    (staging, _) = row.stages
    assert (staging.version, staging.pending, staging.unregistered) == ("v0.1.0", True, True)
    assert not api.verify(root=repo).ok


def test_an_artefact_missing_from_the_remote_is_refused(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    md5 = model_md5(repo)
    (tmp_path / "dvc-remote" / "files" / "md5" / md5[:2] / md5[2:]).unlink()
    api.promote("credit", "staging", root=repo, push=True)
    result = gitml(repo, "promote", "--on-push", "staging", "--push", check=False)
    assert result.returncode == 5
    assert f"artefact {md5}: not in the DVC remote (run `dvc push`)" in result.stdout
    assert "credit#staging#1" not in remote_tags(repo)


def test_a_failing_gate_refuses_the_promotion(origin_repo: Path, clock: Clock) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    api.promote("credit", "production", root=repo, push=True)
    clock.tick()
    assert api.promote_on_push("production", root=repo)[0].status == "recorded"
    clock.tick()
    merge_pull_request(repo, 12, "stump", ("train", "hist_gradient_boosting.max_iter", 1))
    clock.tick()
    api.register(root=repo, push=True)
    prepared = api.promote("credit", "production", root=repo, push=True)
    merge_into(repo, "production", f"origin/{prepared.branch}")
    # The pull request's status check already says no ...
    check = gitml(
        repo, "check", "--stage", "production", "--head", f"origin/{prepared.branch}", check=False
    )
    assert check.returncode == 3
    # ... and after a merge around it, the push is refused too: nothing recorded, pending.
    result = gitml(repo, "promote", "--on-push", "production", "--push", check=False)
    assert result.returncode == 3
    assert "gate production failed: roc_auc >= 0.8" in result.stdout
    assert [t for t in remote_tags(repo) if "#production#" in t] == ["credit#production#1"]
    (row,) = api.registry(root=repo)
    production = next(s for s in row.stages if s.stage == "production")
    assert (production.version, production.tip_version, production.pending) == (
        "v0.1.0",
        "v0.2.0",
        True,
    )


def test_two_promotion_runs_record_one_assignment(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    api.promote("credit", "staging", root=repo, push=True)
    url = git(repo, "remote", "get-url", "origin").stdout.strip()
    clones = []
    for name in ("ci-1", "ci-2"):
        clone = tmp_path / name
        git(tmp_path, "clone", "-q", url, str(clone))
        clones.append(clone)
    procs = [
        subprocess.Popen(
            [str(BIN_DIR / "gitml"), "promote", "--on-push", "staging", "--push", "--json"],
            cwd=c,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for c in clones
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    statuses = sorted(json.loads(out)[0]["status"] for out, _ in outputs)
    assert statuses in (["recorded", "up-to-date"], ["recorded", "recorded"])
    assert [t for t in remote_tags(repo) if "#staging" in t] == ["credit#staging#1"]


def test_a_push_that_fails_half_way_converges_on_rerun(origin_repo: Path, clock: Clock) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    api.promote("credit", "staging", root=repo, push=True)
    # A pre-push hook that fails once: the tag is created locally, the push is lost.
    hook = repo / ".git" / "hooks" / "pre-push"
    marker = repo / ".git" / "fail-next-push"
    hook.write_text(f'#!/bin/sh\nif [ -e "{marker}" ]; then rm "{marker}"; exit 1; fi\nexit 0\n')
    hook.chmod(0o755)
    marker.touch()
    clock.tick()
    failed = gitml(repo, "promote", "--on-push", "staging", "--push", check=False)
    assert failed.returncode == 1
    assert "credit#staging#1" in git(repo, "tag").stdout
    assert "credit#staging#1" not in remote_tags(repo)
    clock.tick()
    rerun = json.loads(gitml(repo, "promote", "--on-push", "staging", "--push", "--json").stdout)
    assert rerun[0]["status"] == "up-to-date"
    assert [t for t in remote_tags(repo) if "#staging" in t] == ["credit#staging#1"]
    assert api.verify(root=repo).ok

"""Recoverable after any kill (issue 16, finding 11): ``kill -9`` of gitml while it pushes,
then a rerun (and, for tags, a competing run in between) converges to the state of an
uninterrupted run: no duplicate or conflicting records, nothing left unpushed."""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING

import pytest

from gitml import api
from tests.helpers import BIN_DIR, example, git, gitml
from tests.registry_flow import merge_pull_request, remote_tags

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Clock

pytestmark = pytest.mark.slow

# A pre-push hook that kills gitml (the parent of the `git push` running the hook) with
# SIGKILL: no except, finally or atexit of gitml runs, as when a CI job is cancelled.
KILL_GITML = """\
#!/bin/sh
gitml=$(awk '{print $4}' /proc/$PPID/stat)
kill -9 "$gitml"
sleep 10
exit 1
"""


def _arm(repo: Path) -> Path:
    hook = repo / ".git" / "hooks" / "pre-push"
    hook.write_text(KILL_GITML)
    hook.chmod(0o755)
    return hook


def _killed(repo: Path, *args: str) -> None:
    hook = _arm(repo)
    done = subprocess.run([str(BIN_DIR / "gitml"), *args], cwd=repo, capture_output=True)
    hook.unlink()
    assert done.returncode == -9, done.stderr  # SIGKILL, at the push


def test_register_killed_at_its_push_then_raced_converges(
    origin_repo: Path, tmp_path: Path, clock: Clock
) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    clock.tick()
    merge_pull_request(repo, 2, "lr", ("train", "hist_gradient_boosting.learning_rate", 0.1))
    clock.tick()
    _killed(repo, "register", "--push")
    assert "credit@v0.2.0" in git(repo, "tag").stdout  # created here, never published
    assert remote_tags(repo) == ["credit@v0.1.0"]
    # Meanwhile another run registers the same artefact (its own tag object).
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(tmp_path / "origin.git"), str(other))
    clock.tick()
    assert [r.version for r in api.register(root=other, push=True)] == ["v0.2.0"]
    clock.tick()
    rerun = gitml(repo, "register", "--push", "--json")
    assert json.loads(rerun.stdout) == []  # the remote's record stands; nothing new to do
    assert remote_tags(repo) == ["credit@v0.1.0", "credit@v0.2.0"]
    local = git(repo, "rev-parse", "credit@v0.2.0").stdout
    assert local == git(other, "rev-parse", "credit@v0.2.0").stdout
    assert gitml(repo, "verify", "--no-remote").returncode == 0


def test_register_killed_at_its_push_is_pushed_by_the_rerun(
    origin_repo: Path, clock: Clock
) -> None:
    repo = origin_repo
    clock.tick()
    _killed(repo, "register", "--push")
    assert remote_tags(repo) == []
    clock.tick()
    gitml(repo, "register", "--push")
    assert remote_tags(repo) == ["credit@v0.1.0"]


def test_retrain_killed_at_its_push_is_pushed_by_the_rerun(
    origin_repo: Path, tmp_path: Path
) -> None:
    repo = origin_repo
    batch = tmp_path / "b.csv"
    example(tmp_path, "batch", "--rows", "300", "--seed", "8", "--shift", "1", "-o", str(batch))
    _killed(repo, "retrain", "credit", "--data", str(batch), "--push")
    branches = git(repo, "branch", "--list", "retrain/*").stdout.split()
    assert len(branches) == 1
    assert git(repo, "ls-remote", "--heads", "origin", branches[0]).stdout == ""
    rerun = json.loads(
        gitml(repo, "retrain", "credit", "--data", str(batch), "--push", "--json").stdout
    )
    assert (rerun["status"], rerun["pushed"], rerun["branch"]) == ("resumed", True, branches[0])
    heads = git(repo, "ls-remote", "--heads", "origin", branches[0]).stdout.split()
    assert heads[0] == rerun["commit"]
    again = json.loads(
        gitml(repo, "retrain", "credit", "--data", str(batch), "--push", "--json").stdout
    )
    assert again["status"] == "exists"


def test_promote_on_push_killed_at_its_push_converges(origin_repo: Path, clock: Clock) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    clock.tick()
    api.promote("credit", "production", root=repo, push=True)  # creates the stage branch
    clock.tick()
    _killed(repo, "promote", "--on-push", "production", "--push")
    assert [t for t in remote_tags(repo) if "#production#" in t] == []
    clock.tick()
    gitml(repo, "promote", "--on-push", "production", "--push")
    assert [t for t in remote_tags(repo) if "#production#" in t] == ["credit#production#1"]
    again = json.loads(gitml(repo, "promote", "--on-push", "production", "--json").stdout)
    assert again[0]["status"] == "up-to-date"

"""The whole loop on real repositories, with a local-directory and an S3 DVC remote:
PR branch → report with verdict → merge → register → staging → production → rollback."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from gitml import api
from tests.helpers import dvc, git, gitml
from tests.registry_flow import set_param
from tests.test_promotion import agree, merge_into

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Clock

pytestmark = pytest.mark.slow


@pytest.fixture(params=["local", "s3"])
def loop_repo(request: pytest.FixtureRequest) -> Path:
    name = "origin_repo" if request.param == "local" else "s3_origin_repo"
    repo: Path = request.getfixturevalue(name)
    return repo


def _promote(repo: Path, clock: Clock, stage: str) -> str:
    clock.tick()
    prepared = api.promote("credit", stage, root=repo, push=True)
    if prepared.kind != "new-stage":
        merge_into(repo, stage, f"origin/{prepared.branch}")
    clock.tick()
    result = gitml(repo, "promote", "--on-push", stage, "--push", "--json", check=False)
    return result.stdout if result.returncode == 0 else f"exit {result.returncode}: {result.stdout}"


def test_the_whole_loop(loop_repo: Path, clock: Clock, tmp_path: Path) -> None:
    repo = loop_repo
    assert [r.version for r in api.register(root=repo, push=True)] == ["v0.1.0"]
    assert json.loads(_promote(repo, clock, "staging"))[0]["status"] == "recorded"
    assert json.loads(_promote(repo, clock, "production"))[0]["status"] == "recorded"
    assert agree(repo)["credit"]["stage"] == {"staging": "v0.1.0", "production": "v0.1.0"}

    # A pull request: change a parameter, reproduce, read the report the comment shows.
    git(repo, "checkout", "-q", "-b", "fewer-leaves")
    set_param(repo, "train", "hist_gradient_boosting.max_leaf_nodes", 8)
    log = dvc(repo, "repro").stdout
    (tmp_path / "repro.log").write_text(log)
    report = gitml(repo, "report", "--base", "main", "--repro-log", str(tmp_path / "repro.log"))
    assert "**Gate** (stage <code>main</code>): ✅ passed" in report.stdout
    assert "pipeline: ran" in report.stdout
    assert gitml(repo, "check", "--base", "main").returncode == 0
    git(repo, "commit", "-qam", "Fewer leaves per tree")
    dvc(repo, "push", "-q")
    git(repo, "checkout", "-q", "main")
    clock.tick()
    git(
        repo,
        "merge",
        "-q",
        "--no-ff",
        "fewer-leaves",
        "-m",
        "Merge pull request #21 from team/fewer-leaves",
    )
    git(repo, "push", "-q", "origin", "main")
    clock.tick()
    assert [(r.version, r.md5) for r in api.register(root=repo, push=True)] == [
        ("v0.2.0", api.show("credit@latest", root=repo).info.md5)
    ]
    assert json.loads(_promote(repo, clock, "staging"))[0]["version"] == "v0.2.0"
    assert json.loads(_promote(repo, clock, "production"))[0]["version"] == "v0.2.0"
    assert agree(repo)["credit"] == {
        "version": "v0.2.0",
        "stage": {"staging": "v0.2.0", "production": "v0.2.0"},
    }

    # Anyone can fetch exactly what production runs, from a fresh clone.
    clone = tmp_path / "reader"
    git(
        tmp_path, "clone", "-q", git(repo, "remote", "get-url", "origin").stdout.strip(), str(clone)
    )
    out = tmp_path / "production.skops"
    gitml(clone, "get", "credit@production", "-o", str(out))
    assert api.show("credit@production", root=clone).info.md5 == _md5(out)

    # Roll production back; it is recorded as a rollback and GTO agrees.
    clock.tick()
    back = api.rollback("credit", "production", root=repo, push=True)
    assert back.version == "v0.1.0"
    merge_into(repo, "production", f"origin/{back.branch}")
    clock.tick()
    outcome = json.loads(
        gitml(repo, "promote", "--on-push", "production", "--push", "--json").stdout
    )[0]
    assert (outcome["status"], outcome["kind"], outcome["version"]) == (
        "recorded",
        "rollback",
        "v0.1.0",
    )
    assert agree(repo)["credit"]["stage"] == {"staging": "v0.2.0", "production": "v0.1.0"}
    assert api.verify(root=repo).ok
    history = json.loads(gitml(repo, "history", "credit", "--stage", "production", "--json").stdout)
    assert [(h["event"], h["version"]) for h in history] == [
        ("promotion", "v0.1.0"),
        ("promotion", "v0.2.0"),
        ("rollback", "v0.1.0"),
    ]


def _md5(path: Path) -> str:
    from gitml.storage import file_md5

    return file_md5(path)

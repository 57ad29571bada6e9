"""GTO interoperability, with the real `gto` package: both tools read each other's tags."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from gitml import api
from tests.helpers import BIN_DIR, git, run
from tests.registry_flow import merge_pull_request, model_md5

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Clock

pytestmark = pytest.mark.slow


def gto(repo: Path, *args: str) -> object:
    """Run the real GTO CLI and parse its --json output."""
    return json.loads(run(BIN_DIR / "gto", *args, "--json", cwd=repo).stdout)


def gitml_as_gto_show(repo: Path) -> dict[str, dict[str, object]]:
    """``gitml registry --json`` in the shape of ``gto show --json`` (the comparison we claim)."""
    rows = api.registry(root=repo, local=True)
    return {
        row.model: {
            "version": row.latest,
            "stage": {s.stage: s.version for s in row.stages if s.version},
        }
        for row in rows
    }


def _gto_show(repo: Path) -> dict[str, dict[str, object]]:
    shown = gto(repo, "show")
    assert isinstance(shown, dict)
    return {
        name: {"version": row["version"], "stage": {k: v for k, v in row["stage"].items() if v}}
        for name, row in shown.items()
    }


def test_gto_reads_the_versions_gitml_registers(origin_repo: Path, clock: Clock) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    clock.tick()
    merge_pull_request(repo, 2, "lr", ("train", "hist_gradient_boosting.learning_rate", 0.1))
    clock.tick()
    api.register(root=repo, push=True)
    assert (
        _gto_show(repo) == gitml_as_gto_show(repo) == {"credit": {"version": "v0.2.0", "stage": {}}}
    )
    versions = gto(repo, "show", "credit")
    assert isinstance(versions, list)
    ours = {
        (v.version, v.commit)
        for v in [
            api.show("credit@v0.1.0", root=repo).info,
            api.show("credit@v0.2.0", root=repo).info,
        ]
    }
    assert {(v["version"], v["commit_hexsha"]) for v in versions} == ours
    history = gto(repo, "history", "credit")
    assert isinstance(history, list)
    assert sorted((h["event"], h["version"]) for h in history) == sorted(
        (h.event, h.version) for h in api.history("credit", root=repo)
    )


def test_gitml_reads_tags_written_by_gto_when_told_to(origin_repo: Path) -> None:
    """GTO's tags carry no gitml record: a gitml registry ignores them (``gitml verify``
    names each) unless gitml.yaml accepts GTO's tags; then they read exactly as in GTO."""
    repo = origin_repo
    head = git(repo, "rev-parse", "HEAD").stdout.strip()
    run(BIN_DIR / "gto", "register", "credit", head, "--version", "v1.0.0", cwd=repo)
    run(
        BIN_DIR / "gto",
        "assign",
        "credit",
        "--version",
        "v1.0.0",
        "--stage",
        "production",
        cwd=repo,
    )
    assert gitml_as_gto_show(repo) == {"credit": {"version": None, "stage": {}}}
    problems = api.verify(root=repo, check_remote=False).problems
    assert [p.split(":")[0] for p in problems] == ["credit#production#1", "credit@v1.0.0"]
    assert all("no gitml record" in p for p in problems)
    with (repo / "gitml.yaml").open("a") as config:
        config.write("registry:\n  accept_gto_tags: true\n")
    assert (
        gitml_as_gto_show(repo)
        == _gto_show(repo)
        == {"credit": {"version": "v1.0.0", "stage": {"production": "v1.0.0"}}}
    )
    info = api.show("credit#production", root=repo).info
    assert info.version == "v1.0.0"
    # GTO's tags record no hash: gitml reads it from dvc.lock at the tagged commit.
    assert info.md5 == model_md5(repo)
    events = [(h.event, h.version, h.stage) for h in api.history("credit", root=repo)]
    assert events == [("registration", "v1.0.0", None), ("promotion", "v1.0.0", "production")]
    gto_events = gto(repo, "history", "credit")
    assert isinstance(gto_events, list)
    assert sorted((e["event"], e["version"], e["stage"]) for e in gto_events) == sorted(
        [("registration", "v1.0.0", None), ("assignment", "v1.0.0", "production")]
    )


def _tag(repo: Path, clock: Clock, name: str, rev: str = "HEAD") -> None:
    clock.tick()
    git(repo, "tag", "-a", "-m", f"{name}", name, rev)


def test_state_semantics_match_gto_show(tmp_path: Path, clock: Clock) -> None:
    """Versions compared as numbers, latest assignment wins, unassign and deregister."""
    repo = tmp_path / "gto-only"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commits = []
    for number in range(5):
        clock.tick()
        git(repo, "commit", "-q", "--allow-empty", "-m", f"c{number}")
        commits.append(git(repo, "rev-parse", "HEAD").stdout.strip())
    for commit, version in zip(
        commits, ["v0.0.9", "v0.0.10", "v0.0.100", "v0.1.0-rc.1", "v0.0.11"], strict=True
    ):
        _tag(repo, clock, f"credit@{version}", commit)
    _tag(repo, clock, "credit#prod#1", commits[0])
    _tag(repo, clock, "credit#prod#2", commits[2])
    _tag(repo, clock, "credit#staging#3", commits[1])
    _tag(repo, clock, "credit#staging#4", commits[4])
    _tag(repo, clock, "credit#staging!#5", commits[4])  # unassign: staging falls back
    _tag(repo, clock, "credit@v0.0.100!#6", commits[2])  # deregister: prod falls back
    _tag(repo, clock, "other@v1.0.0", commits[3])
    _tag(repo, clock, "other@deprecated#1", commits[3])
    expected = {
        "credit": {"version": "v0.1.0-rc.1", "stage": {"prod": "v0.0.9", "staging": "v0.0.10"}}
    }
    assert _gto_show(repo) == expected
    assert {k: v for k, v in gitml_as_gto_show(repo).items() if k == "credit"} == expected
    assert [row.deprecated for row in api.registry(root=repo)] == [False, True]

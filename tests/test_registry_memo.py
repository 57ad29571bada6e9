"""Remembered registry answers: equal to fresh ones, and recomputed on every change.

The memo (gitml.registry.memo) answers a repeated query from one object-free
``for-each-ref``; these tests hold it to giving exactly what a fresh read gives, through
new tags, deleted tags, moved branches, an edited gitml.yaml and a corrupt cache file.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest

from gitml import api
from gitml.gitio.refs import read_refs, ref_listing
from gitml.registry.reader import RegistryReader
from gitml.usercache import cache_dir
from tests.helpers import git

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Clock

CONFIG = """\
models:
  credit:
    artifact: models/credit.skops
    metrics: [metrics/credit.json]
stages: [{stages}]
stage_branch: "{{stage}}"
"""


def _tag(repo: Path, clock: Clock, name: str, rev: str) -> None:
    clock.tick()
    git(repo, "tag", "-a", "-m", f"{name}\n\nmd5: {name.split('@')[-1]}", name, rev)


@pytest.fixture
def registry(tmp_path: Path, clock: Clock) -> tuple[Path, list[str]]:
    """A small GTO-style registry: three versions, production and staging assigned."""
    repo = tmp_path / "registry"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "gitml.yaml").write_text(CONFIG.format(stages="staging, production"))
    commits = []
    for number in range(3):
        clock.tick()
        git(repo, "commit", "-q", "--allow-empty", "-m", f"train {number}")
        commits.append(git(repo, "rev-parse", "HEAD").stdout.strip())
        _tag(repo, clock, f"credit@v0.{number + 1}.0", commits[-1])
    _tag(repo, clock, "credit#production#1", commits[0])
    _tag(repo, clock, "credit#staging#2", commits[1])
    return repo, commits


def _answers(repo: Path) -> dict[str, Any]:
    """Every memoised query, as JSON data."""
    return {
        "registry": [row.to_dict() for row in api.registry(root=repo, local=True)],
        "production": api.show("credit@production", root=repo, local=True).to_dict(),
        "latest": api.show("credit", root=repo, local=True).to_dict(),
        "history": [e.to_dict() for e in api.history("credit", root=repo, local=True)],
        "staging history": [
            e.to_dict() for e in api.history("credit", stage="staging", root=repo, local=True)
        ],
    }


def _check(repo: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Ask twice (the second from the memo), then fresh: all three must agree."""
    first = _answers(repo)
    remembered = _answers(repo)
    monkeypatch.setenv("GITML_NO_CACHE", "1")
    fresh = _answers(repo)
    monkeypatch.delenv("GITML_NO_CACHE")
    assert first == remembered == fresh
    return fresh


def _git_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put a logging ``git`` first on PATH (it runs the real git); return its log."""
    real = git(tmp_path, "--exec-path").stdout.strip() + "/git"
    shim_dir = tmp_path / "shim"
    shim_dir.mkdir()
    log = tmp_path / "git.log"
    shim = shim_dir / "git"
    shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{real}" "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def test_a_repeated_query_reads_no_tag(
    registry: tuple[Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, _ = registry
    log = _git_log(tmp_path, monkeypatch)
    before = api.registry(root=repo, local=True)
    first_calls = log.read_text().splitlines()
    assert any("%(contents)" in call for call in first_calls)  # the full read
    log.unlink()
    assert api.registry(root=repo, local=True) == before
    assert log.read_text().splitlines() == [
        "for-each-ref --format=%(objectname) %(refname) refs/tags refs/heads refs/remotes"
    ]
    log.unlink()
    shown = api.show("credit@production", root=repo, local=True)
    assert shown.info.version == "v0.1.0"
    api.show("credit@production", root=repo, local=True)
    calls = log.read_text().splitlines()
    assert sum("%(contents)" in call for call in calls) == 1  # only the first show read tags


def test_the_memo_follows_every_change(
    registry: tuple[Path, list[str]], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, commits = registry
    answers = _check(repo, monkeypatch)
    assert answers["production"]["version"] == "v0.1.0"

    _tag(repo, clock, "credit#production#3", commits[2])  # a promotion
    answers = _check(repo, monkeypatch)
    assert answers["production"]["version"] == "v0.3.0"
    assert answers["history"][-1]["event"] == "promotion"

    git(repo, "tag", "-d", "credit#production#3")  # a tag removed
    assert _check(repo, monkeypatch)["production"]["version"] == "v0.1.0"

    git(repo, "branch", "production", commits[1])  # a stage branch appears, then moves
    stages = _check(repo, monkeypatch)["registry"][0]["stages"]
    assert stages[1]["tip_commit"] == commits[1]
    git(repo, "branch", "-f", "production", commits[2])
    stages = _check(repo, monkeypatch)["registry"][0]["stages"]
    assert stages[1]["tip_commit"] == commits[2]

    (repo / "gitml.yaml").write_text(CONFIG.format(stages="production, staging, canary"))
    stages = _check(repo, monkeypatch)["registry"][0]["stages"]
    assert [s["stage"] for s in stages] == ["production", "staging", "canary"]

    _tag(repo, clock, "credit@v0.3.0!#4", commits[2])  # a deregistration
    answers = _check(repo, monkeypatch)
    assert answers["latest"]["version"] == "v0.2.0"


def test_a_corrupt_or_foreign_memo_entry_is_not_used(
    registry: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, _ = registry
    expected = _check(repo, monkeypatch)
    entries = sorted(cache_dir("registry").glob("*.json"))
    assert len(entries) == 5  # one per query
    for number, entry in enumerate(entries):
        entry.write_text(["{not json", '{"key": "another state", "answer": []}', "[]"][number % 3])
    assert _answers(repo) == expected
    assert _answers(repo) == expected  # rewritten, then read back


def test_no_cache_writes_nothing(
    registry: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, _ = registry
    monkeypatch.setenv("GITML_NO_CACHE", "1")
    _answers(repo)
    assert not cache_dir("registry").exists()
    assert not cache_dir("parsed").exists()


def test_the_full_read_lists_the_refs_exactly_as_the_key_listing(
    registry: tuple[Path, list[str]], tmp_path: Path
) -> None:
    repo, commits = registry
    git(repo, "tag", "lightweight", commits[0])
    git(repo, "branch", "staging", commits[1])
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))  # remote-tracking refs, origin/HEAD
    for where in (repo, clone):
        assert read_refs(where).listing == ref_listing(where)
        assert ref_listing(where).count(b"\n") > 5


def test_an_answer_is_not_filed_under_a_state_it_was_not_computed_from(
    registry: tuple[Path, list[str]], clock: Clock
) -> None:
    repo, commits = registry
    with RegistryReader(repo, local=True) as reader:
        reader.memo()  # the key: the refs as listed now
        _tag(repo, clock, "credit#production#9", commits[2])  # a push lands meanwhile
        assert reader.summary()[0].stages[1].version == "v0.3.0"
    assert not list(cache_dir("registry").glob("*.json"))
    assert api.registry(root=repo, local=True)[0].stages[1].version == "v0.3.0"
    assert len(list(cache_dir("registry").glob("*.json"))) == 1

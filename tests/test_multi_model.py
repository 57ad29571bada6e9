"""Two models in one repository: promoting one never moves the other ({stage}/{model})."""

from __future__ import annotations

from typing import TYPE_CHECKING

import yaml

from gitml import api
from tests.helpers import git

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Clock


def _lock(a: str, b: str) -> str:
    outs = [
        {"path": "models/a.skops", "md5": a * 32, "size": 1},
        {"path": "models/b.skops", "md5": b * 32, "size": 1},
    ]
    return yaml.safe_dump({"schema": "2.0", "stages": {"train": {"cmd": "x", "outs": outs}}})


def _commit(repo: Path, clock: Clock, a: str, b: str, message: str) -> None:
    clock.tick()
    (repo / "dvc.lock").write_text(_lock(a, b))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    git(repo, "push", "-q", "origin", "HEAD:main")


def test_promoting_one_model_never_moves_another(tmp_path: Path, clock: Clock) -> None:
    origin, repo = tmp_path / "origin.git", tmp_path / "repo"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", str(origin))
    config = {
        "models": {
            name: {"artifact": f"models/{name}.skops", "metrics": [f"{name}.json"]}
            for name in ("a", "b")
        },
        "stage_branch": "{stage}/{model}",
    }
    (repo / "gitml.yaml").write_text(yaml.safe_dump(config))
    for name in ("a", "b"):
        (repo / f"{name}.json").write_text('{"auc": 0.8}')
    _commit(repo, clock, "1", "2", "both models")
    clock.tick()
    done = api.register(root=repo, push=True, verify_remote=False)
    assert sorted((r.model, r.version) for r in done) == [("a", "v0.1.0"), ("b", "v0.1.0")]
    for name in ("a", "b"):
        clock.tick()
        assert api.promote(name, "staging", root=repo, push=True).branch == f"staging/{name}"
    clock.tick()
    outcomes = api.promote_on_push("staging", root=repo, verify_remote=False)
    assert sorted((o.model, o.status) for o in outcomes) == [("a", "recorded"), ("b", "recorded")]

    # A new version of a only; promote it; b's stage must not move.
    _commit(repo, clock, "3", "2", "retrain a")
    clock.tick()
    assert [
        (r.model, r.version) for r in api.register(root=repo, push=True, verify_remote=False)
    ] == [("a", "v0.2.0")]
    clock.tick()
    prepared = api.promote("a", "staging", root=repo, push=True)
    git(repo, "fetch", "-q", "origin")
    git(repo, "checkout", "-q", "-B", "staging/a", "origin/staging/a")
    git(repo, "merge", "-q", "--ff-only", f"origin/{prepared.branch}")
    git(repo, "push", "-q", "origin", "staging/a")
    git(repo, "checkout", "-q", "main")
    clock.tick()
    outcomes = api.promote_on_push("staging", root=repo, verify_remote=False)
    assert sorted((o.model, o.status, o.version) for o in outcomes) == [
        ("a", "recorded", "v0.2.0"),
        ("b", "up-to-date", "v0.1.0"),
    ]
    stages = {
        row.model: {s.stage: s.version for s in row.stages} for row in api.registry(root=repo)
    }
    assert stages == {
        "a": {"staging": "v0.2.0", "production": None},
        "b": {"staging": "v0.1.0", "production": None},
    }


def test_merging_main_into_a_stage_branch_directly_promotes(tmp_path: Path, clock: Clock) -> None:
    origin, repo = tmp_path / "origin.git", tmp_path / "repo"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", str(origin))
    config = {"models": {"a": {"artifact": "models/a.skops", "metrics": ["a.json"]}}}
    (repo / "gitml.yaml").write_text(yaml.safe_dump(config))
    (repo / "a.json").write_text('{"auc": 0.8}')
    (repo / "dvc.lock").write_text(_lock("1", "2"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a")
    git(repo, "push", "-q", "origin", "main")
    api.register(root=repo, push=True, verify_remote=False)
    git(repo, "push", "-q", "origin", "main:staging")  # staging starts at v0.1.0's commit
    clock.tick()
    api.promote_on_push("staging", root=repo, verify_remote=False)
    _commit(repo, clock, "3", "2", "retrain a")
    clock.tick()
    api.register(root=repo, push=True, verify_remote=False)
    git(repo, "checkout", "-q", "-b", "staging", "origin/staging")
    git(repo, "merge", "-q", "--no-ff", "main", "-m", "Merge branch 'main' into staging")
    git(repo, "push", "-q", "origin", "staging")
    clock.tick()
    (outcome,) = api.promote_on_push("staging", root=repo, verify_remote=False)
    assert (outcome.status, outcome.version) == ("recorded", "v0.2.0")

"""The registry on real repositories: register, query, fetch and verify."""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING

import pytest

from gitml import api
from gitml.errors import RegistryError, VerificationError
from gitml.gitio.repo import GitRepo, TagWriter
from gitml.registry.record import parse_record
from gitml.registry.register import Candidate, _register_one
from tests.helpers import dvc, git, gitml
from tests.registry_flow import merge_pull_request, model_md5, remote_tags

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Clock

pytestmark = pytest.mark.slow


def test_register_after_merges_is_idempotent(origin_repo: Path, clock: Clock) -> None:
    repo = origin_repo
    first = api.register(root=repo, push=True)
    assert [(r.model, r.version, r.created) for r in first] == [("credit", "v0.1.0", True)]
    assert first[0].md5 == model_md5(repo)
    clock.tick()
    merge_commit = merge_pull_request(
        repo, 7, "faster-lr", ("train", "hist_gradient_boosting.learning_rate", 0.1)
    )
    clock.tick()
    second = api.register(root=repo, push=True)
    assert [(r.version, r.commit) for r in second] == [("v0.2.0", merge_commit)]
    assert remote_tags(repo) == ["credit@v0.1.0", "credit@v0.2.0"]
    assert api.register(root=repo, push=True) == []

    details = api.show("credit@v0.2.0", root=repo)
    assert details.info.pull_request == 7
    assert details.info.md5 == model_md5(repo)
    assert details.info.merged_by == "Ada Tester"
    assert details.params["train.hist_gradient_boosting.learning_rate"] == 0.1
    assert details.metrics["roc_auc"] > 0.7
    assert len(details.training_data_md5 or "") == 32
    assert api.show("credit", root=repo).info.version == "v0.2.0"
    assert api.show("credit@latest", root=repo).info.version == "v0.2.0"

    tag_message = git(repo, "tag", "-l", "--format=%(contents)", "credit@v0.2.0").stdout
    record = parse_record(tag_message)
    assert record is not None
    assert (record.kind, record.pull_request, record.md5) == ("registration", 7, model_md5(repo))
    assert record.commit == merge_commit
    assert 0.7 < record.metrics["roc_auc"] < 1


def test_a_revert_registers_nothing_new(origin_repo: Path, clock: Clock) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    clock.tick()
    merge_pull_request(repo, 8, "lr", ("train", "hist_gradient_boosting.learning_rate", 0.1))
    clock.tick()
    api.register(root=repo, push=True)
    clock.tick()
    git(repo, "revert", "--no-edit", "-m", "1", "HEAD")
    dvc(repo, "checkout")
    git(repo, "push", "-q", "origin", "main")
    assert api.register(root=repo, push=True) == []


def test_skipped_ci_runs_are_caught_up_oldest_first(origin_repo: Path, clock: Clock) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    clock.tick()
    first = merge_pull_request(repo, 3, "a", ("train", "hist_gradient_boosting.learning_rate", 0.1))
    clock.tick()
    second = merge_pull_request(repo, 4, "b", ("train", "hist_gradient_boosting.max_iter", 120))
    clock.tick()
    done = api.register(root=repo, push=True)
    assert [(r.version, r.commit) for r in done] == [("v0.2.0", first), ("v0.3.0", second)]
    history = api.history("credit", root=repo)
    assert [(h.event, h.version, h.pull_request) for h in history] == [
        ("registration", "v0.1.0", None),
        ("registration", "v0.2.0", 3),
        ("registration", "v0.3.0", 4),
    ]


def test_refuses_an_artefact_missing_from_the_dvc_remote(origin_repo: Path, clock: Clock) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    clock.tick()
    merge_pull_request(repo, 9, "unpushed", ("train", "seed", 7), push_dvc=False)
    result = gitml(repo, "register", "--push", check=False)
    assert result.returncode == 5
    assert "not in the DVC remote: credit " in result.stderr
    assert "run `dvc push` first" in result.stderr
    assert remote_tags(repo) == ["credit@v0.1.0"]
    assert "credit@v0.2.0" not in git(repo, "tag").stdout
    forced = api.register(root=repo, push=True, verify_remote=False)
    assert [r.version for r in forced] == ["v0.2.0"]


def test_losing_a_tag_race_rereads_the_winner(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    clock.tick()
    merge_pull_request(repo, 5, "x", ("train", "hist_gradient_boosting.learning_rate", 0.1))
    head = GitRepo(repo).commit_info("HEAD")
    other = tmp_path / "other-run"
    git(
        tmp_path, "clone", "-q", git(repo, "remote", "get-url", "origin").stdout.strip(), str(other)
    )
    shutil.copytree(repo / ".dvc" / "cache", other / ".dvc" / "cache")
    clock.tick()
    # The other CI run wins: it registers the same artefact first.
    assert [r.version for r in api.register(root=other, push=True)] == ["v0.2.0"]
    # This run had read the tags before that: it tries v0.2.0 too, is rejected, re-reads.
    clock.tick()  # (at the same second the two tag objects would be identical: no race)
    candidate = Candidate("credit", model_md5(repo), head)
    result = _register_one(repo, TagWriter(GitRepo(repo)), candidate, "minor", True, "origin")
    assert (result.version, result.created) == ("v0.2.0", False)
    assert remote_tags(repo) == ["credit@v0.1.0", "credit@v0.2.0"]
    # A different artefact that lost the race for v0.2.0 takes the next number.
    clock.tick()
    git(repo, "commit", "-q", "--allow-empty", "-m", "another change")
    fake = Candidate("credit", "f" * 32, GitRepo(repo).commit_info("HEAD"))
    git(repo, "tag", "-d", "credit@v0.2.0")
    result = _register_one(repo, TagWriter(GitRepo(repo)), fake, "minor", True, "origin")
    assert (result.version, result.created) == ("v0.3.0", True)


def test_two_runs_registering_at_once_create_one_version(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    import subprocess

    repo = origin_repo
    api.register(root=repo, push=True)
    clock.tick()
    merge_pull_request(repo, 6, "y", ("train", "hist_gradient_boosting.learning_rate", 0.1))
    url = git(repo, "remote", "get-url", "origin").stdout.strip()
    runs = []
    for name in ("run-a", "run-b"):
        clone = tmp_path / name
        git(tmp_path, "clone", "-q", url, str(clone))
        runs.append(clone)
    from tests.helpers import BIN_DIR

    procs = [
        subprocess.Popen(
            [str(BIN_DIR / "gitml"), "register", "--push", "--json"],
            cwd=clone,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for clone in runs
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    results = [json.loads(out) for out, _ in outputs]
    assert sorted(r[0]["version"] for r in results) == ["v0.2.0", "v0.2.0"]
    assert sorted(r[0]["created"] for r in results) in ([False, True], [True, True])
    assert remote_tags(repo) == ["credit@v0.1.0", "credit@v0.2.0"]


def test_get_verifies_the_hash_and_writes_atomically(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    out = tmp_path / "model.skops"
    resolved = api.get("credit@v0.1.0", out, root=repo)
    assert out.read_bytes() == (repo / "models/credit.skops").read_bytes()
    assert resolved.version == "v0.1.0"
    # A fresh clone with an empty cache fetches from the DVC remote.
    clone = tmp_path / "clone"
    git(
        tmp_path, "clone", "-q", git(repo, "remote", "get-url", "origin").stdout.strip(), str(clone)
    )
    fetched = tmp_path / "fetched.skops"
    api.get("credit@latest", fetched, root=clone)
    assert fetched.read_bytes() == out.read_bytes()
    model = api.load("credit@v0.1.0", root=clone)
    assert hasattr(model, "predict_proba")
    # Tamper with the stored object: the fetch refuses and writes nothing.
    md5 = model_md5(repo)
    stored = tmp_path / "dvc-remote" / "files" / "md5" / md5[:2] / md5[2:]
    stored.chmod(0o644)
    stored.write_bytes(stored.read_bytes() + b"tampered")
    shutil.rmtree(clone / ".dvc" / "cache", ignore_errors=True)
    target = tmp_path / "never.skops"
    result = gitml(clone, "get", "credit@v0.1.0", "-o", str(target), check=False)
    assert result.returncode == 5
    assert "differs from the recorded" in result.stderr
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".never")] == []
    # A git revision works too.
    api.get("credit@HEAD", tmp_path / "by-rev.skops", root=repo)


def test_bad_references_are_clear_errors(origin_repo: Path, clock: Clock) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    cases = {
        "nope@v0.1.0": "unknown model 'nope' (known: credit)",
        "credit@v9.9.9": "credit@v9.9.9: version not found (latest versions: v0.1.0)",
        "credit@qa": "credit@qa: not a version, a stage (staging, production) or a git revision",
        "credit@production": "credit@production: no version of credit is recorded in production",
        "credit@v1.x": "'v1.x' is not a version like v1.2.3",
    }
    for ref, message in cases.items():
        result = gitml(repo, "get", ref, "-o", "x.skops", check=False)
        assert result.returncode == 1, ref
        assert message in result.stderr, (ref, result.stderr)
    result = gitml(repo, "show", "credit#qa", check=False)
    assert "unknown stage 'qa' (stages: staging, production)" in result.stderr
    with pytest.raises(RegistryError):
        api.history("nope", root=repo)


def test_malformed_and_foreign_tags_are_skipped_with_a_warning(
    origin_repo: Path, clock: Clock
) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    git(repo, "tag", "credit@v2.0.0")  # lightweight: not a registry record
    git(repo, "tag", "-a", "-m", "x", "credit@vbanana")
    git(repo, "tag", "-a", "-m", "release", "release-2026")
    rows = json.loads(gitml(repo, "registry", "--json").stdout)
    assert rows[0]["latest"] == "v0.1.0"
    report = json.loads(gitml(repo, "verify", "--json").stdout)
    assert report["ok"] is True
    assert sorted(report["warnings"]) == [
        "skipped tag 'credit@v2.0.0': not a registry tag name",
        "skipped tag 'credit@vbanana': not a registry tag name",
        "the DVC remote was checked for presence only: `gitml verify --deep` reads every "
        "artefact back and checks its md5",
    ]


def test_empty_registry_and_missing_config(repo: Path, tmp_path: Path) -> None:
    assert gitml(repo, "registry").stdout.splitlines()[2].startswith("credit  -")
    assert (
        "credit: no version is registered yet" in gitml(repo, "show", "credit", check=False).stderr
    )
    bare = tmp_path / "plain"
    bare.mkdir()
    git(bare, "init", "-q")
    assert gitml(bare, "registry").stdout.strip() == (
        "the registry is empty: no model is configured or registered yet"
    )
    result = gitml(bare, "register", check=False)
    assert result.returncode == 1
    assert "gitml.yaml: not found" in result.stderr


def test_verify_finds_a_missing_remote_object(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    assert api.verify(root=repo).ok
    md5 = model_md5(repo)
    (tmp_path / "dvc-remote" / "files" / "md5" / md5[:2] / md5[2:]).unlink()
    report = api.verify(root=repo)
    assert report.problems == (f"credit@v0.1.0: artefact {md5} is not in the DVC remote",)
    with pytest.raises(VerificationError):
        api.register(root=repo, push=True, verify_remote=True) or (_ for _ in ()).throw(
            VerificationError("x")
        )


def test_read_commands_take_a_repository_url(
    origin_repo: Path, clock: Clock, tmp_path: Path
) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    # Readers elsewhere need the remote as an absolute URL (as s3://... would be).
    dvc(repo, "remote", "modify", "storage", "url", str(tmp_path / "dvc-remote"))
    git(repo, "commit", "-qam", "Absolute DVC remote")
    git(repo, "push", "-q", "origin", "main")
    url = git(repo, "remote", "get-url", "origin").stdout.strip()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    rows = json.loads(gitml(elsewhere, "registry", "--repo", url, "--json").stdout)
    assert rows[0]["model"] == "credit"
    assert rows[0]["latest"] == "v0.1.0"
    shown = json.loads(gitml(elsewhere, "show", "credit@v0.1.0", "--repo", url, "--json").stdout)
    assert shown["md5"] == model_md5(repo)
    history = json.loads(gitml(elsewhere, "history", "credit", "--repo", url, "--json").stdout)
    assert [h["event"] for h in history] == ["registration"]
    # The cache holds refs and tags, not a working tree.
    cached = list((tmp_path / "_home" / ".cache" / "gitml" / "repos").iterdir())
    assert len(cached) == 1
    assert (cached[0] / "HEAD").is_file()
    assert not (cached[0] / "models").exists()
    got = tmp_path / "got.skops"
    gitml(elsewhere, "get", "credit@v0.1.0", "--repo", url, "-o", str(got))
    assert got.read_bytes() == (repo / "models/credit.skops").read_bytes()
    model = api.load("credit@v0.1.0", repo=url)
    assert hasattr(model, "predict_proba")

"""Lineage in every record, and ``gitml lineage``, on a real two-stage DVC pipeline.

The repository is built once per module (real git, real ``dvc add``/``repro``/``push``
to a local directory remote, gitml's own register and promote): ``prepare`` reads the
DVC-tracked ``raw/`` folder and its params, ``train`` reads what ``prepare`` wrote and
writes the model. v0.1.0 is registered by gitml (lineage recorded), promoted to
production and staging, unassigned from staging; v0.2.0 carries a record written before
gitml recorded lineage; v0.3.0's record claims inputs dvc.lock does not hold (forged).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
import yaml

from gitml import api
from gitml.registry.lineage import Lineage, lineage_from_lock, sha256_of, upstream_stages
from gitml.registry.record import Kind, Record, parse_record, record_message
from gitml.registry.register import pull_request_number
from tests.conftest import _write_gitconfig, isolated_environment
from tests.helpers import dvc, git, gitml

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from pytest_httpserver import HTTPServer

START = 1_767_225_600  # 2026-01-01T00:00:00Z

PREPARE = """\
import yaml
scale = yaml.safe_load(open("params.yaml"))["prepare"]["scale"]
rows = [int(x) * scale for x in open("raw/values.csv").read().split()]
open("prepared.csv", "w").write("\\n".join(map(str, rows)) + "\\n")
"""
TRAIN = """\
import json, yaml
bias = yaml.safe_load(open("params.yaml"))["train"]["bias"]
rows = [int(x) for x in open("prepared.csv").read().split()]
open("model.bin", "w").write(f"weights {sum(rows) + bias}\\n")
json.dump({"auc": 0.5 + bias / 100}, open("metrics.json", "w"))
"""
DVC_YAML = {
    "stages": {
        "prepare": {
            "cmd": "python src/prepare.py",
            "deps": ["raw", "src/prepare.py"],
            "params": ["prepare"],
            "outs": ["prepared.csv"],
        },
        "train": {
            "cmd": "python src/train.py",
            "deps": ["prepared.csv", "src/train.py"],
            "params": ["train.bias"],
            "outs": ["model.bin"],
            "metrics": [{"metrics.json": {"cache": False}}],
        },
    },
    "artifacts": {"m": {"path": "model.bin", "type": "model"}},
}


class _Clock:
    """Fixed, strictly increasing git dates (the registry orders events by tag time)."""

    def __init__(self) -> None:
        self.now = START

    def tick(self) -> None:
        self.now += 60
        os.environ["GIT_AUTHOR_DATE"] = os.environ["GIT_COMMITTER_DATE"] = f"@{self.now} +0000"


@dataclass(frozen=True)
class Built:
    """The module's repository and the commits of its versions."""

    repo: Path
    commits: dict[str, str]  # version -> registered commit


def _merge(repo: Path, clock: _Clock, number: int, bias: int) -> str:
    """A pull request that changes ``train.bias``, reproduced, merged like GitHub does."""
    clock.tick()
    branch = f"bias-{bias}"
    git(repo, "checkout", "-q", "-b", branch, "main")
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["train"]["bias"] = bias
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    dvc(repo, "repro", "-q")
    git(repo, "commit", "-qam", f"Bias {bias}")
    dvc(repo, "push", "-q")
    git(repo, "checkout", "-q", "main")
    message = f"Merge pull request #{number} from team/{branch}"
    git(repo, "merge", "-q", "--no-ff", branch, "-m", message)
    git(repo, "push", "-q", "origin", "main")
    return git(repo, "rev-parse", "HEAD").stdout.strip()


def _tag_by_hand(repo: Path, clock: _Clock, version: str, commit: str, **lineage: object) -> None:
    """A registration tag whose record says what ``lineage`` says (an older gitml's, or a
    forged one)."""
    clock.tick()
    lock = yaml.safe_load(git(repo, "show", f"{commit}:dvc.lock").stdout)
    md5 = next(o["md5"] for o in lock["stages"]["train"]["outs"] if o["path"] == "model.bin")
    record = Record(
        Kind.REGISTRATION, "m", version, md5=md5, artifact="model.bin", commit=commit, **lineage
    )
    message = record_message(f"Register m {version}", record)
    git(repo, "tag", "-a", f"m@{version}", commit, "-m", message)
    git(repo, "push", "-q", "origin", f"m@{version}")


def _promote(repo: Path, clock: _Clock, stage: str, version: str, rollback: bool = False) -> None:
    """Prepare the promotion (or rollback) branch, merge it into the stage, record it."""
    clock.tick()
    if rollback:
        prepared = api.rollback("m", stage, to=version, root=repo, push=True)
    else:
        prepared = api.promote("m", stage, version=version, root=repo, push=True)
    clock.tick()
    git(repo, "fetch", "-q", "origin")
    exists = git(repo, "rev-parse", "--verify", "-q", f"origin/{stage}", check=False)
    base = f"origin/{stage}" if exists.returncode == 0 else f"origin/{prepared.branch}"
    git(repo, "checkout", "-q", "-B", stage, base)
    git(repo, "merge", "-q", "--no-ff", f"origin/{prepared.branch}", "-m", f"Merge {stage}")
    git(repo, "push", "-q", "origin", stage)
    git(repo, "checkout", "-q", "main")
    clock.tick()
    (outcome,) = api.promote_on_push(root=repo, stage=stage, verify_remote=False)
    assert outcome.status == "recorded", outcome


def _build(root: Path) -> Built:
    repo, clock = root / "repo", _Clock()
    git(root, "init", "-q", "--bare", str(root / "origin.git"))
    (repo / "src").mkdir(parents=True)
    (repo / "raw").mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", str(root / "origin.git"))
    dvc(repo, "init", "-q")
    dvc(repo, "config", "core.check_update", "false")
    dvc(repo, "remote", "add", "-d", "storage", "../dvc-remote")
    (repo / "raw" / "values.csv").write_text("1 2 3 4\n")
    (repo / "src" / "prepare.py").write_text(PREPARE)
    (repo / "src" / "train.py").write_text(TRAIN)
    (repo / "params.yaml").write_text(
        yaml.safe_dump({"prepare": {"scale": 3}, "train": {"bias": 1}})
    )
    (repo / "dvc.yaml").write_text(yaml.safe_dump(DVC_YAML, sort_keys=False))
    config = {"models": {"m": {"artifact": "model.bin", "metrics": ["metrics.json"]}}}
    (repo / "gitml.yaml").write_text(yaml.safe_dump(config))
    dvc(repo, "add", "-q", "raw")
    dvc(repo, "repro", "-q")
    clock.tick()
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Train the first model")
    dvc(repo, "push", "-q")
    git(repo, "push", "-q", "origin", "main")
    clock.tick()
    (first,) = api.register(root=repo, push=True)
    commits = {"v0.1.0": first.commit}
    _promote(repo, clock, "production", "v0.1.0")
    _promote(repo, clock, "staging", "v0.1.0")
    clock.tick()
    api.unassign("m", "staging", root=repo, push=True)
    # v0.2.0: registered by a gitml that recorded no lineage.
    commits["v0.2.0"] = _merge(repo, clock, 5, 2)
    _tag_by_hand(repo, clock, "v0.2.0", commits["v0.2.0"], pull_request=5)
    # v0.3.0: a record that claims other inputs, params and stages than dvc.lock holds.
    commits["v0.3.0"] = _merge(repo, clock, 6, 3)
    forged = api.lineage("m@v0.2.0", root=repo)  # v0.2.0's lineage: right, but not v0.3.0's
    _tag_by_hand(
        repo,
        clock,
        "v0.3.0",
        commits["v0.3.0"],
        inputs={"raw": "0" * 32 + ".dir"},
        params_digest=forged.params_digest,
        stages=dict(forged.stages),
    )
    _promote(repo, clock, "production", "v0.2.0")
    _promote(repo, clock, "production", "v0.1.0", rollback=True)
    return Built(repo, commits)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """The module's repository, built once (its own isolated git and DVC environment)."""
    root = tmp_path_factory.mktemp("lineage")
    home = root / "_home"
    _write_gitconfig(home)
    saved = dict(os.environ)
    os.environ.update(isolated_environment(home))
    try:
        yield _build(root)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _lock(built: Built, version: str) -> dict[str, object]:
    text = git(built.repo, "show", f"{built.commits[version]}:dvc.lock").stdout
    lock: dict[str, object] = yaml.safe_load(text)
    return lock


def _record(repo: Path, tag: str) -> Record:
    record = parse_record(git(repo, "tag", "-l", "--format=%(contents)", tag).stdout)
    assert record is not None
    return record


# -- lineage_from_lock, on locks written by `dvc repro` ------------------------------------


def test_lineage_from_a_real_lock(built: Built) -> None:
    lock = _lock(built, "v0.1.0")
    stages = lock["stages"]
    assert isinstance(stages, dict)
    raw = next(d for d in stages["prepare"]["deps"] if d["path"] == "raw")
    assert upstream_stages(lock, "model.bin") == ["prepare", "train"]
    assert upstream_stages(lock, "prepared.csv") == ["prepare"]
    assert upstream_stages(lock, "metrics.json") == ["prepare", "train"]  # train writes it too
    found = lineage_from_lock(lock, "model.bin", tracked=["raw"])
    # The data is raw/ (tracked by raw.dvc); src/*.py are code (the commit), prepared.csv
    # is made by prepare, so neither is a data input.
    assert found.inputs == {"raw": raw["md5"]}
    assert raw["md5"].endswith(".dir")
    expected_params = {
        "prepare": {"params.yaml": {"prepare": {"scale": 3}}},
        "train": {"params.yaml": {"train.bias": 1}},
    }
    assert found.params_digest == sha256_of(expected_params)
    assert found.stages == {name: sha256_of(stages[name]) for name in ("prepare", "train")}
    # The canonical JSON the digests are taken over: sorted keys, no spaces, ASCII.
    canonical = json.dumps(
        stages["train"], sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )
    import hashlib

    assert found.stages["train"] == hashlib.sha256(canonical.encode()).hexdigest()
    # Without the .dvc files, the lock alone: code files by their suffix are left out.
    assert lineage_from_lock(lock, "model.bin").inputs == found.inputs
    # What no stage produces has no lineage; nothing tracked is no data input.
    assert lineage_from_lock(lock, "raw").empty
    assert lineage_from_lock(lock, "model.bin", tracked=[]).inputs == {}


def test_a_param_change_changes_the_digests_of_the_stages_that_read_it(built: Built) -> None:
    one = lineage_from_lock(_lock(built, "v0.1.0"), "model.bin", tracked=["raw"])
    two = lineage_from_lock(_lock(built, "v0.2.0"), "model.bin", tracked=["raw"])
    assert one.inputs == two.inputs
    assert one.params_digest != two.params_digest
    assert one.stages["prepare"] == two.stages["prepare"]
    assert one.stages["train"] != two.stages["train"]


@pytest.mark.parametrize(
    ("lock", "message"),
    [
        ({"schema": "2.0"}, "dvc.lock: expected a `stages:` mapping"),
        ({"stages": {"train": ["x"]}}, "dvc.lock: stage 'train': expected a mapping"),
        (
            {"stages": {"train": {"outs": [{"md5": "x"}]}}},
            "dvc.lock: stage 'train': expected `outs` entries with a `path`",
        ),
    ],
)
def test_a_malformed_lock_is_one_line_naming_the_stage(lock: object, message: str) -> None:
    from gitml.errors import ConfigError

    with pytest.raises(ConfigError, match=message.replace("`", ".").replace("(", ".")):
        lineage_from_lock(lock, "model.bin")


# -- registration -------------------------------------------------------------------------


def test_registration_records_the_lineage(built: Built) -> None:
    record = _record(built.repo, "m@v0.1.0")
    lock = _lock(built, "v0.1.0")
    assert Lineage(dict(record.inputs), record.params_digest, dict(record.stages)) == (
        lineage_from_lock(lock, "model.bin", tracked=["raw"])
    )
    assert record.commit == built.commits["v0.1.0"]
    # Outside GitHub Actions, with no token: no author, approvers or run URL.
    assert (record.author, record.approvers, record.run_url) == (None, (), None)
    shown = json.loads(gitml(built.repo, "show", "m@v0.1.0", "--json").stdout)
    assert shown["lineage"] == {
        "inputs": dict(record.inputs),
        "params_digest": record.params_digest,
        "pipeline_stages": dict(record.stages),
        "author": None,
        "approvers": [],
        "run_url": None,
    }
    rows = [line.split() for line in gitml(built.repo, "show", "m@v0.1.0").stdout.splitlines()]
    assert ["data", "input", "raw", record.inputs["raw"]] in rows
    assert ["params", "digest", str(record.params_digest)] in rows
    assert ["pipeline", "stage", "train", record.stages["train"]] in rows
    assert ["approvers", "-"] in rows


def _github(
    httpserver: HTTPServer, number: int, reviews: list[dict[str, object]], merged_as: str
) -> None:
    """GitHub's answers for merged pull request ``number``: GitHub made ``merged_as``."""
    pull = f"/repos/team/credit/pulls/{number}"
    answer = {
        "number": number,
        "user": {"login": "ada"},
        "base": {"ref": "main"},
        "head": {"sha": "1" * 40},
        "merged": True,
        "merge_commit_sha": merged_as,
    }
    httpserver.expect_request(pull).respond_with_json(answer)
    httpserver.expect_request(f"{pull}/reviews").respond_with_json(reviews)


def _copy(built: Built, tmp_path: Path) -> Path:
    root = tmp_path / "lineage"
    shutil.copytree(built.repo.parent, root, symlinks=True, ignore=_no_home)
    git(root / "repo", "remote", "set-url", "origin", str(root / "origin.git"))
    return root / "repo"


def _no_home(folder: str, names: list[str]) -> list[str]:
    return ["_home"] if "_home" in names else []


def _github_environment(monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    monkeypatch.setenv("GITHUB_REPOSITORY", "team/credit")
    monkeypatch.setenv("GITHUB_API_URL", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_RUN_ID", "4242")


def test_registration_in_ci_records_author_approvers_and_run(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer
) -> None:
    repo = _copy(built, tmp_path)
    clock = _Clock()
    clock.now = START + 100_000
    merged = _merge(repo, clock, 12, 7)
    _github(
        httpserver,
        12,
        [
            {"user": {"login": "grace"}, "state": "APPROVED"},
            {"user": {"login": "ada"}, "state": "APPROVED"},  # the author's own: not counted
            {"user": {"login": "linus"}, "state": "CHANGES_REQUESTED"},
            {"user": {"login": "barbara"}, "state": "APPROVED"},
        ],
        merged_as=merged,
    )
    _github_environment(monkeypatch, httpserver)
    clock.tick()
    result = gitml(repo, "register", "--json")
    (done,) = json.loads(result.stdout)
    assert (done["version"], done["warnings"]) == ("v0.4.0", [])
    record = _record(repo, "m@v0.4.0")
    assert record.pull_request == 12
    assert (record.author, record.approvers) == ("ada", ("barbara", "grace"))
    assert record.run_url == "https://github.com/team/credit/actions/runs/4242"
    assert record.inputs == {"raw": _record(repo, "m@v0.1.0").inputs["raw"]}
    # The chain names them, with the pull request's URL from the origin remote.
    git(repo, "remote", "set-url", "origin", "git@github.com:team/credit.git")
    chain = api.lineage("m@v0.4.0", root=repo)
    assert chain.verified
    assert chain.source == "recorded"
    assert chain.pull_request is not None
    assert chain.pull_request.to_dict() == {
        "number": 12,
        "url": "https://github.com/team/credit/pull/12",
        "author": "ada",
        "approvers": ["barbara", "grace"],
        "merged_by": "Ada Tester",
    }
    assert chain.run_url == "https://github.com/team/credit/actions/runs/4242"


def test_a_pull_request_that_did_not_merge_the_commit_lends_no_approvals(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer
) -> None:
    """A commit whose subject names an approved pull request GitHub merged as another
    commit (a push that copies a merge subject) records no author and no approvers."""
    repo = _copy(built, tmp_path)
    clock = _Clock()
    clock.now = START + 100_000
    _merge(repo, clock, 14, 9)
    _github(httpserver, 14, [{"user": {"login": "grace"}, "state": "APPROVED"}], "2" * 40)
    _github_environment(monkeypatch, httpserver)
    clock.tick()
    result = gitml(repo, "register")
    assert "pull request #14 did not merge" in result.stderr
    record = _record(repo, "m@v0.4.0")
    assert (record.author, record.approvers) == (None, ())
    assert record.pull_request == 14  # what the subject says, as before: not a fact of review


def test_a_github_failure_registers_without_approvers_and_warns(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer
) -> None:
    repo = _copy(built, tmp_path)
    clock = _Clock()
    clock.now = START + 100_000
    _merge(repo, clock, 13, 8)
    httpserver.expect_request("/repos/team/credit/pulls/13").respond_with_json(
        {"message": "Not Found"}, status=404
    )
    _github_environment(monkeypatch, httpserver)
    clock.tick()
    result = gitml(repo, "register")
    assert result.stdout.startswith("m: registered v0.4.0")
    (warning,) = result.stderr.splitlines()
    assert warning.startswith("gitml: warning: m v0.4.0: pull request #13: reviews not read (")
    assert warning.endswith("the record names no author or approvers")
    record = _record(repo, "m@v0.4.0")
    assert (record.author, record.approvers) == (None, ())
    assert record.run_url == "https://github.com/team/credit/actions/runs/4242"
    assert record.stages  # the lineage is recorded all the same
    chain = api.lineage("m@v0.4.0", root=repo)
    assert "reviews were not read" in " ".join(chain.notes)


# -- gitml lineage -------------------------------------------------------------------------


def _blob(repo: Path, commit: str, path: str) -> str:
    return git(repo, "rev-parse", f"{commit}:{path}").stdout.strip()


def _tag_object(repo: Path, tag: str) -> str:
    return git(repo, "rev-parse", f"refs/tags/{tag}").stdout.strip()


def test_lineage_json_proves_each_link(built: Built) -> None:
    repo, commit = built.repo, built.commits["v0.1.0"]
    record = _record(repo, "m@v0.1.0")
    chain = json.loads(gitml(repo, "lineage", "m@v0.1.0", "--json").stdout)
    assert (chain["source"], chain["verified"], chain["disagreements"]) == ("recorded", True, [])
    assert chain["commit"] == commit
    assert chain["inputs"] == [
        {
            "path": "raw",
            "md5": record.inputs["raw"],
            "lock_blob": _blob(repo, commit, "dvc.lock"),
            "pointer": "raw.dvc",
            "pointer_blob": _blob(repo, commit, "raw.dvc"),
            "pointer_md5": record.inputs["raw"],
        }
    ]
    assert chain["params_digest"] == record.params_digest
    assert chain["stages"] == dict(record.stages)
    assert chain["tag"] == "m@v0.1.0"
    assert chain["tag_object"] == _tag_object(repo, "m@v0.1.0")
    assert chain["pull_request"] is None  # a direct commit, no pull request
    events = [(e["event"], e["stage"], e["tag"]) for e in chain["events"]]
    assert events == [
        ("promotion", "production", "m#production#1"),
        ("promotion", "staging", "m#staging#2"),
        ("unassignment", "staging", "m#staging!#3"),
        ("rollback", "production", "m#production#5"),
    ]
    assert [e["tag_object"] for e in chain["events"]] == [
        _tag_object(repo, tag) for _, _, tag in events
    ]
    # MODEL@STAGE names the version the stage holds (the rollback put v0.1.0 back).
    assert api.lineage("m@production", root=repo).to_dict() == chain | {"verified": True}


def test_lineage_table_and_markdown(built: Built) -> None:
    repo, commit = built.repo, built.commits["v0.1.0"]
    lock_blob = _blob(repo, commit, "dvc.lock")
    lines = gitml(repo, "lineage", "m@v0.1.0").stdout.splitlines()
    assert lines[0] == f"m v0.1.0: lineage recorded, verified against dvc.lock at {commit[:12]}"
    cells = [line.split(None, 3) for line in lines[4:]]
    assert [c[:2] for c in cells] == [
        ["data", "input"],
        ["data", "params"],
        ["data", "stage"],
        ["data", "stage"],
        ["run", "code"],
        ["version", "v0.1.0"],
        ["promotions", "promoted"],
        ["promotions", "promoted"],
        ["promotions", "unassigned"],
        ["promotions", "production"],
    ]
    assert lines[10].split()[:5] == [
        "promotions",
        "promoted",
        "to",
        "production",
        "2026-01-01T00:05:00+00:00",
    ]
    assert lines[13].split()[:6] == ["promotions", "production", "rolled", "back", "to", "it"]
    raw = lines[4]
    assert f"raw.dvc blob {_blob(repo, commit, 'raw.dvc')}; dvc.lock blob {lock_blob}" in raw
    assert f"tag m@v0.1.0 object {_tag_object(repo, 'm@v0.1.0')}" in lines[9]
    markdown = gitml(repo, "lineage", "m@v0.1.0", "--format", "md").stdout
    assert "| step | what | value | proof |" in markdown
    assert "| data | input raw | md5 " in markdown


def test_a_forged_record_is_flagged(built: Built) -> None:
    repo, commit = built.repo, built.commits["v0.3.0"]
    derived = lineage_from_lock(_lock(built, "v0.3.0"), "model.bin", tracked=["raw"])
    result = gitml(repo, "lineage", "m@v0.3.0", check=False)
    assert result.returncode == 5
    lines = result.stdout.splitlines()
    assert lines[0] == f"m v0.3.0: lineage recorded, NOT verified against dvc.lock at {commit[:12]}"
    lock = f"dvc.lock at {commit[:12]}"
    disagreements = [line for line in lines if line.startswith("disagreement: ")]
    assert disagreements == [
        f"disagreement: record says input raw {'0' * 32}.dir, {lock} says {derived.inputs['raw']}",
        f"disagreement: record says stage train {_record(repo, 'm@v0.3.0').stages['train']}, "
        f"{lock} says {derived.stages['train']}",
        f"disagreement: record says params digest {_record(repo, 'm@v0.3.0').params_digest}, "
        f"{lock} says {derived.params_digest}",
    ]
    chain = json.loads(gitml(repo, "lineage", "m@v0.3.0", "--json", check=False).stdout)
    assert chain["verified"] is False
    assert [i["md5"] for i in chain["inputs"]] == ["0" * 32 + ".dir"]  # what the record says


def test_a_version_registered_before_lineage_gets_it_derived(built: Built) -> None:
    repo, commit = built.repo, built.commits["v0.2.0"]
    assert not _record(repo, "m@v0.2.0").stages
    derived = lineage_from_lock(_lock(built, "v0.2.0"), "model.bin", tracked=["raw"])
    chain = api.lineage("m@v0.2.0", root=repo)
    assert (chain.source, chain.verified) == ("derived, not recorded", True)
    assert {i.path: i.md5 for i in chain.inputs} == derived.inputs
    assert (chain.params_digest, chain.stages) == (derived.params_digest, derived.stages)
    assert chain.pull_request is not None
    assert chain.pull_request.number == 5
    assert chain.pull_request.url is None  # the origin is a local folder, not GitHub
    first = gitml(repo, "lineage", "m@v0.2.0").stdout.splitlines()[0]
    assert first == "m v0.2.0: lineage derived, not recorded"
    shown = gitml(repo, "show", "m@v0.2.0").stdout
    assert "not recorded (`gitml lineage` derives it from dvc.lock)" in shown
    assert commit in shown


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("nope@v0.1.0", "gitml: error: unknown model 'nope' (known: m)"),
        ("m@v9.9.9", "gitml: error: m@v9.9.9: version not found (latest versions: "),
        ("m@staging", "gitml: error: m@staging: no version of m is recorded in staging"),
    ],
)
def test_unknown_references_are_one_line(built: Built, ref: str, message: str) -> None:
    result = gitml(built.repo, "lineage", ref, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith(message)
    assert len(result.stderr.splitlines()) == 1


def test_pull_request_numbers_and_github_urls() -> None:
    from gitml.registry.lineage_chain import github_url

    assert pull_request_number("Merge pull request #12 from team/x") == 12
    assert github_url("https://github.com/team/credit.git") == "https://github.com/team/credit"
    assert github_url("git@github.com:team/credit.git") == "https://github.com/team/credit"
    assert github_url("ssh://git@github.com/team/credit") == "https://github.com/team/credit"
    assert github_url("https://gitlab.com/team/credit.git") is None
    assert github_url("/srv/git/credit.git") is None
    assert github_url(None) is None


def test_lineage_a_record_cannot_hold_is_left_out_with_a_warning() -> None:
    from gitml.registry.register import lineage_fields

    many = {f"data/part-{i:02d}": "0" * 32 for i in range(51)}
    fields, warnings = lineage_fields(Lineage(many, "a" * 64, {"train": "b" * 64}))
    assert fields == {"params_digest": "a" * 64, "stages": {"train": "b" * 64}}
    assert warnings == ["51 inputs is more than a record holds (50): not recorded"]
    fields, warnings = lineage_fields(Lineage({"bad\nname": "0" * 32}, None, {}))
    assert "inputs" not in fields
    assert warnings == ["inputs: 'bad\\nname' cannot be written in a record: not recorded"]


def test_data_changed_after_the_pipeline_ran_is_noted() -> None:
    from gitml.registry.lineage_chain import _stale_pointers
    from gitml.registry.lineage_read import DerivedLineage, Pointer

    ran_on, now = "1" * 32 + ".dir", "2" * 32 + ".dir"
    derived = DerivedLineage(
        "c" * 40,
        "model.bin",
        Lineage({"raw": ran_on}, None, {"prepare": "d" * 64}),
        "e" * 40,
        {"raw": Pointer("raw.dvc", "f" * 40, "raw", now)},
    )
    assert _stale_pointers(derived) == [
        f"raw: raw.dvc at cccccccccccc says {now}, but the pipeline ran on {ran_on} "
        "(dvc.lock): the data changed after `dvc repro`"
    ]

"""A registry written by `gto` alone (no gitml.yaml), read by gitml as GTO reads it.

The registry is built once per session with the real `gto` CLI on a real git + DVC
repository whose artefacts are small DVC-tracked files: `alpha` (``dvc add``, declared in
``dvc.yaml`` and, with a stale path, in ``artifacts.yaml``), `beta` (a pipeline output,
declared in ``dvc.yaml``) and `gamma` (``dvc add``, declared only in GTO's
``artifacts.yaml``). Each test gets a copy. `gto` itself is the oracle for what the
registry holds; DVC's files at each commit say where each artefact is and its md5.

GTO stamps a tag with the wall clock, to the second, and orders events by that stamp;
so that order is fixed, each `gto` command runs with its clock set to the fixture's own
(the same time the commits get through ``GIT_*_DATE``), with no sleeping.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from tests.conftest import _write_gitconfig, isolated_environment
from tests.helpers import BIN_DIR, dvc, git, gitml, run

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow

START = 1_767_225_600  # 2026-01-01T00:00:00Z

# Runs GTO's own CLI with the wall clock fixed at argv[1] (dulwich stamps tags with
# ``time.time()`` and reads no date from the environment, unlike git).
_GTO_AT = (
    "import sys, time\n"
    "now = float(sys.argv.pop(1))\n"
    "time.time = lambda: now\n"
    "from gto.cli import app\n"
    "sys.argv[0] = 'gto'\n"
    "app()\n"
)

DVC_YAML = """\
stages:
  build-beta:
    cmd: cp beta-source.txt models/beta.bin
    deps: [beta-source.txt]
    outs: [models/beta.bin]
artifacts:
  alpha:
    path: models/alpha.bin
    type: model
  beta:
    path: models/beta.bin
    type: model
"""
# GTO's declaration file: alpha's entry is stale (dvc.yaml's path wins), gamma is only here.
ARTIFACTS_YAML = """\
alpha:
  type: model
  path: models/old-alpha.bin
gamma:
  type: model
  path: models/gamma.bin
  description: declared only in GTO's artifacts.yaml
"""


@dataclass(frozen=True)
class GtoRegistry:
    """Where the registry is and the commits its versions were registered at."""

    root: Path  # holds repo/ and dvc-remote/ (the repository's remote is ../dvc-remote)
    commits: dict[str, str]  # "c0".."c3" -> sha

    @property
    def repo(self) -> Path:
        """The git + DVC repository."""
        return self.root / "repo"


class _Clock:
    """Fixed, strictly increasing dates for commits (environment) and for `gto`."""

    def __init__(self) -> None:
        self.now = START

    def tick(self) -> int:
        self.now += 60
        stamp = f"@{self.now} +0000"
        os.environ["GIT_AUTHOR_DATE"] = stamp
        os.environ["GIT_COMMITTER_DATE"] = stamp
        return self.now


def _gto(repo: Path, clock: _Clock, *args: str) -> None:
    run(sys.executable, "-c", _GTO_AT, str(clock.tick()), *args, cwd=repo)


def _commit(repo: Path, clock: _Clock, message: str) -> str:
    clock.tick()
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    dvc(repo, "push", "-q")
    return git(repo, "rev-parse", "HEAD").stdout.strip()


def _build(root: Path) -> dict[str, str]:
    repo = root / "repo"
    (repo / "models").mkdir(parents=True)
    clock = _Clock()
    git(repo, "init", "-q", "-b", "main")
    dvc(repo, "init", "-q")
    dvc(repo, "config", "core.check_update", "false")
    dvc(repo, "remote", "add", "-d", "storage", "../dvc-remote")
    (repo / "README.md").write_text("A model registry written by GTO.\n")
    commits = {"c0": _commit(repo, clock, "Start")}

    (repo / "dvc.yaml").write_text(DVC_YAML)
    (repo / "artifacts.yaml").write_text(ARTIFACTS_YAML)
    (repo / "beta-source.txt").write_text("beta one\n")
    (repo / "models" / "alpha.bin").write_text("alpha one\n")
    (repo / "models" / "gamma.bin").write_text("gamma one\n")
    dvc(repo, "add", "-q", "models/alpha.bin", "models/gamma.bin")
    dvc(repo, "repro", "-q")
    commits["c1"] = _commit(repo, clock, "First models")
    _gto(repo, clock, "register", "alpha", "HEAD", "--version", "v0.1.0")
    _gto(repo, clock, "register", "beta", "HEAD")  # GTO picks v0.0.1
    _gto(repo, clock, "register", "gamma", "HEAD", "--version", "v1.0.0")
    _gto(repo, clock, "assign", "alpha", "--version", "v0.1.0", "--stage", "staging")

    (repo / "models" / "alpha.bin").write_text("alpha two\n")
    dvc(repo, "add", "-q", "models/alpha.bin")
    commits["c2"] = _commit(repo, clock, "Alpha two")
    _gto(repo, clock, "register", "alpha", "HEAD", "--bump-minor")  # v0.2.0
    _gto(repo, clock, "assign", "alpha", "--version", "v0.2.0", "--stage", "prod")
    # A stage assigned to a commit without registering a version there.
    _gto(repo, clock, "assign", "beta", "HEAD", "--stage", "staging", "--sr")

    (repo / "models" / "alpha.bin").write_text("alpha three\n")
    dvc(repo, "add", "-q", "models/alpha.bin")
    commits["c3"] = _commit(repo, clock, "Alpha three")
    _gto(repo, clock, "register", "alpha", "HEAD", "--version", "v0.3.0")
    # beta is unchanged since c1: v0.1.0 and v0.0.1 share one artefact.
    _gto(repo, clock, "register", "beta", "HEAD", "--version", "v0.1.0")
    _gto(
        repo, clock, "assign", "beta", "--version", "v0.1.0", "--stage", "prod", "--simple", "true"
    )
    _gto(repo, clock, "assign", "alpha", "--version", "v0.3.0", "--stage", "staging")
    _gto(repo, clock, "deprecate", "alpha", "v0.2.0", "prod")  # unassign
    _gto(repo, clock, "deprecate", "alpha", "v0.1.0")  # deregister
    _gto(repo, clock, "deprecate", "gamma")  # the whole model
    return commits


@pytest.fixture(scope="session")
def gto_registry_template(tmp_path_factory: pytest.TempPathFactory) -> GtoRegistry:
    """The GTO-only registry, built once per session."""
    root = tmp_path_factory.mktemp("gto-registry")
    home = root / "_home"
    _write_gitconfig(home)
    saved = dict(os.environ)
    os.environ.update(isolated_environment(home))
    try:
        commits = _build(root)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return GtoRegistry(root, commits)


@pytest.fixture
def registry(gto_registry_template: GtoRegistry, tmp_path: Path) -> GtoRegistry:
    """A private copy of the GTO registry (git history, DVC cache and DVC remote)."""
    dest = tmp_path / "gto-registry"
    shutil.copytree(gto_registry_template.root, dest, symlinks=True, ignore=_no_home)
    return GtoRegistry(dest, gto_registry_template.commits)


def _no_home(folder: str, names: list[str]) -> list[str]:
    return ["_home"] if "_home" in names else []


def gto_json(repo: Path, *args: str) -> Any:
    """The real `gto` CLI's --json answer."""
    return json.loads(run(BIN_DIR / "gto", *args, "--json", cwd=repo).stdout)


def gitml_json(repo: Path, *args: str) -> Any:
    """The `gitml` CLI's --json answer."""
    return json.loads(gitml(repo, *args, "--json").stdout)


def dvc_md5(repo: Path, commit: str, path: str) -> str:
    """What DVC recorded for ``path`` at ``commit``: the ``.dvc`` file, else ``dvc.lock``."""
    pointer = git(repo, "show", f"{commit}:{path}.dvc", check=False)
    if pointer.returncode == 0:
        return str(yaml.safe_load(pointer.stdout)["outs"][0]["md5"])
    lock = yaml.safe_load(git(repo, "show", f"{commit}:dvc.lock").stdout)
    outs = [o for stage in lock["stages"].values() for o in stage.get("outs", [])]
    return str(next(o["md5"] for o in outs if o["path"] == path))


def _object(root: Path, md5: str) -> Path:
    return root / "files" / "md5" / md5[:2] / md5[2:]


# -- the oracle: what `gto` itself answers ------------------------------------------------


def test_registry_is_what_gto_show_says(registry: GtoRegistry) -> None:
    repo = registry.repo
    rows = {row["model"]: row for row in gitml_json(repo, "registry")}
    shown = gto_json(repo, "show")
    everything = gto_json(repo, "show", "-d")
    # `gto show` hides a deprecated model; `-d` lists it, inactive.
    assert sorted(shown) == ["alpha", "beta"]
    assert sorted(rows) == sorted(everything) == ["alpha", "beta", "gamma"]
    for name, row in shown.items():
        assert rows[name]["latest"] == row["version"], name
        stages = {s["stage"]: s["version"] for s in rows[name]["stages"] if s["version"]}
        assert stages == {k: v for k, v in row["stage"].items() if v}, name
    assert {name: row["deprecated"] for name, row in rows.items()} == {
        name: not row["active"] for name, row in everything.items()
    }
    assert [rows[name]["deregistered"] for name in ("alpha", "beta", "gamma")] == [
        ["v0.1.0"],
        [],
        [],
    ]
    # A commit assigned without registering a version is named by its sha, as in GTO.
    beta_stages = {s["stage"]: s["version"] for s in rows["beta"]["stages"]}
    assert beta_stages == {"staging": registry.commits["c2"], "prod": "v0.1.0"}


def _gto_versions(repo: Path, model: str) -> tuple[list[Any], set[Any]]:
    """``gto show MODEL -d``: each registered version with its active flag and stages, in
    order; and the commits assigned without registration, with their stages."""
    listed = gto_json(repo, "show", model, "-d")
    registered = [
        (v["version"], v["is_active"], [s["stage"] for s in v["stages"]])
        for v in listed
        if v["registrations"]
    ]
    # GTO also lists commits it "discovers" (any tagged commit whose artifacts.yaml
    # declares the model), some twice; those assigned to a stage are versions to gitml.
    commits = {
        (v["version"], tuple(s["stage"] for s in v["stages"]))
        for v in listed
        if not v["registrations"] and v["stages"]
    }
    return registered, commits


@pytest.mark.parametrize("model", ["alpha", "beta", "gamma"])
def test_show_model_lists_every_version_like_gto_show(registry: GtoRegistry, model: str) -> None:
    repo = registry.repo
    listing = gitml_json(repo, "show", model)
    assert (listing["model"], listing["deprecated"]) == (model, model == "gamma")
    registered = [v for v in listing["versions"] if v["registered"]]
    theirs, their_commits = _gto_versions(repo, model)
    assert [(v["version"], v["active"], v["stages"]) for v in registered] == theirs
    assert [v["deregistered"] for v in registered] == [not v["active"] for v in registered]
    assert [v["deregistered"] for v in registered].count(True) == (model == "alpha")
    commits = [
        (v["version"], tuple(v["stages"])) for v in listing["versions"] if not v["registered"]
    ]
    assert set(commits) == their_commits
    assert commits == ([(registry.commits["c2"], ("staging",))] if model == "beta" else [])


def _as_gto_event(entry: dict[str, Any]) -> tuple[str, str, str | None, str | None]:
    # gitml tells a promotion from a rollback; GTO calls both an assignment.
    event = "assignment" if entry["event"] in ("promotion", "rollback") else entry["event"]
    return (entry["model"], event, entry["version"], entry["stage"])


def test_history_of_every_model_is_gto_history(registry: GtoRegistry) -> None:
    repo = registry.repo
    ours = gitml_json(repo, "history")
    theirs = gto_json(repo, "history")  # newest first
    assert [_as_gto_event(e) for e in ours] == [
        (e["artifact"], e["event"], e["version"], e["stage"]) for e in reversed(theirs)
    ]
    assert [e["tag"] for e in ours] == [e["ref"] for e in reversed(theirs)]
    assert [e["timestamp"] for e in ours] == sorted(e["timestamp"] for e in ours)
    one = gitml_json(repo, "history", "alpha")
    assert [_as_gto_event(e) for e in one] == [
        (e["artifact"], e["event"], e["version"], e["stage"])
        for e in reversed(gto_json(repo, "history", "alpha"))
    ]
    staging = gitml_json(repo, "history", "--stage", "staging")
    assert [(e["model"], e["description"]) for e in staging] == [
        ("alpha", "promoted v0.1.0 to staging"),
        ("beta", f"promoted commit {registry.commits['c2'][:12]} to staging"),
        ("alpha", "promoted v0.3.0 to staging"),
    ]
    marks = {(e["tag"], e["model_deprecated"], e["version_deregistered"]) for e in ours}
    assert ("gamma@deprecated", True, False) in marks
    assert ("alpha#staging#1", False, True) in marks  # its version was deregistered since
    assert ("alpha@v0.3.0", False, False) in marks


# -- artefacts: path from dvc.yaml / artifacts.yaml, md5 from DVC at the commit ----------


def test_show_takes_path_and_md5_from_dvc_files_at_the_registered_commit(
    registry: GtoRegistry,
) -> None:
    repo, commits = registry.repo, registry.commits
    cases = {
        # dvc.yaml `artifacts:` wins over the stale path in artifacts.yaml; `dvc add`.
        "alpha@v0.1.0": ("models/alpha.bin", commits["c1"]),
        "alpha@v0.3.0": ("models/alpha.bin", commits["c3"]),
        # A pipeline output: dvc.lock.
        "beta@v0.0.1": ("models/beta.bin", commits["c1"]),
        "beta@prod": ("models/beta.bin", commits["c3"]),
        # Declared only in GTO's artifacts.yaml.
        "gamma@v1.0.0": ("models/gamma.bin", commits["c1"]),
    }
    for ref, (path, commit) in cases.items():
        shown = gitml_json(repo, "show", ref)
        assert (shown["artifact"], shown["commit"]) == (path, commit), ref
        assert shown["md5"] == dvc_md5(repo, commit, path), ref
    md5s = {gitml_json(repo, "show", f"alpha@v0.{n}.0")["md5"] for n in (1, 2, 3)}
    assert len(md5s) == 3
    assert (
        gitml_json(repo, "show", "beta@v0.0.1")["md5"]
        == gitml_json(repo, "show", "beta@v0.1.0")["md5"]
    )
    deregistered = gitml_json(repo, "show", "alpha@v0.1.0")
    assert (deregistered["active"], deregistered["deregistered"]) == (False, True)


def test_get_fetches_the_registered_bytes_from_the_dvc_remote(
    registry: GtoRegistry, tmp_path: Path
) -> None:
    repo = registry.repo
    shutil.rmtree(repo / ".dvc" / "cache")  # every byte must come from the remote
    expected = {
        "alpha@v0.1.0": b"alpha one\n",
        "alpha@v0.2.0": b"alpha two\n",
        "alpha@staging": b"alpha three\n",
        "beta@prod": b"beta one\n",
        "gamma@v1.0.0": b"gamma one\n",
        "alpha@HEAD~1": b"alpha two\n",  # a git revision: the path declared there
    }
    for number, (ref, data) in enumerate(expected.items()):
        out = tmp_path / f"out-{number}.bin"
        got = gitml_json(repo, "get", ref, "-o", str(out))
        assert out.read_bytes() == data, ref
        assert got["md5"] == hashlib.md5(data, usedforsecurity=False).hexdigest(), ref


def test_verify_passes_on_a_healthy_gto_registry(registry: GtoRegistry) -> None:
    repo = registry.repo
    for args in (["verify", "--no-remote"], ["verify"], ["verify", "--deep"]):
        report = gitml_json(repo, *args)
        assert report["ok"], (args, report)
        assert report["problems"] == []
        # Active registered versions: alpha v0.2.0, v0.3.0; beta v0.0.1, v0.1.0; gamma v1.0.0.
        assert report["checked_versions"] == 5


def test_a_lost_artefact_fails_get_with_exit_5_and_verify_names_every_version(
    registry: GtoRegistry, tmp_path: Path
) -> None:
    repo = registry.repo
    md5 = gitml_json(repo, "show", "beta@v0.0.1")["md5"]
    for store in (registry.root / "dvc-remote", repo / ".dvc" / "cache"):
        _object(store, md5).unlink()
    target = tmp_path / "beta.bin"
    result = gitml(repo, "get", "beta@v0.0.1", "-o", str(target), check=False)
    assert result.returncode == 5, result.stderr
    assert f"artefact {md5} (models/beta.bin) is in neither the local DVC cache" in result.stderr
    assert not target.exists()
    verified = gitml(repo, "verify", "--json", check=False)
    assert verified.returncode == 5
    assert json.loads(verified.stdout)["problems"] == [
        f"beta@v0.1.0: artefact {md5} is not in the DVC remote",
        f"beta@v0.0.1: artefact {md5} is not in the DVC remote",
    ]
    # Without the remote check the registry itself is still whole.
    assert gitml(repo, "verify", "--no-remote").returncode == 0


# -- errors and words ----------------------------------------------------------------------


def test_an_unknown_stage_is_named_with_the_stages_the_tags_use(registry: GtoRegistry) -> None:
    repo = registry.repo
    for ref in ("alpha@nosuch", "alpha#nosuch"):
        result = gitml(repo, "show", ref, check=False)
        assert result.returncode == 1
        assert result.stderr.strip().endswith(
            f"{ref.replace('#', '@')}: unknown stage 'nosuch' (stages: staging, prod)"
        ), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    # A stage the registry knows, held by no version of this model, is said so.
    result = gitml(repo, "show", "gamma@prod", check=False)
    assert "gamma@prod: no version of gamma is recorded in prod" in result.stderr
    result = gitml(repo, "get", "alpha@nosuch", "-o", "x.bin", check=False)
    assert "alpha@nosuch: not a version, a stage (staging, prod) or a git revision" in result.stderr


def _tables(repo: Path) -> dict[str, str]:
    commands = [
        ["registry"],
        ["show", "alpha"],
        ["show", "beta"],
        ["show", "gamma"],
        ["show", "alpha@v0.1.0"],
        ["show", "beta@staging"],
        ["show", "gamma@latest"],
        ["history"],
        ["history", "alpha"],
        ["history", "--stage", "prod"],
    ]
    tables = {}
    for args in commands:
        for fmt in ("table", "md"):
            tables[f"{' '.join(args)} --format {fmt}"] = gitml(repo, *args, "--format", fmt).stdout
    return tables


def test_tables_mark_deprecated_models_and_deregistered_versions(registry: GtoRegistry) -> None:
    tables = _tables(registry.repo)
    for name, text in tables.items():
        assert "None" not in text, name
        assert "→" not in text, name
    registry_rows = tables["registry --format table"].splitlines()
    assert registry_rows[2].split() == [
        "alpha",
        "v0.3.0",
        "2",
        "(+1",
        "deregistered)",
        "v0.3.0",
        "-",
    ]
    assert registry_rows[3].split() == [
        "beta",
        "v0.1.0",
        "2",
        registry.commits["c2"][:12],
        "v0.1.0",
    ]
    assert registry_rows[4].split()[:3] == ["gamma", "(deprecated)", "v1.0.0"]
    alpha = tables["show alpha --format table"].splitlines()
    assert alpha[0] == "alpha: latest v0.3.0"
    assert [line.split()[:3] for line in alpha[4:]] == [
        ["v0.3.0", "active", "staging"],
        ["v0.2.0", "active", "-"],
        ["v0.1.0", "deregistered", "-"],
    ]
    assert tables["show gamma --format table"].startswith("gamma (deprecated): latest v1.0.0")
    single = tables["show alpha@v0.1.0 --format table"]
    assert "status             deregistered" in single
    assert "model              gamma (deprecated)" in tables["show gamma@latest --format table"]
    history = tables["history --format table"]
    assert "registered v0.1.0 (now deregistered)" in history
    assert "unassigned v0.2.0 from prod" in history
    assert "deregistered v0.1.0" in history
    assert "gamma (deprecated)  deprecated gamma" in history
    assert "promoted v0.1.0 to prod" in tables["history --stage prod --format table"]


def test_a_branch_named_like_a_stage_is_described_in_words(registry: GtoRegistry) -> None:
    repo, commits = registry.repo, registry.commits
    stages = {s["stage"]: s for s in gitml_json(repo, "registry")[0]["stages"]}
    git(repo, "branch", stages["prod"]["branch"], commits["c0"])  # no artefact at all
    git(repo, "branch", stages["staging"]["branch"], commits["c2"])  # holds v0.2.0
    rows = {r["model"]: r for r in json.loads(gitml(repo, "registry", "--local", "--json").stdout)}
    alpha = {s["stage"]: s for s in rows["alpha"]["stages"]}
    assert (alpha["prod"]["tip_md5"], alpha["prod"]["pending"]) == (None, False)
    assert (alpha["staging"]["tip_version"], alpha["staging"]["pending"]) == ("v0.2.0", True)
    text = gitml(repo, "registry", "--local").stdout
    assert "None" not in text
    assert f"- (branch {stages['prod']['branch']}: no alpha artefact)" in text
    assert "v0.3.0 (pending: v0.2.0)" in text


@pytest.mark.parametrize(
    ("event", "version", "stage", "words"),
    [
        ("registration", "v0.1.0", None, "registered v0.1.0"),
        ("deregistration", "v0.1.0", None, "deregistered v0.1.0"),
        ("promotion", "v0.2.0", "production", "promoted v0.2.0 to production"),
        ("rollback", "v0.1.0", "production", "rolled production back to v0.1.0"),
        ("unassignment", "v0.2.0", "staging", "unassigned v0.2.0 from staging"),
        ("promotion", "ab" * 20, "staging", "promoted commit abababababab to staging"),
        ("deprecation", None, None, "deprecated credit"),
    ],
)
def test_history_events_read_as_words(
    event: str, version: str | None, stage: str | None, words: str
) -> None:
    from datetime import UTC, datetime

    from gitml.registry.records import HistoryEntry

    entry = HistoryEntry(
        datetime(2026, 1, 1, tzinfo=UTC), "credit", event, version, stage, "c" * 40, "", "", "t"
    )
    assert entry.description == words
    assert entry.to_dict()["description"] == words

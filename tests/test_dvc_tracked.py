"""Reading files DVC keeps in its cache, at any revision: a cached file output and files
inside a cached directory output (DVC's get-started ``eval`` layout), verified.

One real DVC project is built per module: two commits of an ``evaluate`` stage whose
outputs are the directory ``eval`` and the cached metrics file ``summary.json``, both
pushed to a local directory remote. Tests that change the cache or the remote get a copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import pytest

from gitml.dvcio.fetch import MIB, cache_path
from gitml.dvcio.lock import Output, lock_outputs
from gitml.dvcio.tracked import locate, manifest_entries, read_tracked
from gitml.errors import ConfigError, DvcError, VerificationError
from tests.conftest import _write_gitconfig, isolated_environment
from tests.helpers import dvc, git, run

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow

METRICS = "eval/metrics.json"
ROC = "eval/plots/sklearn/roc/test.json"
PRC = "eval/plots/sklearn/prc/test.json"  # only in the second revision's directory
SUMMARY = "summary.json"  # a cached single-file metrics output
FILES = (METRICS, ROC, SUMMARY)

STAGE_SCRIPT = """\
import json
from pathlib import Path

threshold = float(Path("params.yaml").read_text().split(":")[1])
Path("eval/plots/sklearn/roc").mkdir(parents=True, exist_ok=True)
Path("eval/metrics.json").write_text(json.dumps({"accuracy": threshold, "f1": threshold / 3}))
rows = [{"fpr": i / 4, "tpr": min(1.0, threshold + i / 4)} for i in range(5)]
Path("eval/plots/sklearn/roc/test.json").write_text(json.dumps({"roc": rows}, indent=2))
if threshold > 0.6:
    Path("eval/plots/sklearn/prc").mkdir(parents=True, exist_ok=True)
    Path("eval/plots/sklearn/prc/test.json").write_text(json.dumps({"prc": rows[:2]}))
Path("summary.json").write_text(json.dumps({"auc": round(threshold * 1.2, 3)}))
"""


@dataclass(frozen=True)
class Project:
    """The DVC project (``base/repo``, remote ``base/store``), its two commits and the
    bytes each file had when each commit was made."""

    base: Path
    revs: tuple[str, str]
    recorded: dict[str, dict[str, bytes]]

    @property
    def repo(self) -> Path:
        return self.base / "repo"

    @property
    def store(self) -> Path:
        return self.base / "store"

    def outputs(self, rev: str) -> dict[str, Output]:
        return lock_outputs(git(self.repo, "show", f"{rev}:dvc.lock").stdout)

    def read(self, path: str, rev: str) -> bytes | None:
        return read_tracked(self.repo, self.outputs(rev), path, rev)

    def stored(self, md5: str) -> Path:
        """Where the remote keeps object ``md5``."""
        return self.store / "files" / "md5" / md5[:2] / md5[2:]

    def manifest(self, rev: str) -> tuple[str, dict[str, str]]:
        """The directory output's ``.dir`` md5 at ``rev`` and its entries (from the remote)."""
        md5 = self.outputs(rev)["eval"].md5
        assert md5 is not None
        return md5, manifest_entries(self.stored(md5).read_bytes(), md5)

    def object_md5(self, path: str, rev: str) -> str:
        """The md5 of ``path``'s object at ``rev`` (an entry of the manifest, or the lock's)."""
        if path.startswith("eval/"):
            return self.manifest(rev)[1][path.removeprefix("eval/")]
        md5 = self.outputs(rev)[path].md5
        assert md5 is not None
        return md5


def _commit(repo: Path, threshold: float, message: str) -> dict[str, bytes]:
    (repo / "params.yaml").write_text(f"threshold: {threshold}\n")
    dvc(repo, "repro", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    dvc(repo, "push", "-q")
    return {path: (repo / path).read_bytes() for path in (*FILES, PRC) if (repo / path).exists()}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The project with two pushed revisions, built once per module."""
    base = tmp_path_factory.mktemp("tracked")
    home = base / "_home"
    _write_gitconfig(home)
    saved = dict(os.environ)
    os.environ.update(isolated_environment(home))
    os.environ.update(GIT_AUTHOR_DATE="@1767225600 +0000", GIT_COMMITTER_DATE="@1767225600 +0000")
    try:
        repo = base / "repo"
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        dvc(repo, "init", "-q")
        dvc(repo, "remote", "add", "-d", "store", "../store")  # relative: copies keep theirs
        (repo / "evaluate.py").write_text(STAGE_SCRIPT)
        (repo / "dvc.yaml").write_text(
            "stages:\n"
            "  evaluate:\n"
            f"    cmd: {sys.executable} evaluate.py\n"
            "    deps: [evaluate.py]\n"
            "    params: [threshold]\n"
            "    outs: [eval]\n"
            f"    metrics: [{SUMMARY}]\n"
        )
        first = _commit(repo, 0.5, "Evaluate at 0.5")
        rev1 = git(repo, "rev-parse", "HEAD").stdout.strip()
        second = _commit(repo, 0.7, "Evaluate at 0.7, with a PR curve")
        rev2 = git(repo, "rev-parse", "HEAD").stdout.strip()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return Project(base, (rev1, rev2), {rev1: first, rev2: second})


@pytest.fixture
def project(built: Project, tmp_path: Path) -> Project:
    """A private copy of the built project and its remote, for tests that change them."""
    base = tmp_path / "copy"
    shutil.copytree(built.base, base, symlinks=True, ignore=shutil.ignore_patterns("_home"))
    return replace(built, base=base)


def _remove(*paths: Path) -> None:
    for path in paths:
        path.unlink()


# --- locating a path among a lock's outputs (pure) ---

LOCK = {
    "eval": Output("eval", "a" * 32 + ".dir"),
    "eval/deep": Output("eval/deep", "b" * 32 + ".dir"),  # overlapping: a hand-edited lock
    "model.pkl": Output("model.pkl", "c" * 32),
    "./data/": Output("./data/", "d" * 32 + ".dir"),
    "../outside": Output("../outside", "e" * 32 + ".dir"),  # an external output
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("eval/metrics.json", ("eval", "metrics.json")),
        ("eval/plots/sklearn/roc/test.json", ("eval", "plots/sklearn/roc/test.json")),
        ("eval/deep/a.json", ("eval/deep", "a.json")),  # the deepest output wins
        ("eval", ("eval", None)),
        ("model.pkl", ("model.pkl", None)),
        ("./eval//metrics.json", ("eval", "metrics.json")),
        ("data/x.csv", ("./data/", "x.csv")),
        ("model.pkl/x", None),  # a file output holds nothing
        ("params.yaml", None),
        ("evaluation/metrics.json", None),
    ],
)
def test_locate_finds_the_output_that_holds_a_path(
    path: str, expected: tuple[str, str | None] | None
) -> None:
    found = locate(LOCK, path)
    assert ((found[0].path, found[1]) if found else None) == expected


@pytest.mark.parametrize(
    "path", ["../x", "eval/../../x", "eval/../summary.json", "/etc/passwd", "C:/x", "", "."]
)
def test_locate_refuses_paths_that_leave_the_repository(path: str) -> None:
    with pytest.raises(ConfigError, match="expected a"):
        locate(LOCK, path)


def test_a_malformed_manifest_is_a_dvc_error() -> None:
    with pytest.raises(DvcError, match="the manifest: expected a JSON list"):
        manifest_entries(b'{"relpath": "x"}', "the manifest")
    with pytest.raises(DvcError, match="expected entries with a `relpath`"):
        manifest_entries(b'[{"md5": "0123"}]', "the manifest")


# --- reading, against the real project ---


@pytest.mark.parametrize("path", FILES)
@pytest.mark.parametrize("which", [0, 1])
def test_each_file_reads_as_each_revision_recorded_it(
    built: Project, which: int, path: str
) -> None:
    rev = built.revs[which]
    assert built.read(path, rev) == built.recorded[rev][path]


def test_the_revisions_differ_and_a_file_new_in_the_second_is_absent_in_the_first(
    built: Project,
) -> None:
    rev1, rev2 = built.revs
    for path in FILES:
        assert built.recorded[rev1][path] != built.recorded[rev2][path]
    assert built.read(PRC, rev1) is None
    assert built.read(PRC, rev2) == built.recorded[rev2][PRC]


@pytest.mark.parametrize(
    "path",
    [
        "params.yaml",  # git-tracked, no DVC output
        "eval/nothing.json",  # inside the directory output, not in its manifest
        "eval",  # the directory output itself
        "eval/plots/sklearn",  # a folder inside it
        "summary.json/x",
    ],
)
def test_a_path_no_output_holds_as_a_file_is_absent(built: Project, path: str) -> None:
    assert built.read(path, built.revs[1]) is None


def test_paths_are_normalised_and_dotdot_refused(built: Project) -> None:
    rev = built.revs[1]
    assert built.read(f"./eval//{ROC.removeprefix('eval/')}", rev) == built.recorded[rev][ROC]
    with pytest.raises(ConfigError, match=r"'\.\./x': expected a path inside the repository"):
        built.read("../x", rev)


def test_the_local_cache_serves_without_importing_dvc(built: Project, tmp_path: Path) -> None:
    rev = built.revs[0]
    lock = tmp_path / "dvc.lock"
    lock.write_text(git(built.repo, "show", f"{rev}:dvc.lock").stdout)
    script = (
        "import hashlib, sys\n"
        "from pathlib import Path\n"
        "from gitml.dvcio.lock import lock_outputs\n"
        "from gitml.dvcio.tracked import read_tracked\n"
        f"outputs = lock_outputs(Path({str(lock)!r}).read_text())\n"
        f"for path in {FILES!r}:\n"
        f"    data = read_tracked(Path({str(built.repo)!r}), outputs, path, {rev!r})\n"
        "    print(path, hashlib.md5(data).hexdigest())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0].startswith('dvc')))\n"
    )
    lines = run(sys.executable, "-c", script, cwd=tmp_path).stdout.splitlines()
    expected = [f"{path} {hashlib.md5(built.recorded[rev][path]).hexdigest()}" for path in FILES]
    assert lines == [*expected, "[]"]


def test_without_the_local_cache_the_remote_serves(project: Project) -> None:
    shutil.rmtree(project.repo / ".dvc" / "cache")
    for rev in project.revs:
        for path in FILES:
            assert project.read(path, rev) == project.recorded[rev][path]
    assert not (project.repo / ".dvc" / "cache" / "files").exists()  # read, not fetched


@pytest.mark.parametrize("path", [METRICS, SUMMARY])
def test_an_object_in_neither_cache_nor_remote_is_a_dvc_error(project: Project, path: str) -> None:
    rev = project.revs[1]
    md5 = project.object_md5(path, rev)
    _remove(cache_path(project.repo, md5), project.stored(md5))
    with pytest.raises(DvcError) as caught:
        project.read(path, rev)
    message = str(caught.value)
    assert message.startswith(f"{path} at {rev} (md5 {md5}): not in the local DVC cache and ")
    assert "not in the DVC remote (" in message
    assert "\n" not in message


def test_a_missing_directory_manifest_is_a_dvc_error_naming_it(project: Project) -> None:
    rev = project.revs[0]
    md5, _ = project.manifest(rev)
    _remove(cache_path(project.repo, md5), project.stored(md5))
    with pytest.raises(DvcError) as caught:
        project.read(METRICS, rev)
    assert str(caught.value).startswith(
        f"{METRICS} at {rev}: the manifest of DVC directory output eval (md5 {md5}): "
        "not in the local DVC cache and not in the DVC remote ("
    )


def test_with_no_remote_configured_the_error_says_how_to_add_one(project: Project) -> None:
    dvc(project.repo, "remote", "remove", "store")
    shutil.rmtree(project.repo / ".dvc" / "cache")
    rev = project.revs[1]
    with pytest.raises(DvcError, match=r"NoRemoteError.*`dvc remote add -d NAME URL`"):
        project.read(SUMMARY, rev)


@pytest.mark.parametrize("path", [METRICS, ROC, SUMMARY])
def test_a_tampered_cache_object_is_refused(project: Project, path: str) -> None:
    rev = project.revs[0]
    md5 = project.object_md5(path, rev)
    cached = cache_path(project.repo, md5)
    cached.chmod(0o644)  # DVC keeps its cache read-only
    cached.write_bytes(cached.read_bytes().replace(b"{", b"{ ", 1))  # same JSON, other bytes
    with pytest.raises(VerificationError, match=f"differs from the recorded {md5} "):
        project.read(path, rev)


def test_a_manifest_rewritten_to_point_elsewhere_is_refused(project: Project) -> None:
    rev = project.revs[0]
    md5, entries = project.manifest(rev)
    swapped = [
        {"md5": entries["plots/sklearn/roc/test.json"], "relpath": "metrics.json"},
        {"md5": entries["metrics.json"], "relpath": "plots/sklearn/roc/test.json"},
    ]
    cached = cache_path(project.repo, md5)
    cached.chmod(0o644)
    cached.write_text(json.dumps(swapped, sort_keys=True))
    with pytest.raises(
        VerificationError,
        match=f"{METRICS} at {rev}: the manifest of DVC directory output eval: content md5 ",
    ):
        project.read(METRICS, rev)


def test_a_manifest_entry_that_is_not_an_md5_is_refused(tmp_path: Path) -> None:
    manifest = json.dumps([{"md5": "../../../../../etc/passwd", "relpath": "m.json"}]).encode()
    md5 = hashlib.md5(manifest).hexdigest() + ".dir"
    stored = cache_path(tmp_path, md5)
    stored.parent.mkdir(parents=True)
    stored.write_bytes(manifest)
    outputs = {"eval": Output("eval", md5)}
    with pytest.raises(ConfigError, match="is not a DVC object id"):
        read_tracked(tmp_path, outputs, "eval/m.json", "abc1234")


@pytest.mark.parametrize("kind", ["file", "manifest"])
def test_objects_over_64_mib_are_refused(tmp_path: Path, kind: str) -> None:
    data = b"7" * (64 * MIB + 1)
    md5 = hashlib.md5(data).hexdigest() + (".dir" if kind == "manifest" else "")
    stored = cache_path(tmp_path, md5)
    stored.parent.mkdir(parents=True)
    stored.write_bytes(data)
    output = Output("eval" if kind == "manifest" else "summary.json", md5)
    path = "eval/metrics.json" if kind == "manifest" else "summary.json"
    with pytest.raises(DvcError, match=f"{path} at abc1234.*larger than 64 MiB.*not datasets"):
        read_tracked(tmp_path, {output.path: output}, path, "abc1234")


def test_a_tampered_remote_object_is_refused(project: Project) -> None:
    shutil.rmtree(project.repo / ".dvc" / "cache")
    rev = project.revs[1]
    md5 = project.object_md5(ROC, rev)
    stored = project.stored(md5)
    stored.chmod(0o644)
    stored.write_bytes(stored.read_bytes().replace(b"{", b"{ ", 1))
    with pytest.raises(VerificationError, match=r"is corrupt or was altered\)$") as caught:
        project.read(ROC, rev)
    assert f"differs from the recorded {md5} (the object in the DVC remote (" in str(caught.value)

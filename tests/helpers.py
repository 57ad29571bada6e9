"""Running real git, DVC and the project's commands in test repositories."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BIN_DIR = Path(sys.executable).parent

# Top-level parts of the project a template repository leaves out: the suite itself and
# the benchmarks are not part of the example project a team would adopt.
TEMPLATE_EXCLUDED_TOP_LEVEL = ("tests/", "bench/")


def run(
    *args: str | os.PathLike[str], cwd: Path, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing text output; fail the test with its output if it fails."""
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, args))} exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run git in ``cwd``."""
    return run("git", *args, cwd=cwd, check=check)


def dvc(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the installed DVC in ``cwd``."""
    return run(BIN_DIR / "dvc", *args, cwd=cwd, check=check)


def gitml(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the installed ``gitml`` command in ``cwd``."""
    return run(BIN_DIR / "gitml", *args, cwd=cwd, check=check)


def example(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the example pipeline's ``credit-example`` command in ``cwd``."""
    return run(BIN_DIR / "credit-example", *args, cwd=cwd, check=check)


def project_files() -> list[str]:
    """The project's files as git sees them: tracked, plus untracked ones not ignored.

    Asking git (rather than listing what to skip) keeps virtualenvs, caches, data and
    anything else a checkout accumulates out of every template copy.
    """
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted(
        {
            name
            for name in listed.split("\0")
            if name
            and not name.startswith(TEMPLATE_EXCLUDED_TOP_LEVEL)
            and (PROJECT_ROOT / name).is_file()  # a tracked file deleted in the work tree
        }
    )


def copy_project(dest: Path) -> Path:
    """Copy the project's sources (not its git history, venvs, data or caches) to ``dest``."""
    for name in project_files():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copy2(PROJECT_ROOT / name, target)
        except FileNotFoundError:
            continue  # an untracked file removed since git listed it (another process's)
    return dest


def set_rows(repo: Path, rows: int) -> None:
    """Shrink the example's data size in ``params.yaml`` (tests use small data)."""
    params = repo / "params.yaml"
    text = params.read_text()
    assert "rows: 20000" in text, "params.yaml no longer has the default row count"
    params.write_text(text.replace("rows: 20000", f"rows: {rows}"))


def trained_project(dest: Path, rows: int, branch: str = "main") -> Path:
    """A copy of the project at ``dest`` with ``rows`` rows of data, reproduced by DVC and
    committed as the baseline on ``branch`` (what the benchmarks start from)."""
    repo = copy_project(dest)
    set_rows(repo, rows)
    for stale in ("data.dvc", "dvc.lock"):
        (repo / stale).unlink(missing_ok=True)
    git(repo, "init", "-q", "-b", branch)
    example(repo, "data")
    dvc(repo, "add", "-q", "data")
    dvc(repo, "repro", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Train the baseline credit model")
    return repo


def lock_hashes(repo: Path) -> dict[str, str]:
    """``{path: md5}`` of every stage output recorded in ``dvc.lock``."""
    import yaml

    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    hashes = {}
    for stage in lock["stages"].values():
        for out in stage.get("outs", []):
            hashes[out["path"]] = out["md5"]
    return hashes

"""Running real git, DVC and the project's commands in test repositories."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BIN_DIR = Path(sys.executable).parent

# What a copy of the project needs to be a working DVC project (no venv, caches or data).
TEMPLATE_IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "__pycache__",
    "*.egg-info",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    "data",
    "prepared",
    "cache",
    "tmp",
    "config.local",
    "tests",
    "bench",
)


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


def copy_project(dest: Path) -> Path:
    """Copy the project's sources (not its git history, data or caches) to ``dest``."""
    shutil.copytree(PROJECT_ROOT, dest, ignore=TEMPLATE_IGNORE, symlinks=True)
    return dest


def set_rows(repo: Path, rows: int) -> None:
    """Shrink the example's data size in ``params.yaml`` (tests use small data)."""
    params = repo / "params.yaml"
    text = params.read_text()
    assert "rows: 20000" in text, "params.yaml no longer has the default row count"
    params.write_text(text.replace("rows: 20000", f"rows: {rows}"))


def lock_hashes(repo: Path) -> dict[str, str]:
    """``{path: md5}`` of every stage output recorded in ``dvc.lock``."""
    import yaml

    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    hashes = {}
    for stage in lock["stages"].values():
        for out in stage.get("outs", []):
            hashes[out["path"]] = out["md5"]
    return hashes

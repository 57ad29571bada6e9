"""Fixtures: an isolated git/DVC environment per test, and a trained template repo per session.

The template (a copy of this project with small data, trained once) is expensive; tests
get their own copy of it, git history and DVC cache included.
"""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING

import pytest

from tests.helpers import (
    BIN_DIR,
    copy_project,
    dvc,
    example,
    git,
    set_rows,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

TEMPLATE_ROWS = 4000
IDENTITY = {
    "GIT_AUTHOR_NAME": "Ada Tester",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Tester",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the golden files under tests/golden/ from the current output",
    )


def isolated_environment(home: Path) -> dict[str, str]:
    """Environment variables that keep git and DVC away from the user's own config."""
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
        "DVC_NO_ANALYTICS": "1",
        # One BLAS/OpenMP thread per process: two xdist workers on two cores must not
        # oversubscribe them (timings in metrics would balloon, and so would the suite).
        "OMP_NUM_THREADS": "1",
        "DVC_SITE_CACHE_DIR": str(home / "dvc-site-cache"),
        "DVC_GLOBAL_CONFIG_DIR": str(home / ".config" / "dvc"),
        "DVC_SYSTEM_CONFIG_DIR": str(home / "dvc-system"),
        "PATH": f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}",
        **IDENTITY,
    }


def _write_gitconfig(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text(
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
        "[user]\n\tname = Ada Tester\n\temail = ada@example.com\n"
    )


@pytest.fixture(autouse=True)
def _isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "_home"
    _write_gitconfig(home)
    for key, value in isolated_environment(home).items():
        monkeypatch.setenv(key, value)
    # The suite may itself run in GitHub Actions: commands must not believe they are in CI.
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This project, with small data, committed and trained once per test session."""
    base = tmp_path_factory.mktemp("template")
    home = base / "_home"
    _write_gitconfig(home)
    saved = dict(os.environ)
    os.environ.update(isolated_environment(home))
    try:
        repo = copy_project(base / "repo")
        set_rows(repo, TEMPLATE_ROWS)
        for stale in ("data.dvc", "dvc.lock"):
            (repo / stale).unlink(missing_ok=True)
        git(repo, "init", "-q", "-b", "main")
        example(repo, "data")
        # The team's DVC remote, committed from the start (as teams do) and relative to the
        # repository, so every copy and clone at tmp_path/<name> uses tmp_path/dvc-remote.
        dvc(repo, "remote", "add", "-d", "storage", "../dvc-remote")  # from the repo root
        dvc(repo, "add", "-q", "data")
        dvc(repo, "repro", "-q")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "Train the baseline credit model")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return repo


@pytest.fixture
def repo(template_repo: Path, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the trained template repository (git history and DVC cache too)."""
    dest = tmp_path / "repo"
    shutil.copytree(template_repo, dest, symlinks=True)
    return dest


class Clock:
    """Strictly increasing, fixed git dates: GTO orders events by whole-second tag time."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self._monkeypatch = monkeypatch
        self._now = 1_767_225_600  # 2026-01-01T00:00:00Z

    def tick(self) -> str:
        """Advance one minute and make it the time of the next commit or tag."""
        self._now += 60
        stamp = f"@{self._now} +0000"
        self._monkeypatch.setenv("GIT_AUTHOR_DATE", stamp)
        self._monkeypatch.setenv("GIT_COMMITTER_DATE", stamp)
        return stamp


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Fixed, strictly increasing commit and tag dates for this test."""
    clock = Clock(monkeypatch)
    clock.tick()
    return clock


@pytest.fixture
def origin_repo(repo: Path, tmp_path: Path, clock: Clock) -> Path:
    """The trained template with a bare git origin; its DVC remote (tmp_path/dvc-remote) filled."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(repo, "remote", "add", "origin", str(origin))
    dvc(repo, "push", "-q")
    git(repo, "push", "-q", "-u", "origin", "main")
    return repo


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """An S3-compatible server (moto) on 127.0.0.1, for the whole session; its endpoint URL."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto logs every request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_origin_repo(
    origin_repo: Path, s3_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Path:
    """``origin_repo`` whose default DVC remote is a fresh bucket on the local S3 server."""
    import boto3

    credentials = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for key, value in credentials.items():
        monkeypatch.setenv(key, value)
    bucket = f"gitml-{tmp_path.name.lower().replace('_', '-')[:40]}"
    boto3.client("s3", endpoint_url=s3_server).create_bucket(Bucket=bucket)
    repo = origin_repo
    dvc(repo, "remote", "add", "-f", "-d", "s3", f"s3://{bucket}/dvc")
    dvc(repo, "remote", "modify", "s3", "endpointurl", s3_server)
    git(repo, "commit", "-qam", "Store artefacts on S3")
    dvc(repo, "push", "-q")
    git(repo, "push", "-q", "origin", "main")
    return repo

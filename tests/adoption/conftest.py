"""Adoption fixtures: each user project is built once per session, and copied per test.

Building runs real pipelines and GTO (seconds to tens of seconds); a copy takes
milliseconds and carries the git history, the DVC cache and the DVC remote along.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

import pytest

from tests.adoption.projects import (
    VARIANTS,
    Variant,
    copy_built,
    get_started,
    gto_registry,
    nested_install,
)
from tests.conftest import isolated_environment

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path


@contextlib.contextmanager
def building_environment(base: Path) -> Iterator[None]:
    """The isolated git/DVC environment of the suite, for a build outside any one test."""
    home = base / "_home"
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text(
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
        "[user]\n\tname = Ada Tester\n\temail = ada@example.com\n"
    )
    saved = dict(os.environ)
    os.environ.update(isolated_environment(home))
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _build(factory: pytest.TempPathFactory, name: str, builder: Callable[[Path], Path]) -> Path:
    base = factory.mktemp(name)
    with building_environment(base):
        return builder(base / "repo")


@pytest.fixture(scope="session", params=VARIANTS)
def get_started_template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The get-started-like project, metrics tracked by git or in the DVC cache."""
    variant: Variant = request.param
    return _build(tmp_path_factory, f"get-started-{variant}", lambda p: get_started(p, variant))


@pytest.fixture
def get_started_repo(get_started_template: Path, tmp_path: Path) -> Path:
    """A private copy of the get-started-like project (history, cache and remote)."""
    return copy_built(get_started_template, tmp_path)


@pytest.fixture(scope="session")
def gto_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The registry GTO wrote, built once."""
    return _build(tmp_path_factory, "gto-registry", gto_registry)


@pytest.fixture
def gto_repo(gto_template: Path, tmp_path: Path) -> Path:
    """A private copy of the GTO-written registry."""
    return copy_built(gto_template, tmp_path)


@pytest.fixture(scope="session")
def nested_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project with nested install files, built once."""
    return _build(tmp_path_factory, "nested-install", nested_install)


@pytest.fixture
def nested_repo(nested_template: Path, tmp_path: Path) -> Path:
    """A private copy of the project with nested install files."""
    return copy_built(nested_template, tmp_path)

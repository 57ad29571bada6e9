"""History is complete or the command refuses (issue 16, finding 5): a depth-1 clone
registers every artefact, takes no version number twice, or stops with the fix."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from gitml import api
from gitml.errors import EXIT_CODES
from tests.helpers import git, gitml
from tests.registry_flow import merge_pull_request, remote_tags

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Clock

pytestmark = pytest.mark.slow


def _shallow_clone(tmp_path: Path, name: str) -> Path:
    clone = tmp_path / name
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{tmp_path / 'origin.git'}", str(clone))
    assert git(clone, "rev-parse", "--is-shallow-repository").stdout.strip() == "true"
    assert git(clone, "tag").stdout == ""  # a depth-1 clone has no tags
    return clone


@pytest.fixture
def two_unregistered(origin_repo: Path, clock: Clock) -> Path:
    """v0.1.0 registered; then two merges whose artefacts are not registered yet."""
    api.register(root=origin_repo, push=True)
    for number, rate in ((2, 0.1), (3, 0.08)):
        clock.tick()
        change = ("train", "hist_gradient_boosting.learning_rate", rate)
        merge_pull_request(origin_repo, number, f"lr-{number}", change)
    return origin_repo


def test_a_shallow_clone_is_completed_before_registering(
    two_unregistered: Path, tmp_path: Path, clock: Clock
) -> None:
    clone = _shallow_clone(tmp_path, "shallow")
    clock.tick()
    registered = gitml(clone, "register", "--push", "--no-verify-remote", "--json")
    assert git(clone, "rev-parse", "--is-shallow-repository").stdout.strip() == "false"
    # Both artefacts, oldest first, numbered after the v0.1.0 the clone did not have.
    assert '"v0.2.0"' in registered.stdout
    assert '"v0.3.0"' in registered.stdout
    assert remote_tags(two_unregistered) == ["credit@v0.1.0", "credit@v0.2.0", "credit@v0.3.0"]


@pytest.mark.parametrize(
    "command",
    [
        ["register", "--no-verify-remote"],
        ["promote", "--on-push", "production"],
        ["verify", "--no-remote"],
        ["check", "--stage", "production", "--head", "HEAD"],
    ],
    ids=["register", "promote", "verify", "check"],
)
def test_a_shallow_clone_that_cannot_be_completed_is_refused(
    two_unregistered: Path, tmp_path: Path, command: list[str]
) -> None:
    clone = _shallow_clone(tmp_path, "cut-off")
    git(clone, "remote", "remove", "origin")
    refused = gitml(clone, *command, check=False)
    assert refused.returncode == EXIT_CODES["error"], refused.stdout + refused.stderr
    assert refused.stderr.count("\n") == 1
    assert "this clone is shallow and has no remote 'origin'" in refused.stderr
    assert "fetch-depth: 0" in refused.stderr
    assert git(clone, "tag").stdout == ""  # nothing recorded

"""Commit statuses: the verdict of a gitml command on the commit it judged."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitml.errors import EXIT_GATE_FAILED, EXIT_OK, EXIT_VERIFICATION_FAILED
from gitml.github import paths
from gitml.github.errors import GitHubError

if TYPE_CHECKING:
    from gitml.github.client import GitHubClient


def state_for_exit_code(code: int) -> str:
    """The commit status for a gitml exit code: a judged "no" is ``failure``, a crash ``error``."""
    if code == EXIT_OK:
        return "success"
    if code in (EXIT_GATE_FAILED, EXIT_VERIFICATION_FAILED):
        return "failure"
    return "error"


def create_commit_status(
    client: GitHubClient,
    repository: str,
    sha: str,
    state: str,
    context: str,
    description: str,
    target_url: str | None = None,
) -> None:
    """Set a commit status (``POST /repos/{owner}/{repo}/statuses/{sha}``).

    A push made with ``GITHUB_TOKEN`` triggers no workflow, so the run that pushes a commit
    sets the required status on it itself.
    """
    if state not in ("error", "failure", "pending", "success"):
        raise GitHubError(f"state {state!r}: expected error, failure, pending or success")
    body: dict[str, Any] = {"state": state, "context": context, "description": description[:140]}
    if target_url:
        body["target_url"] = target_url
    client.request(
        "POST",
        f"{paths.repository(repository)}/statuses/{paths.commit(sha)}",
        body,
        permission="statuses: write",
    )

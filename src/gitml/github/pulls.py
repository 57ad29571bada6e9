"""Resolving a pull request by number for a run that will build it with secrets.

Pull requests opened with ``GITHUB_TOKEN`` (gitml's retraining and promotion pull requests)
trigger no workflow, and a fork's pull request is built with secrets only after review:
in both cases the propose workflow is started by ``workflow_dispatch`` with the number,
and this module turns the number into what the run checks out and judges. GitHub's answer
is the truth, not the dispatcher's inputs: the base decides retrain-or-verify, and a fork's
head must be exactly the commit the maintainer reviewed, or nothing is built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitml.errors import UsageError, VerificationError

if TYPE_CHECKING:
    from gitml.github.answers import PullRequestHead
    from gitml.github.client import GitHubClient

SHA = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class ResolvedPullRequest:
    """A pull request ready to be checked out by a trusted run."""

    number: int
    base: str
    head_ref: str
    head_sha: str
    head_repository: str
    fork: bool
    checkout: str  # the ref to check out: the head branch, or refs/pull/N/head for a fork

    def outputs(self) -> dict[str, str]:
        """``key: value`` pairs for ``$GITHUB_OUTPUT`` (and the JSON shape)."""
        return {
            "number": str(self.number),
            "base": self.base,
            "head_ref": self.head_ref,
            "head_sha": self.head_sha,
            "head_repository": self.head_repository,
            "fork": "true" if self.fork else "false",
            "checkout": self.checkout,
        }


def resolve(
    client: GitHubClient, repository: str, number: int, expect_sha: str | None = None
) -> ResolvedPullRequest:
    """The open pull request ``number`` of ``repository``.

    ``expect_sha``: the head commit the caller reviewed; required when the head is in
    another repository (a fork), and when given the head must still be exactly it.
    """
    if expect_sha is not None and expect_sha != "" and not SHA.fullmatch(expect_sha):
        raise UsageError(f"--expect-sha {expect_sha!r}: expected a full 40-hex commit id")
    pull = client.get_pull_request(repository, number)
    return judge(pull, repository, expect_sha or None)


def judge(pull: PullRequestHead, repository: str, expect_sha: str | None) -> ResolvedPullRequest:
    """Apply the rules of :func:`resolve` to GitHub's answer."""
    if pull.state != "open":
        raise VerificationError(f"pull request #{pull.number} is {pull.state}: nothing to build")
    if pull.head_repository is None:
        raise VerificationError(
            f"pull request #{pull.number}: its head repository was deleted; nothing to build"
        )
    if any(not value.isprintable() for value in (pull.base, pull.head_ref, pull.head_repository)):
        raise VerificationError(f"pull request #{pull.number}: unprintable branch or repository")
    fork = pull.head_repository.lower() != repository.lower()
    if fork and expect_sha is None:
        raise UsageError(
            f"pull request #{pull.number} comes from the fork {pull.head_repository}: give the "
            "head commit you reviewed (--expect-sha; the workflow's `sha` input), so the "
            "build runs exactly the code that was reviewed"
        )
    if expect_sha is not None and pull.head_sha != expect_sha:
        raise VerificationError(
            f"pull request #{pull.number}: its head moved to {pull.head_sha[:12]} since "
            f"{expect_sha[:12]} was reviewed; review the new commits and dispatch again"
        )
    checkout = f"refs/pull/{pull.number}/head" if fork else pull.head_ref
    return ResolvedPullRequest(
        pull.number, pull.base, pull.head_ref, pull.head_sha, pull.head_repository, fork, checkout
    )

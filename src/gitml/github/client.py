"""A small GitHub REST client on the standard library.

It honours ``GITHUB_API_URL`` (GitHub Enterprise, and the local server the tests run),
sends the headers GitHub documents (``Accept: application/vnd.github+json``, a bearer
token, ``X-GitHub-Api-Version``) and turns error responses into one-line GitmlErrors.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from gitml import __version__
from gitml.errors import (
    EXIT_GATE_FAILED,
    EXIT_OK,
    EXIT_VERIFICATION_FAILED,
    GitmlError,
    UsageError,
)

DEFAULT_API_URL = "https://api.github.com"
PROPOSE_WORKFLOW = "propose.yml"
API_VERSION = "2022-11-28"
TIMEOUT_SECONDS = 30


class GitHubError(GitmlError):
    """GitHub answered with an error (bad token, missing permission, validation...)."""


@dataclass(frozen=True)
class PullRequest:
    """A pull request GitHub created (or already had for the same branches)."""

    number: int
    url: str
    created: bool


@dataclass(frozen=True)
class PullRequestHead:
    """Where an existing pull request comes from and goes to (``GET .../pulls/{n}``)."""

    number: int
    state: str
    base: str
    head_ref: str
    head_sha: str
    head_repository: str | None  # None when the fork was deleted


class GitHubClient:
    """Calls to one GitHub API endpoint with one token."""

    def __init__(self, token: str, api_url: str | None = None):
        self.token = token
        self.api_url = (api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")

    @classmethod
    def from_environment(cls) -> GitHubClient | None:
        """A client from ``GITHUB_TOKEN`` (None when no token is set)."""
        token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
        return cls(token) if token else None

    @classmethod
    def for_repository(cls, repository: str | None, needed_by: str) -> tuple[GitHubClient, str]:
        """A client from the environment and ``repository`` (else ``$GITHUB_REPOSITORY``);
        a UsageError naming ``needed_by`` when the token or the repository is missing."""
        client = cls.from_environment()
        repository = repository or os.environ.get("GITHUB_REPOSITORY")
        if client is None or not repository:
            raise UsageError(
                f"{needed_by} needs GITHUB_TOKEN and GITHUB_REPOSITORY (or --repository)"
            )
        return client, repository

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Send one API request; return the decoded JSON answer."""
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = urllib.request.Request(
            f"{self.api_url}{path}",
            data=data,
            method=method,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {self.token}",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": f"gitml/{__version__}",
                **({"Content-Type": "application/json"} if data is not None else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                payload = response.read()
        except urllib.error.HTTPError as error:
            raise GitHubError(_describe(error)) from None
        except (urllib.error.URLError, TimeoutError) as error:
            raise GitHubError(f"GitHub API at {self.api_url} unreachable: {error}") from None
        return json.loads(payload) if payload else None

    def create_pull_request(
        self, repository: str, head: str, base: str, title: str, body: str
    ) -> PullRequest:
        """Open a pull request ``head`` → ``base`` in ``owner/name``; reuse an open one."""
        if repository.count("/") != 1:
            raise GitHubError(f"repository {repository!r}: expected OWNER/NAME")
        try:
            answer = self.request(
                "POST",
                f"/repos/{repository}/pulls",
                {"title": title, "head": head, "base": base, "body": body},
            )
        except GitHubError as error:
            if "already exists" not in str(error):
                raise
            owner = repository.split("/")[0]
            existing = self.request(
                "GET", f"/repos/{repository}/pulls?state=open&head={owner}:{head}&base={base}"
            )
            if not existing:
                raise
            return PullRequest(existing[0]["number"], existing[0]["html_url"], created=False)
        return PullRequest(answer["number"], answer["html_url"], created=True)

    def default_branch(self, repository: str) -> str:
        """``GET /repos/{owner}/{repo}``: the repository's default branch."""
        if repository.count("/") != 1:
            raise GitHubError(f"repository {repository!r}: expected OWNER/NAME")
        answer = self.request("GET", f"/repos/{repository}")
        branch = answer.get("default_branch") if isinstance(answer, dict) else None
        if not isinstance(branch, str) or not branch:
            raise GitHubError(f"GitHub API: {repository}: no default_branch in the answer")
        return branch

    def get_pull_request(self, repository: str, number: int) -> PullRequestHead:
        """``GET /repos/{owner}/{repo}/pulls/{pull_number}``: base, head branch and commit."""
        if repository.count("/") != 1:
            raise GitHubError(f"repository {repository!r}: expected OWNER/NAME")
        answer = self.request("GET", f"/repos/{repository}/pulls/{int(number)}")
        try:
            head, base = answer["head"], answer["base"]
            return PullRequestHead(
                number=int(answer["number"]),
                state=str(answer["state"]),
                base=str(base["ref"]),
                head_ref=str(head["ref"]),
                head_sha=str(head["sha"]),
                head_repository=(head.get("repo") or {}).get("full_name"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise GitHubError(
                f"GitHub API: pull request #{number} of {repository}: unexpected answer "
                f"({type(exc).__name__}: {exc})"
            ) from None

    def dispatch_workflow(
        self, repository: str, workflow: str, ref: str, inputs: dict[str, str]
    ) -> None:
        """Run ``workflow`` (a file name such as ``propose.yml``) on ``ref`` with ``inputs``.

        ``POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches``. Pull
        requests opened with ``GITHUB_TOKEN`` trigger no workflow, so whoever opens one
        from CI starts its checks this way. Inputs are sent as strings, as GitHub's
        form does; it converts them to the workflow's declared input types.
        """
        if repository.count("/") != 1:
            raise GitHubError(f"repository {repository!r}: expected OWNER/NAME")
        try:
            self.request(
                "POST",
                f"/repos/{repository}/actions/workflows/{workflow}/dispatches",
                {"ref": ref, "inputs": inputs},
            )
        except GitHubError as error:
            if " 403:" in str(error) or " 401:" in str(error):
                raise GitHubError(
                    f"{error}; dispatching {workflow} needs `permissions: actions: write`"
                ) from None
            raise

    def start_checks(self, repository: str, workflow: str, ref: str, pull: PullRequest) -> None:
        """Dispatch ``workflow`` on ``ref`` with input ``pr`` for a pull request opened with
        ``GITHUB_TOKEN`` (which triggers no workflow itself); a failure says the pull
        request is open and how to start its checks by hand."""
        try:
            self.dispatch_workflow(repository, workflow, ref, {"pr": str(pull.number)})
        except GitHubError as error:
            raise GitHubError(
                f"pull request #{pull.number} ({pull.url}) is open, but starting {workflow} "
                f"failed: {error}; run it by hand with input pr={pull.number}"
            ) from None


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
    client.request("POST", f"/repos/{repository}/statuses/{sha}", body)


def _describe(error: urllib.error.HTTPError) -> str:
    try:
        payload = json.loads(error.read() or b"{}")
    except ValueError:
        payload = {}
    message = payload.get("message", error.reason)
    details = "; ".join(
        str(e.get("message") or e.get("code"))
        for e in payload.get("errors", [])
        if isinstance(e, dict)
    )
    hint = ""
    if error.code in (401, 403):
        hint = " (check the token and the workflow's `permissions: pull-requests: write`)"
    return f"GitHub API {error.code}: {message}{': ' + details if details else ''}{hint}"

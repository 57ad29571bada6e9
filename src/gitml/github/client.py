"""A small GitHub REST client on ``requests``.

It honours ``GITHUB_API_URL`` (GitHub Enterprise, and the local server the tests run),
sends the headers GitHub documents (``Accept: application/vnd.github+json``, a bearer
token, ``X-GitHub-Api-Version``), retries what GitHub documents as transient
(:mod:`gitml.github.retry`) and turns error answers into one-line GitHubErrors that name
the status, the endpoint and what to check. The token never appears in an error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

from gitml import __version__
from gitml.errors import (
    EXIT_GATE_FAILED,
    EXIT_OK,
    EXIT_VERIFICATION_FAILED,
    GitmlError,
    UsageError,
)
from gitml.github.retry import RATE_LIMIT_STATUSES, GitHubRetry, default_retry

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_API_URL = "https://api.github.com"
PROPOSE_WORKFLOW = "propose.yml"
API_VERSION = "2022-11-28"
# A host that is up accepts a connection within seconds. GitHub ends any request it takes
# more than 10 s to process, so 30 s for the answer leaves room for a slow Enterprise
# server without letting one stuck request hold a CI step for long.
CONNECT_TIMEOUT_SECONDS = 10
READ_TIMEOUT_SECONDS = 30


class GitHubError(GitmlError):
    """GitHub answered with an error (bad token, missing permission, validation...).

    ``status`` is the HTTP status of GitHub's answer (None when there was no answer).
    """

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


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


class _BearerToken(AuthBase):
    """The token as GitHub documents it (``Authorization: Bearer``).

    Given as the session's auth rather than as a header so that a ``~/.netrc`` entry for
    the API host, which requests would otherwise apply, cannot replace it.
    """

    def __init__(self, token: str):
        self._token = token

    def __call__(self, request: Any) -> Any:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


class GitHubClient:
    """Calls to one GitHub API endpoint with one token."""

    def __init__(self, token: str, api_url: str | None = None, *, retry: GitHubRetry | None = None):
        self.api_url = (api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
        self.retry = retry or default_retry()
        self._session = requests.Session()
        self._session.auth = _BearerToken(token)
        self._session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": f"gitml/{__version__}",
            }
        )
        adapter = HTTPAdapter(max_retries=self.retry)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

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

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        query: dict[str, str] | None = None,
        permission: str | None = None,
    ) -> Any:
        """Send one API request; return the decoded JSON answer (None when it is empty).

        Server errors and secondary rate limits are retried, POST included (see
        :data:`gitml.github.retry.REPLAYED_METHODS`): send only a POST that is harmless
        twice. ``permission`` is the workflow permission the endpoint needs, named in
        the error when GitHub refuses with 403.
        """
        try:
            response = self._session.request(
                method,
                f"{self.api_url}{path}",
                json=body,
                params=query,
                timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
            )
        except requests.RequestException as error:
            raise GitHubError(
                f"GitHub API {method} {path}: no answer from {self.api_url} ({_cause(error)})"
            ) from None
        if not response.ok:
            raise self._error(method, path, response, permission)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise GitHubError(
                f"GitHub API {response.status_code}: the answer is not JSON ({method} {path})",
                response.status_code,
            ) from None

    def _error(self, method: str, path: str, response: Any, permission: str | None) -> GitHubError:
        """One line: status, GitHub's message and details, the endpoint and what to check."""
        status = response.status_code
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            payload = {}
        message = _one_line(str(payload.get("message") or response.reason or "no message"))
        errors = payload.get("errors")
        details = "; ".join(
            _one_line(str(e.get("message") or e.get("code")))
            for e in (errors if isinstance(errors, list) else [])
            if isinstance(e, dict)
        )
        notes = [f"{method} {path}"]
        advice = self.retry.not_worth_waiting(status, response.headers)
        if advice is None:
            advice = _advice(status, message, response.headers, permission)
        if advice:
            notes.append(advice)
        retries = getattr(response.raw, "retries", None)
        if retries is not None and retries.history:
            notes.append(f"gave up after {len(retries.history)} retries")
        return GitHubError(
            f"GitHub API {status}: {message}{': ' + details if details else ''} "
            f"({'; '.join(notes)})",
            status,
        )

    def create_pull_request(
        self, repository: str, head: str, base: str, title: str, body: str
    ) -> PullRequest:
        """Open a pull request ``head`` → ``base`` in ``owner/name``; reuse an open one."""
        pulls = f"{_repository_path(repository)}/pulls"
        try:
            answer = self.request(
                "POST",
                pulls,
                {"title": title, "head": head, "base": base, "body": body},
                permission="pull-requests: write",
            )
        except GitHubError as error:
            if error.status != 422 or "already exists" not in str(error):
                raise
            owner = repository.split("/")[0]
            existing = self.request(
                "GET",
                pulls,
                query={"state": "open", "head": f"{owner}:{head}", "base": base},
                permission="pull-requests: read",
            )
            if not existing:
                raise
            return PullRequest(existing[0]["number"], existing[0]["html_url"], created=False)
        return PullRequest(answer["number"], answer["html_url"], created=True)

    def default_branch(self, repository: str) -> str:
        """``GET /repos/{owner}/{repo}``: the repository's default branch."""
        answer = self.request("GET", _repository_path(repository))
        branch = answer.get("default_branch") if isinstance(answer, dict) else None
        if not isinstance(branch, str) or not branch:
            raise GitHubError(f"GitHub API: {repository}: no default_branch in the answer")
        return branch

    def get_pull_request(self, repository: str, number: int) -> PullRequestHead:
        """``GET /repos/{owner}/{repo}/pulls/{pull_number}``: base, head branch and commit."""
        answer = self.request(
            "GET",
            f"{_repository_path(repository)}/pulls/{int(number)}",
            permission="pull-requests: read",
        )
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
        self.request(
            "POST",
            f"{_repository_path(repository)}/actions/workflows/{workflow}/dispatches",
            {"ref": ref, "inputs": inputs},
            permission="actions: write",
        )

    def start_checks(self, repository: str, workflow: str, ref: str, pull: PullRequest) -> None:
        """Dispatch ``workflow`` on ``ref`` with input ``pr`` for a pull request opened with
        ``GITHUB_TOKEN`` (which triggers no workflow itself); a failure says the pull
        request is open and how to start its checks by hand."""
        try:
            self.dispatch_workflow(repository, workflow, ref, {"pr": str(pull.number)})
        except GitHubError as error:
            raise GitHubError(
                f"pull request #{pull.number} ({pull.url}) is open, but starting {workflow} "
                f"failed: {error}; run it by hand with input pr={pull.number}",
                error.status,
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
    client.request(
        "POST",
        f"{_repository_path(repository)}/statuses/{sha}",
        body,
        permission="statuses: write",
    )


def _repository_path(repository: str) -> str:
    """``/repos/OWNER/NAME``, refusing anything that is not OWNER/NAME."""
    if repository.count("/") != 1:
        raise GitHubError(f"repository {repository!r}: expected OWNER/NAME")
    return f"/repos/{repository}"


def _advice(
    status: int, message: str, headers: Mapping[str, str], permission: str | None
) -> str | None:
    """What to check after a refusal that retrying did not (or could not) fix."""
    if status == 429 or (
        status in RATE_LIMIT_STATUSES
        and ("Retry-After" in headers or "rate limit" in message.lower())
    ):
        # A secondary rate limit that outlasted the retries, or came without Retry-After:
        # GitHub asks to wait at least a minute then.
        return "a secondary rate limit: wait at least a minute before running it again"
    if status == 401:
        return "check GITHUB_TOKEN (or GH_TOKEN): it is missing, expired or revoked"
    if status == 403:
        if permission:
            return f"the token needs `permissions: {permission}`"
        return "check the token's permissions"
    if status == 404:
        return "check OWNER/NAME; GitHub also answers 404 when the token cannot see it"
    return None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _cause(error: requests.RequestException) -> str:
    """The innermost reason a request got no answer (refused, unresolvable, timed out)."""
    reason: BaseException = error
    while True:
        inner = getattr(reason, "reason", None) or (reason.args[0] if reason.args else None)
        if not isinstance(inner, BaseException):
            return _one_line(str(reason))
        reason = inner

"""A small GitHub REST client on ``requests``.

It honours ``GITHUB_API_URL`` (GitHub Enterprise, and the local server the tests run),
sends the headers GitHub documents (``Accept: application/vnd.github+json``, a bearer
token, ``X-GitHub-Api-Version``), retries what GitHub documents as transient
(:mod:`gitml.github.retry`) and turns error answers into one-line GitHubErrors that name
the status, the endpoint and what to check. The token never appears in an error.

What a server can make it do is bounded (the token, the time, the memory):

* redirects are followed only within the API's origin (scheme, host and port), resent as
  GitHub documents ("repeat the request to the new URI"); a redirect anywhere else is
  refused, naming the target, so the token (or a ``~/.netrc`` password, which requests
  would add on a redirect) goes nowhere else;
* each attempt has a wall-clock deadline for connecting and the whole answer
  (:mod:`gitml.github.deadline`), not only a timeout per read;
* the answer is read up to :data:`MAX_ANSWER_BYTES`, must be JSON of the expected shape,
  and every value put into a URL path is checked first (:mod:`gitml.github.paths`).
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urljoin

import requests
import urllib3
from requests.auth import AuthBase

from gitml import __version__
from gitml.errors import (
    UsageError,
)
from gitml.github import deadline, paths
from gitml.github.answers import (
    PullRequest,
    PullRequestHead,
    advice_for,
    answer_field,
    cause,
    json_kind,
    one_line,
    pull_request_from,
    size_text,
)
from gitml.github.errors import GitHubError
from gitml.github.origins import api_origin, origin_of, show_origin
from gitml.github.retry import GitHubRetry, default_retry

DEFAULT_API_URL = "https://api.github.com"
PROPOSE_WORKFLOW = "propose.yml"
API_VERSION = "2022-11-28"
# A host that is up accepts a connection within seconds. GitHub ends any request it takes
# more than 10 s to process, so 30 s for the answer leaves room for a slow Enterprise
# server without letting one stuck request hold a CI step for long.
CONNECT_TIMEOUT_SECONDS = 10
READ_TIMEOUT_SECONDS = 30
# Connecting and the whole answer of one attempt: the connect timeout, GitHub's own 10 s
# limit and the transfer of the largest answer gitml reads, with room for a slow link.
# A server that drips its answer is cut off here whatever the read timeout, and not asked
# again; with the retries of gitml.github.retry a request takes at most 4 attempts and 3
# waits of at most 60 s each.
ATTEMPT_DEADLINE_SECONDS = 60.0
# The largest answer read. gitml's endpoints answer in kilobytes (a page of pull requests
# is well under a megabyte); a larger one is refused, not held in memory.
MAX_ANSWER_BYTES = 10 * 1024 * 1024
# Same-origin redirects followed per request (a renamed repository is one).
MAX_REDIRECTS = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}


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


class _Session(requests.Session):
    """A session that leaves redirects to :meth:`GitHubClient.request`.

    Even with ``allow_redirects=False`` requests prepares the next request of a 3xx (for
    ``Response.next``): it reads the whole redirect body into memory, unbounded, raises
    ValueError on a malformed Location and looks up ``~/.netrc`` for the new host. With
    no redirect target it does none of that.
    """

    def get_redirect_target(self, resp: requests.Response) -> None:
        return None


class GitHubClient:
    """Calls to one GitHub API endpoint with one token."""

    def __init__(
        self,
        token: str,
        api_url: str | None = None,
        *,
        retry: GitHubRetry | None = None,
        deadline_seconds: float = ATTEMPT_DEADLINE_SECONDS,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
    ):
        self.api_url = (api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
        self._origin = api_origin(self.api_url)
        self.retry = retry or default_retry()
        self.deadline_seconds = deadline_seconds
        self.max_answer_bytes = max_answer_bytes
        self._session = _Session()
        self._session.auth = _BearerToken(token)
        self._session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": f"gitml/{__version__}",
            }
        )
        adapter = deadline.DeadlineAdapter(max_retries=self.retry)
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
        paths.repository(repository)
        return client, repository

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        query: dict[str, str] | None = None,
        permission: str | None = None,
        expect: type[dict[str, Any]] | type[list[Any]] | None = None,
    ) -> Any:
        """Send one API request; return the decoded JSON answer (None when it is empty).

        Server errors and secondary rate limits are retried, POST included (see
        :data:`gitml.github.retry.REPLAYED_METHODS`): send only a POST that is harmless
        twice. ``permission`` is the workflow permission the endpoint needs, named in
        the error when GitHub refuses with 403. ``expect`` (dict or list): the JSON
        shape the answer must have; anything else is a GitHubError naming the endpoint.
        """
        url, params, asked = f"{self.api_url}{path}", query, method
        for _ in range(MAX_REDIRECTS + 1):
            response, content = self._exchange(method, url, params, body, asked, path)
            if response.status_code not in REDIRECT_STATUSES:
                break
            url = self._same_origin_target(response, asked, path)
            params = None  # the Location holds the whole target, query included
            if response.status_code == 303:  # "see other": GET it, as HTTP says
                method, body = "GET", None
        else:
            raise GitHubError(
                f"GitHub API {asked} {path}: more than {MAX_REDIRECTS} redirects; not followed",
                response.status_code,
            )
        status = response.status_code
        if not 200 <= status < 300:
            raise self._error(asked, path, response, content, permission)
        where = f"({asked} {path})"
        shape = {dict: "a JSON object", list: "a JSON array"}.get(expect) if expect else None
        if not content:
            if shape:
                raise GitHubError(f"GitHub API {status}: empty answer, expected {shape} {where}")
            return None
        try:
            answer = json.loads(content)
        except (ValueError, RecursionError):
            wanted = f", expected {shape}" if shape else ""
            raise GitHubError(
                f"GitHub API {status}: the answer is not JSON{wanted} {where}", status
            ) from None
        if expect is not None and not isinstance(answer, expect):
            raise GitHubError(
                f"GitHub API {status}: expected {shape}, got {json_kind(answer)} {where}", status
            )
        return answer

    def _exchange(
        self,
        method: str,
        url: str,
        params: dict[str, str] | None,
        body: dict[str, Any] | None,
        asked: str,
        path: str,
    ) -> tuple[requests.Response, bytes]:
        """One request (with urllib3's retries) and its answer, read within the deadline
        and the size limit; a redirect's answer is not read."""
        with deadline.watch(self.deadline_seconds) as clock:
            try:
                response = self._session.request(
                    method,
                    url,
                    json=body,
                    params=params,
                    timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
                    allow_redirects=False,
                    stream=True,
                )
            except deadline.DeadlinePassed:
                raise self._too_slow(asked, path) from None
            except requests.RequestException as error:
                if clock.expired:
                    raise self._too_slow(asked, path) from None
                raise GitHubError(
                    f"GitHub API {asked} {path}: no answer from {self.api_url} ({cause(error)})"
                ) from None
            try:
                content = b""
                if response.status_code not in REDIRECT_STATUSES:
                    content = self._read(response, clock, asked, path)
            finally:
                clock.attempt_over()  # before the connection goes back to the pool
                response.close()
            if clock.expired:
                # A socket shut down mid-header can pass for a complete, empty answer.
                raise self._too_slow(asked, path)
            return response, content

    def _read(
        self, response: requests.Response, clock: deadline.Deadline, method: str, path: str
    ) -> bytes:
        """The answer's body, refused beyond :attr:`max_answer_bytes`."""
        limit = self.max_answer_bytes
        too_large = GitHubError(
            f"GitHub API {response.status_code}: the answer is larger than "
            f"{size_text(limit)}; not read ({method} {path})",
            response.status_code,
        )
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        content = bytearray()
        try:
            for chunk in response.iter_content(64 * 1024):
                content += chunk
                if len(content) > limit:
                    raise too_large
        except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
            if clock.expired:
                raise self._too_slow(method, path) from None
            raise GitHubError(
                f"GitHub API {response.status_code}: the answer broke off ({cause(error)}) "
                f"({method} {path})",
                response.status_code,
            ) from None
        return bytes(content)

    def _too_slow(self, method: str, path: str) -> GitHubError:
        return GitHubError(
            f"GitHub API {method} {path}: {self.api_url} did not answer within "
            f"{self.deadline_seconds:g} s (a stalled or dripping answer; not retried)"
        )

    def _same_origin_target(self, response: requests.Response, method: str, path: str) -> str:
        """Where a redirect points, when that is the API's own origin; else a GitHubError.

        The request is not sent elsewhere at all: a token, or a ``~/.netrc`` password that
        requests would add for the new host, must not reach another origin, and gitml's
        endpoints never redirect to one (GitHub moves a renamed repository within the API).
        """
        status = response.status_code
        location = response.headers.get("Location")
        if not location:
            raise GitHubError(
                f"GitHub API {status}: a redirect without a Location ({method} {path})", status
            )
        try:
            target = urljoin(response.url, location)
        except ValueError:  # e.g. an unbalanced "[" (an IPv6 host)
            target = ""
        origin = origin_of(target)
        if origin != self._origin:
            shown = one_line(show_origin(origin) if origin else repr(location[:100]))
            raise GitHubError(
                f"GitHub API {status}: redirected to another origin, {shown}; not followed, "
                f"so the token is not sent there ({method} {path})",
                status,
            )
        return target

    def _error(
        self, method: str, path: str, response: Any, content: bytes, permission: str | None
    ) -> GitHubError:
        """One line: status, GitHub's message and details, the endpoint and what to check."""
        status = response.status_code
        try:
            payload = json.loads(content) if content else None
        except (ValueError, RecursionError):
            payload = None
        if not isinstance(payload, dict):
            payload = {}
        message = one_line(str(payload.get("message") or response.reason or "no message"))
        errors = payload.get("errors")
        details = one_line(
            "; ".join(
                str(e.get("message") or e.get("code"))
                for e in (errors if isinstance(errors, list) else [])
                if isinstance(e, dict)
            )
        )
        notes = [f"{method} {path}"]
        advice = self.retry.not_worth_waiting(status, response.headers)
        if advice is None:
            advice = advice_for(status, message, response.headers, permission)
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
        pulls = f"{paths.repository(repository)}/pulls"
        try:
            answer = self.request(
                "POST",
                pulls,
                {"title": title, "head": head, "base": base, "body": body},
                permission="pull-requests: write",
                expect=dict,
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
                expect=list,
            )
            if not existing:
                raise
            return pull_request_from(existing[0], f"GET {pulls}", created=False)
        return pull_request_from(answer, f"POST {pulls}", created=True)

    def default_branch(self, repository: str) -> str:
        """``GET /repos/{owner}/{repo}``: the repository's default branch."""
        path = paths.repository(repository)
        answer = self.request("GET", path, expect=dict)
        branch: str = answer_field(answer, "default_branch", str, f"GET {path}")
        if not branch:
            raise GitHubError(f"GitHub API GET {path}: unexpected answer: empty default_branch")
        return branch

    def get_pull_request(self, repository: str, number: int) -> PullRequestHead:
        """``GET /repos/{owner}/{repo}/pulls/{pull_number}``: base, head branch and commit."""
        path = f"{paths.repository(repository)}/pulls/{paths.pull_number(number)}"
        answer = self.request("GET", path, permission="pull-requests: read", expect=dict)
        where = f"GET {path}"
        head_sha: str = answer_field(answer, "head.sha", str, where)
        if not paths.is_commit(head_sha):
            raise GitHubError(f"GitHub API {where}: unexpected answer: head.sha is not a commit id")
        if answer_field(answer, "number", int, where) != number:
            raise GitHubError(f"GitHub API {where}: unexpected answer: another pull request")
        repo = answer_field(answer, "head.repo", (dict, type(None)), where)
        return PullRequestHead(
            number=number,
            state=answer_field(answer, "state", str, where),
            base=answer_field(answer, "base.ref", str, where),
            head_ref=answer_field(answer, "head.ref", str, where),
            head_sha=head_sha,
            head_repository=None if repo is None else answer_field(repo, "full_name", str, where),
        )

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
            f"{paths.repository(repository)}/actions/workflows/"
            f"{paths.workflow(workflow)}/dispatches",
            {"ref": ref, "inputs": inputs},
            permission="actions: write",
        )

    def start_checks(self, repository: str, workflow: str, ref: str, pull: PullRequest) -> None:
        """Dispatch ``workflow`` on ``ref`` with input ``pr`` for a pull request opened with
        ``GITHUB_TOKEN`` (which triggers no workflow itself); a failure says the pull
        request is open and how to start its checks by hand."""
        paths.repository(repository)
        paths.workflow(workflow)
        try:
            self.dispatch_workflow(repository, workflow, ref, {"pr": str(pull.number)})
        except GitHubError as error:
            raise GitHubError(
                f"pull request #{pull.number} ({pull.url}) is open, but starting {workflow} "
                f"failed: {error}; run it by hand with input pr={pull.number}",
                error.status,
            ) from None

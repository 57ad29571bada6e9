"""A local stand-in for GitHub's REST API that only answers requests shaped as documented.

Each expectation names the documented method, path and headers (``Accept:
application/vnd.github+json``, a bearer token, ``X-GitHub-Api-Version``); a request that
does not match one gets pytest-httpserver's 500 and fails the workflow step that sent it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitml.github.client import API_VERSION
from tests.workflows.act import REPOSITORY

if TYPE_CHECKING:
    from pytest_httpserver import HTTPServer

TOKEN = "t0ken"
HEADERS = {
    "Accept": "application/vnd.github+json",
    "Authorization": f"Bearer {TOKEN}",
    "X-GitHub-Api-Version": API_VERSION,
}
STATUS_PATH = re.compile(rf"/repos/{REPOSITORY}/statuses/([0-9a-f]{{40}})")


@dataclass(frozen=True)
class Status:
    """One ``POST /repos/{owner}/{repo}/statuses/{sha}`` request."""

    sha: str
    state: str
    context: str
    description: str


def act_environment(httpserver: HTTPServer) -> dict[str, str]:
    """What a workflow run needs to reach the local API."""
    return {"GITHUB_API_URL": httpserver.url_for("/").rstrip("/"), "GITHUB_REPOSITORY": REPOSITORY}


def expect_statuses(httpserver: HTTPServer) -> None:
    """Accept commit statuses (``POST /repos/{owner}/{repo}/statuses/{sha}``)."""
    httpserver.expect_request(STATUS_PATH, method="POST", headers=HEADERS).respond_with_json(
        {"state": "success"}, status=201
    )


def statuses(httpserver: HTTPServer) -> list[Status]:
    """Every commit status the run set, in order."""
    found = []
    for request, _response in httpserver.log:
        match = STATUS_PATH.fullmatch(request.path)
        if match and request.method == "POST":
            body = request.get_json()
            assert set(body) <= {"state", "context", "description", "target_url"}, body
            found.append(
                Status(match.group(1), body["state"], body["context"], body.get("description", ""))
            )
    return found


def expect_pull_request(
    httpserver: HTTPServer,
    number: int,
    *,
    head_ref: str,
    head_sha: str,
    base: str,
    head_repository: str = REPOSITORY,
) -> None:
    """Answer ``GET /repos/{owner}/{repo}/pulls/{pull_number}`` (the fields gitml reads)."""
    owner = head_repository.split("/")[0]
    httpserver.expect_request(
        f"/repos/{REPOSITORY}/pulls/{number}", method="GET", headers=HEADERS
    ).respond_with_json(
        {
            "number": number,
            "state": "open",
            "head": {
                "ref": head_ref,
                "sha": head_sha,
                "label": f"{owner}:{head_ref}",
                "repo": {"full_name": head_repository},
            },
            "base": {"ref": base, "repo": {"full_name": REPOSITORY}},
        }
    )


def requested(httpserver: HTTPServer, method: str, path: str) -> list[dict[str, object] | None]:
    """The JSON bodies (None for none) of the requests to ``method path``."""
    return [
        request.get_json(silent=True)
        for request, _response in httpserver.log
        if request.method == method and request.path == path
    ]

"""The GitHub REST client against a local server that checks GitHub's documented API."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from gitml import api
from gitml.github.answers import PullRequest
from gitml.github.client import API_VERSION, GitHubClient, GitHubError
from tests.helpers import gitml

if TYPE_CHECKING:
    from pathlib import Path

    from pytest_httpserver import HTTPServer

    from tests.conftest import Clock

HEADERS = {
    "Accept": "application/vnd.github+json",
    "Authorization": "Bearer t0ken",
    "X-GitHub-Api-Version": API_VERSION,
}


def test_create_pull_request_follows_the_documented_api(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(
        "/repos/acme/credit/pulls",
        method="POST",
        headers=HEADERS,
        json={"title": "T", "head": "promote/x", "base": "staging", "body": "B"},
    ).respond_with_json(
        {"number": 42, "html_url": "https://github.example/acme/credit/pull/42"}, status=201
    )
    client = GitHubClient("t0ken", api_url=httpserver.url_for("/"))
    pull = client.create_pull_request("acme/credit", "promote/x", "staging", "T", "B")
    assert (pull.number, pull.url, pull.created) == (
        42,
        "https://github.example/acme/credit/pull/42",
        True,
    )
    httpserver.check_assertions()


def test_an_existing_pull_request_is_reused(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/repos/acme/credit/pulls", method="POST").respond_with_json(
        {
            "message": "Validation Failed",
            "errors": [{"message": "A pull request already exists for acme:promote/x."}],
        },
        status=422,
    )
    httpserver.expect_oneshot_request(
        "/repos/acme/credit/pulls",
        method="GET",
        query_string={"state": "open", "head": "acme:promote/x", "base": "staging"},
        headers=HEADERS,
    ).respond_with_json([{"number": 7, "html_url": "https://github.example/pull/7"}])
    client = GitHubClient("t0ken", api_url=httpserver.url_for("/"))
    pull = client.create_pull_request("acme/credit", "promote/x", "staging", "T", "B")
    assert (pull.number, pull.created) == (7, False)
    httpserver.check_assertions()


def test_errors_are_one_line_with_a_hint(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/repos/acme/credit/pulls").respond_with_json(
        {"message": "Resource not accessible by integration"}, status=403
    )
    client = GitHubClient("t0ken", api_url=httpserver.url_for("/"))
    with pytest.raises(GitHubError) as error:
        client.create_pull_request("acme/credit", "a", "b", "T", "B")
    assert str(error.value) == (
        "GitHub API 403: Resource not accessible by integration (POST /repos/acme/credit/pulls; "
        "the token needs `permissions: pull-requests: write`)"
    )
    assert error.value.status == 403
    with pytest.raises(GitHubError, match="expected OWNER/NAME"):
        client.create_pull_request("credit", "a", "b", "T", "B")


def test_start_checks_dispatches_the_workflow_or_says_how_to(httpserver: HTTPServer) -> None:
    pull = PullRequest(number=12, url="https://github.example/acme/credit/pull/12", created=True)
    httpserver.expect_oneshot_request(
        "/repos/acme/credit/actions/workflows/propose.yml/dispatches",
        method="POST",
        headers=HEADERS,
        json={"ref": "main", "inputs": {"pr": "12"}},
    ).respond_with_data("", status=204)
    client = GitHubClient("t0ken", api_url=httpserver.url_for("/"))
    client.start_checks("acme/credit", "propose.yml", "main", pull)
    httpserver.check_assertions()
    httpserver.expect_oneshot_request(
        "/repos/acme/credit/actions/workflows/propose.yml/dispatches", method="POST"
    ).respond_with_json({"message": "Resource not accessible by integration"}, status=403)
    with pytest.raises(GitHubError) as error:
        client.start_checks("acme/credit", "propose.yml", "main", pull)
    assert str(error.value) == (
        "pull request #12 (https://github.example/acme/credit/pull/12) is open, but starting "
        "propose.yml failed: GitHub API 403: Resource not accessible by integration "
        "(POST /repos/acme/credit/actions/workflows/propose.yml/dispatches; the token needs "
        "`permissions: actions: write`); run it by hand with input pr=12"
    )


@pytest.mark.slow
def test_promote_opens_the_pull_request_through_github_api_url(
    origin_repo: Path, clock: Clock, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = origin_repo
    api.register(root=repo, push=True)
    api.promote("credit", "staging", root=repo, push=True)
    clock.tick()
    api.promote_on_push("staging", root=repo)
    from tests.registry_flow import merge_pull_request

    clock.tick()
    merge_pull_request(repo, 3, "leaves", ("train", "hist_gradient_boosting.max_leaf_nodes", 8))
    clock.tick()
    api.register(root=repo, push=True)
    httpserver.expect_oneshot_request(
        "/repos/acme/credit/pulls",
        method="POST",
        headers=HEADERS,
    ).respond_with_json({"number": 5, "html_url": "https://github.example/pull/5"}, status=201)
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    monkeypatch.setenv("GITHUB_API_URL", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/credit")
    out = gitml(repo, "promote", "credit", "--to", "staging", "--push").stdout
    assert "pull request: https://github.example/pull/5" in out
    httpserver.check_assertions()
    (request, _response) = httpserver.log[0]
    body = request.get_json()
    assert (body["head"], body["base"], body["title"]) == (
        "promote/credit-v0.2.0-to-staging",
        "staging",
        "Promote credit v0.2.0 to staging",
    )

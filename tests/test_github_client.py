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


DISPATCHES = "/repos/acme/credit/actions/workflows/propose.yml/dispatches"


def _api_environment(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    monkeypatch.setenv("GITHUB_API_URL", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/credit")


def test_start_checks_dispatches_propose_on_the_default_branch(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`gitml start-checks` (review.yml's step): the default branch from GitHub, then the
    documented workflow_dispatch with input pr."""
    from gitml.cli.github import PROPOSE_WORKFLOW
    from gitml.github.client import PROPOSE_WORKFLOW as CLIENT_WORKFLOW

    assert PROPOSE_WORKFLOW == CLIENT_WORKFLOW  # the CLI names it without importing requests
    _api_environment(httpserver, monkeypatch)
    httpserver.expect_ordered_request(
        "/repos/acme/credit", method="GET", headers=HEADERS
    ).respond_with_json({"full_name": "acme/credit", "default_branch": "trunk"})
    httpserver.expect_ordered_request(
        DISPATCHES, method="POST", headers=HEADERS, json={"ref": "trunk", "inputs": {"pr": "9"}}
    ).respond_with_data("", status=204)
    out = gitml(tmp_path, "start-checks", "--pr", "9")
    assert out.stdout == "propose.yml dispatched on trunk for pull request #9\n"
    httpserver.check_assertions()


def test_start_checks_with_a_ref_and_workflow_asks_nothing_else(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _api_environment(httpserver, monkeypatch)
    httpserver.expect_oneshot_request(
        "/repos/other/repo/actions/workflows/checks.yaml/dispatches",
        method="POST",
        headers=HEADERS,
        json={"ref": "main", "inputs": {"pr": "3"}},
    ).respond_with_data("", status=204)
    out = gitml(
        tmp_path, "start-checks", "--pr", "3", "--workflow", "checks.yaml", "--ref", "main",
        "--repository", "other/repo",
    )  # fmt: skip
    assert out.stdout == "checks.yaml dispatched on main for pull request #3\n"
    httpserver.check_assertions()
    assert len(httpserver.log) == 1


def test_start_checks_errors_are_one_line_and_say_how_to_run_it_by_hand(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _api_environment(httpserver, monkeypatch)
    httpserver.expect_request(DISPATCHES, method="POST").respond_with_json(
        {"message": "Resource not accessible by integration"}, status=403
    )
    failed = gitml(tmp_path, "start-checks", "--pr", "9", "--ref", "main", check=False)
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert failed.stderr == (
        "gitml: error: starting propose.yml on main for pull request #9 failed: GitHub API "
        "403: Resource not accessible by integration (POST "
        "/repos/acme/credit/actions/workflows/propose.yml/dispatches; the token needs "
        "`permissions: actions: write`); run propose.yml by hand with input pr=9\n"
    )
    httpserver.clear_all_handlers()
    httpserver.clear_log()
    httpserver.expect_request("/repos/acme/credit", method="GET").respond_with_json(
        {"message": "Not Found"}, status=404
    )
    failed = gitml(tmp_path, "start-checks", "--pr", "9", check=False)
    assert failed.returncode == 1
    assert len(failed.stderr.splitlines()) == 1
    assert failed.stderr.startswith(
        "gitml: error: finding the default branch to start propose.yml on failed: "
        "GitHub API 404: Not Found (GET /repos/acme/credit"
    )
    assert failed.stderr.endswith("; run propose.yml by hand with input pr=9\n")
    assert [r.method for r, _ in httpserver.log] == ["GET"]  # nothing dispatched


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--pr", "0"], "pull request number 0: expected a positive integer"),
        (["--pr", "9", "--workflow", "../../x"], "workflow '../../x': expected a file name"),
        (["--pr", "9", "--repository", "acme"], "repository 'acme': expected OWNER/NAME"),
        (["--pr", "9", "--ref", ""], "--ref '': expected a branch or tag name"),
    ],
)
def test_start_checks_refuses_bad_values_before_sending_anything(
    tmp_path: Path,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    error: str,
) -> None:
    _api_environment(httpserver, monkeypatch)
    failed = gitml(tmp_path, "start-checks", *args, check=False)
    assert failed.returncode == 2
    assert failed.stderr.startswith(f"gitml: error: {error}")
    assert len(failed.stderr.splitlines()) == 1
    assert httpserver.log == []


def test_start_checks_needs_a_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_TOKEN", "GH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    failed = gitml(
        tmp_path, "start-checks", "--pr", "9", "--repository", "acme/credit", check=False
    )
    assert (failed.returncode, failed.stderr) == (
        2,
        "gitml: error: start-checks needs GITHUB_TOKEN and GITHUB_REPOSITORY (or --repository)\n",
    )

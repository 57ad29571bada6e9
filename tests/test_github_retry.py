"""What the GitHub client sends again, and what it reports, against a real local server.

Each test answers the way GitHub documents (server errors, secondary and primary rate
limits, bad tokens); the client under test runs with no backoff, and the only real wait
is the one second of the ``Retry-After`` test.
"""

from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING

import pytest

from gitml.errors import EXIT_ERROR
from gitml.github.client import GitHubClient, GitHubError
from gitml.github.retry import MAX_RETRIES, default_retry
from gitml.github.statuses import create_commit_status

if TYPE_CHECKING:
    from pytest_httpserver import HTTPServer

TOKEN = "ghs_s3cretT0kenValue"
PULL = "/repos/acme/credit/pulls/9"
PULL_ANSWER = {
    "number": 9,
    "state": "open",
    "base": {"ref": "main"},
    "head": {"ref": "retrain/x", "sha": "a" * 40, "repo": {"full_name": "acme/credit"}},
}
SECONDARY = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes."}


@pytest.fixture
def client(httpserver: HTTPServer) -> GitHubClient:
    """A client of the local server that does not back off between retries."""
    return GitHubClient(
        TOKEN, api_url=httpserver.url_for("/"), retry=default_retry(backoff_factor=0)
    )


def _error(client: GitHubClient) -> GitHubError:
    with pytest.raises(GitHubError) as error:
        client.get_pull_request("acme/credit", 9)
    message = str(error.value)
    assert "\n" not in message
    assert TOKEN not in message
    return error.value


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_server_error_is_retried(
    httpserver: HTTPServer, client: GitHubClient, status: int
) -> None:
    httpserver.expect_ordered_request(PULL).respond_with_data("<html>oops</html>", status=status)
    httpserver.expect_ordered_request(PULL).respond_with_json(PULL_ANSWER)
    assert client.get_pull_request("acme/credit", 9).head_ref == "retrain/x"
    assert len(httpserver.log) == 2


def test_a_commit_status_is_sent_again_after_a_server_error(
    httpserver: HTTPServer, client: GitHubClient
) -> None:
    # POST is replayed: the same status twice is the same verdict (gitml.github.retry).
    path = f"/repos/acme/credit/statuses/{'a' * 40}"
    httpserver.expect_ordered_request(path, method="POST").respond_with_data("", status=502)
    httpserver.expect_ordered_request(
        path, method="POST", json={"state": "success", "context": "gitml/check", "description": ""}
    ).respond_with_json({"state": "success"}, status=201)
    create_commit_status(client, "acme/credit", "a" * 40, "success", "gitml/check", "")
    httpserver.check_assertions()
    assert len(httpserver.log) == 2


def test_a_method_not_known_to_be_safe_twice_is_not_replayed(
    httpserver: HTTPServer, client: GitHubClient
) -> None:
    httpserver.expect_request("/repos/acme/credit/issues/comments/1").respond_with_data(
        "", status=502
    )
    with pytest.raises(GitHubError, match=r"^GitHub API 502: BAD GATEWAY \(PATCH /repos/"):
        client.request("PATCH", "/repos/acme/credit/issues/comments/1", {"body": "x"})
    assert len(httpserver.log) == 1


def test_retries_run_out_with_a_one_line_error(
    httpserver: HTTPServer, client: GitHubClient
) -> None:
    httpserver.expect_request(PULL).respond_with_json({"message": "Server Error"}, status=502)
    error = _error(client)
    assert str(error) == (
        f"GitHub API 502: Server Error (GET {PULL}; gave up after {MAX_RETRIES} retries)"
    )
    assert (error.status, error.exit_code) == (502, EXIT_ERROR)
    assert len(httpserver.log) == MAX_RETRIES + 1


def test_a_secondary_rate_limit_is_waited_out(httpserver: HTTPServer, client: GitHubClient) -> None:
    httpserver.expect_ordered_request(PULL).respond_with_json(
        SECONDARY, status=403, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request(PULL).respond_with_json(PULL_ANSWER)
    started = time.monotonic()
    assert client.get_pull_request("acme/credit", 9).number == 9
    assert time.monotonic() - started >= 1  # GitHub's Retry-After, not the (zero) backoff
    assert len(httpserver.log) == 2


def test_a_rate_limited_dispatch_is_sent_again(
    httpserver: HTTPServer, client: GitHubClient
) -> None:
    # GitHub did not act on a rate-limited request, so even a POST is safe to resend.
    path = "/repos/acme/credit/actions/workflows/propose.yml/dispatches"
    httpserver.expect_ordered_request(path, method="POST").respond_with_json(
        SECONDARY, status=429, headers={"Retry-After": "0"}
    )
    httpserver.expect_ordered_request(path, method="POST").respond_with_data("", status=204)
    client.dispatch_workflow("acme/credit", "propose.yml", "main", {"pr": "9"})
    assert len(httpserver.log) == 2


def test_a_secondary_rate_limit_that_persists_gives_up(
    httpserver: HTTPServer, client: GitHubClient
) -> None:
    httpserver.expect_request(PULL).respond_with_json(
        SECONDARY, status=429, headers={"Retry-After": "0"}
    )
    assert str(_error(client)) == (
        f"GitHub API 429: {SECONDARY['message']} (GET {PULL}; a secondary rate limit: wait at "
        f"least a minute before running it again; gave up after {MAX_RETRIES} retries)"
    )
    assert len(httpserver.log) == MAX_RETRIES + 1


def test_a_wait_longer_than_the_cap_is_not_waited_for(
    httpserver: HTTPServer, client: GitHubClient
) -> None:
    httpserver.expect_request(PULL).respond_with_json(
        SECONDARY, status=403, headers={"Retry-After": "3600"}
    )
    started = time.monotonic()
    assert str(_error(client)) == (
        f"GitHub API 403: {SECONDARY['message']} (GET {PULL}; GitHub asks to wait 3600 s, "
        "longer than gitml waits (60 s); run it again later)"
    )
    assert time.monotonic() - started < 5
    assert len(httpserver.log) == 1


def test_a_secondary_rate_limit_without_retry_after_is_not_retried(
    httpserver: HTTPServer, client: GitHubClient
) -> None:
    httpserver.expect_request(PULL).respond_with_json(SECONDARY, status=403)
    assert "a secondary rate limit: wait at least a minute" in str(_error(client))
    assert len(httpserver.log) == 1


@pytest.mark.parametrize("retry_after", [None, "0"])
def test_the_primary_rate_limit_names_its_reset_and_is_not_retried(
    httpserver: HTTPServer, client: GitHubClient, retry_after: str | None
) -> None:
    headers = {"x-ratelimit-limit": "1000", "x-ratelimit-remaining": "0"}
    headers["x-ratelimit-reset"] = "1795000000"  # 2026-11-18 11:06:40 UTC
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    httpserver.expect_request(PULL).respond_with_json(
        {"message": "API rate limit exceeded for installation ID 1."}, status=403, headers=headers
    )
    error = _error(client)
    assert str(error) == (
        f"GitHub API 403: API rate limit exceeded for installation ID 1. (GET {PULL}; the API "
        "rate limit is used up until 2026-11-18 11:06:40 UTC; run it again then)"
    )
    assert error.status == 403
    assert len(httpserver.log) == 1


@pytest.mark.parametrize(
    ("status", "message", "advice"),
    [
        (401, "Bad credentials", "check GITHUB_TOKEN (or GH_TOKEN): it is missing, expired"),
        (404, "Not Found", "check OWNER/NAME; GitHub also answers 404 when the token cannot"),
        (
            403,
            "Resource not accessible by integration",
            "the token needs `permissions: pull-requests: read`",
        ),
    ],
)
def test_a_refusal_says_what_to_check_and_is_not_retried(
    httpserver: HTTPServer, client: GitHubClient, status: int, message: str, advice: str
) -> None:
    httpserver.expect_request(PULL).respond_with_json(
        {"message": message, "documentation_url": "https://docs.github.com/rest"}, status=status
    )
    text = str(_error(client))
    assert text.startswith(f"GitHub API {status}: {message} (GET {PULL}; {advice}")
    assert len(httpserver.log) == 1


def test_validation_details_are_kept_on_one_line(
    httpserver: HTTPServer, client: GitHubClient
) -> None:
    httpserver.expect_request("/repos/acme/credit/pulls", method="POST").respond_with_json(
        {
            "message": "Validation Failed",
            "errors": [{"code": "invalid", "field": "base"}, {"message": "No commits\nbetween"}],
        },
        status=422,
    )
    with pytest.raises(GitHubError) as error:
        client.create_pull_request("acme/credit", "x", "y", "T", "B")
    assert str(error.value) == (
        "GitHub API 422: Validation Failed: invalid; No commits between "
        "(POST /repos/acme/credit/pulls)"
    )


def test_no_answer_names_the_server_not_the_token(httpserver: HTTPServer) -> None:
    with socket.socket() as probe:  # a port nothing listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = GitHubClient(
        TOKEN, api_url=f"http://127.0.0.1:{port}", retry=default_retry(backoff_factor=0)
    )
    error = _error(client)
    assert str(error).startswith(f"GitHub API GET {PULL}: no answer from http://127.0.0.1:{port} (")
    assert "Connection refused" in str(error)
    assert error.status is None


def test_the_cli_reports_a_refusal_in_one_line_with_its_exit_code(
    httpserver: HTTPServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitml.cli.main import main

    path = f"/repos/acme/credit/statuses/{'b' * 40}"
    httpserver.expect_request(path, method="POST").respond_with_json(
        {"message": "Bad credentials"}, status=401
    )
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_API_URL", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/credit")
    assert main(["commit-status", "--sha", "b" * 40, "--state", "success"]) == EXIT_ERROR
    captured = capsys.readouterr()
    assert captured.err == (
        f"gitml: error: GitHub API 401: Bad credentials (POST {path}; check GITHUB_TOKEN "
        "(or GH_TOKEN): it is missing, expired or revoked)\n"
    )
    assert TOKEN not in captured.out + captured.err
    assert len(httpserver.log) == 1

"""Resolving a dispatched pull request: GitHub's answer decides what a trusted run builds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from gitml.errors import UsageError, VerificationError
from gitml.github.answers import PullRequestHead
from gitml.github.client import API_VERSION, GitHubClient
from gitml.github.pulls import judge, resolve

if TYPE_CHECKING:
    from pytest_httpserver import HTTPServer

REVIEWED = "a" * 40
MOVED = "b" * 40


def _pull(**changes: object) -> PullRequestHead:
    fields: dict[str, object] = {
        "number": 9,
        "state": "open",
        "base": "main",
        "head_ref": "retrain/2026-11-24",
        "head_sha": REVIEWED,
        "head_repository": "acme/credit",
    }
    fields.update(changes)
    return PullRequestHead(**fields)  # type: ignore[arg-type]


def test_a_same_repository_pull_request_checks_out_its_branch() -> None:
    resolved = judge(_pull(), "Acme/Credit", None)  # owner and name compare case-blind
    assert (resolved.fork, resolved.checkout, resolved.base) == (
        False,
        "retrain/2026-11-24",
        "main",
    )
    assert resolved.outputs()["fork"] == "false"


def test_a_fork_builds_only_the_reviewed_head() -> None:
    fork = _pull(head_repository="someone/credit")
    resolved = judge(fork, "acme/credit", REVIEWED)
    assert (resolved.fork, resolved.checkout) == (True, "refs/pull/9/head")
    with pytest.raises(UsageError, match="comes from the fork someone/credit: give the head"):
        judge(fork, "acme/credit", None)
    with pytest.raises(VerificationError, match=r"its head moved to aaaaaaaaaaaa since bbbb"):
        judge(fork, "acme/credit", MOVED)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"state": "closed"}, "pull request #9 is closed: nothing to build"),
        ({"head_repository": None}, "its head repository was deleted"),
        ({"head_ref": "evil\nbranch"}, "unprintable branch or repository"),
    ],
)
def test_what_cannot_be_built_is_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(VerificationError, match=message):
        judge(_pull(**changes), "acme/credit", None)


def test_resolve_asks_github_for_the_pull_request(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(
        "/repos/acme/credit/pulls/9",
        method="GET",
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": "Bearer t0ken",
            "X-GitHub-Api-Version": API_VERSION,
        },
    ).respond_with_json(
        {
            "number": 9,
            "state": "open",
            "base": {"ref": "staging"},
            "head": {"ref": "promote/credit-v0.2.0", "sha": REVIEWED, "repo": None},
        }
    )
    client = GitHubClient("t0ken", api_url=httpserver.url_for("/"))
    with pytest.raises(VerificationError, match="head repository was deleted"):
        resolve(client, "acme/credit", 9)
    httpserver.check_assertions()
    with pytest.raises(UsageError, match="--expect-sha 'abc': expected a full 40-hex"):
        resolve(client, "acme/credit", 9, expect_sha="abc")


@pytest.mark.parametrize(
    "argv", [["pull-request", "9"], ["commit-status", "--sha", "a" * 40, "--exit-code", "0"]]
)
def test_github_commands_say_what_they_need(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitml.cli.main import main
    from gitml.errors import EXIT_USAGE

    for name in ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(name, raising=False)
    assert main(argv) == EXIT_USAGE
    assert capsys.readouterr().err == (
        f"gitml: error: {argv[0]} needs GITHUB_TOKEN and GITHUB_REPOSITORY (or --repository)\n"
    )

"""Approvals as a gate, against a local server that answers as GitHub's review API does.

The server checks what gitml sends (the documented headers, ``per_page``/``page``) and
answers with the documented objects: a pull request's ``user``, and reviews with
``user.login``, ``state``, ``submitted_at`` and ``commit_id``, in chronological order.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from gitml import api
from gitml.errors import UsageError
from gitml.gates import judge_approvals as judge_on_github
from gitml.github.client import API_VERSION, GitHubClient
from gitml.github.errors import GitHubError
from gitml.github.reviews import (
    PER_PAGE,
    Expected,
    NotThisPullRequest,
    PullRequestReviews,
    ReviewSource,
    read_reviews,
)
from gitml.github.run_url import run_url_from_environment
from gitml.policy.approvals import ApprovalResult, judge_approvals
from gitml.policy.evaluate import approval_row
from gitml.policy.model import ApprovalRule, Policy
from gitml.registry.record import parse_record
from tests.helpers import git, gitml
from tests.registry_flow import merge_pull_request

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from pytest_httpserver import HTTPServer

    from tests.conftest import Clock

REPOSITORY = "acme/credit"
HEADERS = {
    "Accept": "application/vnd.github+json",
    "Authorization": "Bearer t0ken",
    "X-GitHub-Api-Version": API_VERSION,
}
HEAD_SHA = "ecdd80bb57125d7ba9641ffaa4d7d2c19d3f3091"


def review(login: str | None, state: str, number: int = 0) -> dict[str, Any]:
    """A review object as GitHub documents it (PENDING ones are not submitted yet)."""
    return {
        "id": 80 + number,
        "node_id": f"MDE3OlB1bGxSZXF1ZXN0UmV2aWV3{number}",
        "user": None if login is None else {"login": login, "id": 1000 + number, "type": "User"},
        "body": "",
        "state": state,
        "html_url": f"https://github.com/acme/credit/pull/12#pullrequestreview-{80 + number}",
        "pull_request_url": "https://api.github.com/repos/acme/credit/pulls/12",
        "author_association": "MEMBER",
        "submitted_at": None if state == "PENDING" else f"2026-01-01T00:{number % 60:02d}:00Z",
        "commit_id": HEAD_SHA,
    }


def serve_pull(
    server: HTTPServer,
    number: int,
    author: str,
    reviews: Sequence[tuple[str | None, str]],
    *,
    into: str = "staging",
    head: str = HEAD_SHA,
    merged_as: str | None = None,
) -> None:
    """``GET /pulls/N`` (into branch ``into``, head commit ``head``, merge commit
    ``merged_as``) and its reviews, a page of :data:`PER_PAGE` at a time."""
    base = f"/repos/{REPOSITORY}/pulls/{number}"
    server.expect_request(base, method="GET", headers=HEADERS).respond_with_json(
        {
            "number": number,
            "state": "closed" if merged_as else "open",
            "merged": merged_as is not None,
            "merge_commit_sha": merged_as,
            "user": {"login": author, "id": 7, "type": "User"},
            "head": {"sha": head, "ref": "promote/credit-v0.2.0-to-staging"},
            "base": {"ref": into, "sha": "0" * 40},
        }
    )
    objects = [review(login, state, i) for i, (login, state) in enumerate(reviews)]
    pages = [objects[i : i + PER_PAGE] for i in range(0, len(objects), PER_PAGE)]
    if not pages or len(pages[-1]) == PER_PAGE:
        pages.append([])  # GitHub answers a page past the end with an empty list
    for page, items in enumerate(pages, start=1):
        server.expect_request(
            f"{base}/reviews",
            method="GET",
            headers=HEADERS,
            query_string={"per_page": str(PER_PAGE), "page": str(page)},
        ).respond_with_json(items)


def serve_team(server: HTTPServer, team: str, memberships: dict[str, str]) -> None:
    """A team and its members' memberships (``active`` or ``pending``); anyone else: 404."""
    org, slug = team.split("/")
    path = f"/orgs/{org}/teams/{slug}"
    server.expect_request(path, method="GET", headers=HEADERS).respond_with_json(
        {"id": 1, "slug": slug, "name": slug, "privacy": "closed"}
    )
    for login, state in memberships.items():
        server.expect_request(f"{path}/memberships/{login}", headers=HEADERS).respond_with_json(
            {
                "url": f"https://api.github.com{path}/memberships/{login}",
                "role": "member",
                "state": state,
            }
        )
    server.expect_request(re.compile(f"{re.escape(path)}/memberships/.*")).respond_with_json(
        {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, status=404
    )


def client_for(server: HTTPServer) -> GitHubClient:
    return GitHubClient("t0ken", api_url=server.url_for("/"))


def standing(server: HTTPServer, reviews: list[tuple[str | None, str]]) -> PullRequestReviews:
    serve_pull(server, 12, "ada", reviews)
    return read_reviews(client_for(server), REPOSITORY, 12)


@pytest.mark.parametrize(
    ("reviews", "approvers", "changes_requested"),
    [
        pytest.param([("bob", "APPROVED")], ("bob",), (), id="approved"),
        pytest.param(
            [("bob", "APPROVED"), ("bob", "CHANGES_REQUESTED")],
            (),
            ("bob",),
            id="changes-requested-after-approval",
        ),
        pytest.param(
            [("bob", "CHANGES_REQUESTED"), ("bob", "APPROVED")],
            ("bob",),
            (),
            id="approval-after-changes-requested",
        ),
        # A dismissed review is listed with the state DISMISSED in its original place.
        pytest.param([("bob", "DISMISSED")], (), (), id="dismissed"),
        pytest.param(
            [("bob", "DISMISSED"), ("bob", "APPROVED")], ("bob",), (), id="approved-again"
        ),
        pytest.param(
            [("carol", "CHANGES_REQUESTED"), ("carol", "DISMISSED")],
            (),
            (),
            id="dismissed-request-for-changes",
        ),
        pytest.param(
            [("bob", "APPROVED"), ("bob", "COMMENTED")], ("bob",), (), id="commented-after-approval"
        ),
        pytest.param(
            [("carol", "CHANGES_REQUESTED"), ("carol", "COMMENTED")],
            (),
            ("carol",),
            id="commented-after-changes-requested",
        ),
        pytest.param([("bob", "COMMENTED")], (), (), id="only-commented"),
        pytest.param([("bob", "PENDING")], (), (), id="pending-draft"),
        pytest.param(
            [("ada", "APPROVED"), ("Ada", "APPROVED"), ("bob", "APPROVED")],
            ("bob",),
            (),
            id="author-self-approval",
        ),
        pytest.param([(None, "APPROVED")], (), (), id="deleted-account"),
        pytest.param(
            [("Bob", "APPROVED"), ("bob", "CHANGES_REQUESTED"), ("dave", "APPROVED")],
            ("dave",),
            ("bob",),
            id="logins-in-any-case",
        ),
    ],
)
def test_latest_deciding_review_per_reviewer(
    httpserver: HTTPServer,
    reviews: list[tuple[str | None, str]],
    approvers: tuple[str, ...],
    changes_requested: tuple[str, ...],
) -> None:
    found = standing(httpserver, reviews)
    assert (found.number, found.author) == (12, "ada")
    assert (found.approvers, found.changes_requested) == (approvers, changes_requested)


def test_reviews_are_read_across_pages(httpserver: HTTPServer) -> None:
    # 100 comments fill the first page; the approvals and a late dismissal are on the second.
    reviews: list[tuple[str | None, str]] = [(f"user{i}", "COMMENTED") for i in range(PER_PAGE)]
    reviews += [("bob", "APPROVED"), ("carol", "APPROVED"), ("user3", "APPROVED")]
    reviews += [("carol", "DISMISSED")]
    found = standing(httpserver, reviews)
    assert found.approvers == ("bob", "user3")
    pages = [r.args.get("page") for r, _ in httpserver.log if r.path.endswith("/reviews")]
    assert pages == ["1", "2"]


def test_exactly_a_full_page_asks_for_the_next(httpserver: HTTPServer) -> None:
    found = standing(httpserver, [(f"user{i}", "APPROVED") for i in range(PER_PAGE)])
    assert len(found.approvers) == PER_PAGE
    pages = [r.args.get("page") for r, _ in httpserver.log if r.path.endswith("/reviews")]
    assert pages == ["1", "2"]


@pytest.mark.parametrize(
    "login",
    [
        "bob\n::error::forged",
        "../../orgs/acme",
        "bob smith",
        "bob%2F..",
        "-bob",
        "b" * 101,
        "bob\x1b]8;;https://evil.example\x07",
        "",
    ],
)
def test_hostile_review_logins_are_refused_in_one_line(httpserver: HTTPServer, login: str) -> None:
    serve_pull(httpserver, 12, "ada", [("bob", "APPROVED"), (login, "APPROVED")])
    with pytest.raises(GitHubError) as error:
        read_reviews(client_for(httpserver), REPOSITORY, 12)
    message = str(error.value)
    assert "is not a GitHub login" in message
    assert message.isprintable()
    assert len(message) < 300
    assert message.startswith("GitHub API GET /repos/acme/credit/pulls/12/reviews?page=1:")


def test_a_hostile_author_or_state_is_refused(httpserver: HTTPServer) -> None:
    serve_pull(httpserver, 12, "ada/../x", [("bob", "APPROVED")])
    with pytest.raises(GitHubError, match=r"'ada/\.\./x' is not a GitHub login"):
        read_reviews(client_for(httpserver), REPOSITORY, 12)
    httpserver.clear()
    serve_pull(httpserver, 12, "ada", [("bob", "APPROVED_BY_ADMIN")])
    with pytest.raises(GitHubError, match="review state 'APPROVED_BY_ADMIN'"):
        read_reviews(client_for(httpserver), REPOSITORY, 12)


def test_pull_request_numbers_and_repositories_are_checked_before_sending(
    httpserver: HTTPServer,
) -> None:
    client = client_for(httpserver)
    for number in (0, -1, True):
        with pytest.raises(UsageError, match="expected a positive integer"):
            read_reviews(client, REPOSITORY, number)
    with pytest.raises(UsageError, match="expected OWNER/NAME"):
        read_reviews(client, "acme/../x", 1)
    assert not httpserver.log


def test_team_membership_counts_only_active_members(httpserver: HTTPServer) -> None:
    serve_pull(
        httpserver,
        12,
        "ada",
        [("bob", "APPROVED"), ("erin", "APPROVED"), ("frank", "APPROVED"), ("dave", "APPROVED")],
    )
    serve_team(httpserver, "acme/ml-leads", {"bob": "active", "erin": "pending"})
    source = ReviewSource(12, REPOSITORY, client_for(httpserver))
    policy = Policy(approvals=ApprovalRule(min=2, reviewers=("acme/ml-leads", "Dave")))
    result = judge_on_github(policy, source)
    assert isinstance(result, ApprovalResult)
    # bob: active member; dave: named by login (any case); erin: invited, not yet a member;
    # frank: not a member (404).
    assert result.counted == ("bob", "dave")
    assert result.not_counted == ("erin", "frank")
    assert result.passed
    asked = sorted(r.path for r, _ in httpserver.log if "/memberships/" in r.path)
    assert asked == [f"/orgs/acme/teams/ml-leads/memberships/{u}" for u in ("bob", "erin", "frank")]
    # Asked once: judging a second model's gate reads nothing again.
    count = len(httpserver.log)
    judge_on_github(policy, source)
    assert len(httpserver.log) == count


def test_a_team_the_token_cannot_see_names_the_permission(httpserver: HTTPServer) -> None:
    serve_pull(httpserver, 12, "ada", [("bob", "APPROVED")])
    httpserver.expect_request("/orgs/acme/teams/ml-leads").respond_with_json(
        {"message": "Not Found"}, status=404
    )
    source = ReviewSource(12, REPOSITORY, client_for(httpserver))
    policy = Policy(approvals=ApprovalRule(min=1, reviewers=("acme/ml-leads",)))
    with pytest.raises(GitHubError) as error:
        judge_on_github(policy, source)
    message = str(error.value)
    assert message == (
        "approvals from team acme/ml-leads: GitHub answered 404 to GET /orgs/acme/teams/"
        "ml-leads: no such team, or the token cannot see it; check the team's slug, and that "
        "the token has the "
        "organization permission `members: read`, which a workflow's GITHUB_TOKEN cannot "
        "have: give a token scoped to the organization (a GitHub App's, or a fine-grained "
        "personal token)"
    )
    httpserver.clear()
    serve_pull(httpserver, 12, "ada", [("bob", "APPROVED")])
    httpserver.expect_request("/orgs/acme/teams/ml-leads").respond_with_json({"slug": "ml-leads"})
    httpserver.expect_request("/orgs/acme/teams/ml-leads/memberships/bob").respond_with_json(
        {"message": "Resource not accessible by integration"}, status=403
    )
    with pytest.raises(GitHubError, match=r"reading memberships needs the organization"):
        judge_on_github(policy, ReviewSource(12, REPOSITORY, client_for(httpserver)))


def reviews_of(
    approvers: tuple[str, ...], requested: tuple[str, ...] = (), author: str = "ada"
) -> PullRequestReviews:
    return PullRequestReviews(12, author, approvers, requested)


def test_the_rule_names_who_counted_and_what_is_missing() -> None:
    rule = ApprovalRule(min=2, reviewers=("acme/ml-leads", "alice"))
    members = {"acme/ml-leads": frozenset({"bob", "carol"})}
    result = judge_approvals(rule, reviews_of(("bob", "dave"), ("carol",)), members)
    assert result.explain() == (
        "needs 2 approvals from acme/ml-leads or alice; has 1 (bob); changes requested by "
        "carol; not counted (not in from): dave"
    )
    assert not result.passed
    row = approval_row(rule, result)
    assert (row.rule, row.status) == ("approvals of #12", "fail")
    assert row.limit == "2 approvals from acme/ml-leads or alice, none of them requesting changes"
    # Enough approvals, but a counted reviewer objects: still blocked.
    blocked = judge_approvals(rule, reviews_of(("alice", "bob"), ("carol",)), members)
    assert (blocked.counted, blocked.blocking, blocked.passed) == (
        ("alice", "bob"),
        ("carol",),
        False,
    )
    # An objection from outside `from` is named but does not block.
    outside = judge_approvals(rule, reviews_of(("alice", "bob"), ("zed",)), members)
    assert outside.passed
    assert outside.observed == "has 2 (alice, bob); changes requested outside from: zed"
    # No `from`: anyone but the author counts, and anyone's request for changes blocks.
    anyone = ApprovalRule(min=1)
    assert judge_approvals(anyone, reviews_of(("zed",)), {}).passed
    assert not judge_approvals(anyone, reviews_of(("zed",), ("yan",)), {}).passed
    assert not judge_approvals(anyone, reviews_of(("ada",), author="ada"), {}).passed
    assert judge_approvals(anyone, reviews_of(()), {}).explain() == "needs 1 approval; has 0"


def test_a_rule_that_is_not_judged_fails_and_says_why() -> None:
    rule = ApprovalRule(min=1, reviewers=("alice",))
    row = approval_row(rule, None)
    assert row.to_dict() == {
        "rule": "approvals",
        "observed": "not evaluated: needs --pull-request",
        "limit": "1 approval from alice",
        "status": "fail",
    }
    assert approval_row(rule, None, "warn").status == "warn"


def test_missing_token_or_repository_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(UsageError) as error:
        ReviewSource(12, REPOSITORY).reviews()
    assert str(error.value) == (
        "reading the approvals of pull request #12 needs GITHUB_TOKEN "
        "(a token with `pull-requests: read`)"
    )
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    with pytest.raises(UsageError, match="needs --repository OWNER/NAME or GITHUB_REPOSITORY"):
        ReviewSource(12).reviews()


def test_run_url_from_the_environment() -> None:
    env = {
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/credit",
        "GITHUB_RUN_ID": "1234567",
    }
    assert run_url_from_environment(env) == "https://github.com/acme/credit/actions/runs/1234567"
    assert run_url_from_environment({**env, "GITHUB_RUN_ID": ""}) is None
    assert run_url_from_environment({}) is None
    bad = {
        "GITHUB_SERVER_URL": "javascript:alert(1)",
        "GITHUB_RUN_ID": "12 34",
        "GITHUB_REPOSITORY": "acme/../x",
    }
    for name, value in bad.items():
        with pytest.raises(UsageError, match=f"^{name} "):
            run_url_from_environment({**env, name: value})


# -- on real repositories: gitml check and promote --on-push --------------------------------


def require_approvals(repo: Path, stage: str, rule: dict[str, object]) -> None:
    """Add an approvals rule to ``stage``'s gate and commit it on main."""
    path = repo / "gitml.yaml"
    config = yaml.safe_load(path.read_text())
    config["gates"][stage]["approvals"] = rule
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    git(repo, "commit", "-qam", f"Require approvals for {stage}")
    git(repo, "push", "-q", "origin", "main")


def github_environment(monkeypatch: pytest.MonkeyPatch, server: HTTPServer) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    monkeypatch.setenv("GITHUB_API_URL", server.url_for("/").rstrip("/"))
    monkeypatch.setenv("GITHUB_REPOSITORY", REPOSITORY)
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_RUN_ID", "987654321")


@pytest.mark.slow
def test_check_fails_naming_the_missing_approvals(
    origin_repo: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = origin_repo
    require_approvals(repo, "staging", {"min": 2, "from": ["alice", "acme/ml-leads"]})
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(name, raising=False)
    # Without --pull-request the rule is not evaluated, and the gate fails.
    unjudged = gitml(repo, "check", "--stage", "staging", "--format", "json", check=False)
    assert unjudged.returncode == 3
    rows = json.loads(unjudged.stdout)["gates"][0]["rules"]
    assert rows[-1] == {
        "rule": "approvals",
        "observed": "not evaluated: needs --pull-request",
        "limit": "2 approvals from alice or acme/ml-leads",
        "status": "fail",
    }
    # The report reads no reviews: there the rule only warns (the check judges it).
    report = api.report("HEAD", root=repo, stage="staging", rescore=False)
    assert report.gate.status == "warned"
    from gitml.report.markdown import render

    warning = "credit: approvals: not evaluated: needs --pull-request (limit 2 approvals from"
    assert any(line.startswith(f"- ⚠️ {warning}") for line in render(report).splitlines()), (
        "the comment says why the gate only passed with warnings"
    )
    # With it but without a token: a one-line usage error naming GITHUB_TOKEN.
    no_token = gitml(repo, "check", "--stage", "staging", "--pull-request", "12", check=False)
    assert no_token.returncode == 2
    assert no_token.stderr.strip().splitlines() == [
        "gitml: error: reading the approvals of pull request #12 needs GITHUB_TOKEN "
        "(a token with `pull-requests: read`)"
    ]
    github_environment(monkeypatch, httpserver)
    serve_pull(
        httpserver,
        12,
        "ada",
        [("bob", "APPROVED"), ("carol", "CHANGES_REQUESTED"), ("dave", "APPROVED")],
    )
    serve_team(httpserver, "acme/ml-leads", {"bob": "active", "carol": "active"})
    args = ("check", "--stage", "staging", "--pull-request", "12", "--format", "json")
    failed = gitml(repo, *args, check=False)
    assert failed.returncode == 3, failed.stderr
    assert json.loads(failed.stdout)["gates"][0]["rules"][-1] == {
        "rule": "approvals of #12",
        "observed": "has 1 (bob); changes requested by carol; not counted (not in from): dave",
        "limit": "2 approvals from alice or acme/ml-leads, none of them requesting changes",
        "status": "fail",
    }


@pytest.mark.slow
def test_promotion_record_carries_approvers_author_and_run(
    origin_repo: Path, clock: Clock, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = origin_repo
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(name, raising=False)
    # Without deploy: the first promotion creates the stage branch at main's merge of
    # pull request #3 itself (with it, at a commit adding the rendered stage, which
    # merged no pull request: tests/test_deploy_loop.py).
    config = (repo / "gitml.yaml").read_text()
    (repo / "gitml.yaml").write_text(config[: config.index("\n# How each stage runs")] + "\n")
    require_approvals(repo, "staging", {"min": 1, "from": ["alice", "acme/ml-leads"]})
    clock.tick()
    # The registered version's commit carries the rule (a first promotion is judged by it).
    merge_pull_request(repo, 3, "leaves", ("train", "hist_gradient_boosting.max_leaf_nodes", 8))
    clock.tick()
    api.register(root=repo, push=True)
    clock.tick()
    api.promote("credit", "staging", root=repo, push=True)  # the stage branch, at the merge
    staging = git(repo, "rev-parse", "origin/staging").stdout.strip()
    clock.tick()
    # The tip is main's merge of pull request #3, but no token can read reviews: one line.
    no_token = gitml(repo, "promote", "--on-push", "staging", check=False)
    assert no_token.returncode == 2
    assert no_token.stderr.strip().splitlines() == [
        "gitml: error: reading the approvals of pull request #3 needs GITHUB_TOKEN "
        "(a token with `pull-requests: read`)"
    ]
    github_environment(monkeypatch, httpserver)
    serve_team(httpserver, "acme/ml-leads", {"bob": "active"})
    # Pull request #3 went into main: its approvals do not promote anything to staging.
    serve_pull(httpserver, 3, "ada", [("bob", "APPROVED")], into="main", merged_as=staging)
    (borrowed,) = api.promote_on_push("staging", root=repo, dry_run=True)
    assert (borrowed.status, borrowed.exit_code) == ("refused", 3)
    assert borrowed.reason == (
        "gate staging failed: approvals: not evaluated: pull request #3 goes into main, not "
        "staging: its reviews are not this promotion's (limit 1 approval from alice or "
        "acme/ml-leads)"
    )
    # A pull request into staging, approved by a member of the team.
    git(repo, "checkout", "-q", "-b", "promote/by-pr", "origin/staging")
    git(repo, "commit", "-q", "--allow-empty", "-m", "Promote credit v0.1.0 to staging")
    head = git(repo, "rev-parse", "HEAD").stdout.strip()
    git(repo, "checkout", "-q", "main")
    reviews = [("ada", "APPROVED"), ("bob", "APPROVED"), ("zed", "COMMENTED")]
    serve_pull(httpserver, 5, "ada", reviews, head=head)
    # A tip that merged no pull request: nobody approved it.
    (unknown,) = api.promote_on_push("staging", root=repo, dry_run=True, tip="promote/by-pr")
    assert unknown.reason.startswith(
        "gate staging failed: approvals: not evaluated: no pull request: the branch tip is "
        "no merge of one (give --pull-request)"
    )
    # The pull request's own check: its head, given its number, passes.
    dry = gitml(
        repo, "promote", "--on-push", "staging", "--dry-run", "--tip", "promote/by-pr",
        "--pull-request", "5", "--format", "json",
    ).stdout  # fmt: skip
    assert json.loads(dry)[0]["status"] == "would-record"
    # The merge, as GitHub's button makes it; the record then names who approved.
    clock.tick()
    git(repo, "checkout", "-q", "-B", "staging", "origin/staging")
    git(repo, "merge", "-q", "--no-ff", "promote/by-pr", "-m", "Merge pull request #5 from x/y")
    git(repo, "push", "-q", "origin", "staging")
    merged = git(repo, "rev-parse", "HEAD").stdout.strip()
    git(repo, "checkout", "-q", "main")
    httpserver.clear()
    serve_team(httpserver, "acme/ml-leads", {"bob": "active"})
    serve_pull(httpserver, 5, "ada", reviews, head=head, merged_as=merged)
    (outcome,) = api.promote_on_push("staging", root=repo)
    assert (outcome.status, outcome.tag) == ("recorded", "credit#staging#1")
    message = git(repo, "tag", "-l", "--format=%(contents)", "credit#staging#1").stdout
    record = parse_record(message)
    assert record is not None
    assert (record.pull_request, record.author, record.approvers) == (5, "ada", ("bob",))
    assert record.run_url == "https://github.com/acme/credit/actions/runs/987654321"
    assert "credit#staging#1" in git(repo, "ls-remote", "--tags", "origin").stdout


def test_team_and_login_path_values_are_checked() -> None:
    from gitml.github import paths

    assert paths.team("acme/ml-leads") == "/orgs/acme/teams/ml-leads"
    assert paths.login("bob-1") == "bob-1"
    for team in ("acme/..", "acme/.", "acme/ml/leads", "acme", "../x", "acme/a%2Fb", "/x"):
        with pytest.raises(UsageError, match="expected ORG/TEAM"):
            paths.team(team)
    for login in ("../x", "bob smith", "dependabot[bot]", "", "-bob"):
        with pytest.raises(UsageError, match="expected a GitHub login"):
            paths.login(login)


def test_a_pull_request_counts_only_for_the_commit_and_branch_it_merges(
    httpserver: HTTPServer,
) -> None:
    other = "1" * 40
    serve_pull(httpserver, 12, "ada", [("bob", "APPROVED")], head=HEAD_SHA, merged_as=other)
    client = client_for(httpserver)
    for commit in (HEAD_SHA, other):  # its head before the merge, or its merge commit
        source = ReviewSource(12, REPOSITORY, client, Expected(commit, "staging"))
        assert source.reviews().approvers == ("bob",)
    with pytest.raises(NotThisPullRequest, match="goes into staging, not production"):
        ReviewSource(12, REPOSITORY, client, Expected(HEAD_SHA, "production")).reviews()
    with pytest.raises(NotThisPullRequest, match=r"neither has 222222222222 as its head"):
        ReviewSource(12, REPOSITORY, client, Expected("2" * 40, "staging")).reviews()

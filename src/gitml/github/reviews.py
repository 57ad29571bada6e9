"""Who approved a pull request, read through GitHub's REST API.

``GET /repos/{owner}/{repo}/pulls/{number}`` names the author and
``GET .../pulls/{number}/reviews`` lists every review in chronological order, a page at a
time. Each reviewer's state is decided as GitHub decides it for branch protection:

* the reviewer's latest review that approves or requests changes decides; a ``COMMENTED``
  review does not override an earlier approval or request for changes;
* a dismissed review is listed with state ``DISMISSED``: when it is the reviewer's latest
  deciding review, the reviewer neither approves nor requests changes any more;
* a ``PENDING`` review is a draft only its author sees: ignored;
* the author's own reviews never count (GitHub does not let an author approve, but the
  API is not where gitml takes that on trust).

A promotion judges the pull request that put its commit on the stage branch, so a
:class:`ReviewSource` given an :class:`Expected` target checks that the pull request goes
into that branch and that the commit is its head or its merge commit: a direct push whose
subject names an approved pull request (or a main merge the stage branch was created at)
borrows no approvals.

Team membership (``from: [org/team]`` in a gate) is read with
``GET /orgs/{org}/teams/{team_slug}/memberships/{username}``: an ``active`` membership
counts, a ``pending`` invitation does not, and 404 means "not a member". Reading teams
needs the organization permission ``members: read``, which a workflow's GITHUB_TOKEN cannot
have: errors say so.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitml.errors import UsageError, VerificationError
from gitml.github import paths
from gitml.github.answers import answer_field, one_line
from gitml.github.errors import GitHubError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from gitml.github.client import GitHubClient

PER_PAGE = 100
# 50 pages of 100 reviews: far beyond any real pull request. Past it gitml refuses to
# judge rather than decide on a partial list, where a later dismissal could be missing.
MAX_PAGES = 50
STATES = frozenset({"APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"})
# The states that change where a reviewer stands (COMMENTED and PENDING do not).
_DECIDING = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})
# A GitHub login, or an app's ``name[bot]``: the shape a registry record accepts.
_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,98}[A-Za-z0-9])?(?:\[bot\])?")
_READ_PULLS = "pull-requests: read"
MEMBERS_PERMISSION = (
    "the organization permission `members: read`, which a workflow's GITHUB_TOKEN cannot "
    "have: give a token scoped to the organization (a GitHub App's, or a fine-grained "
    "personal token)"
)


@dataclass(frozen=True)
class Review:
    """One review as GitHub lists it: who, and the state it has now."""

    login: str
    state: str


@dataclass(frozen=True)
class PullRequestReviews:
    """Where each reviewer of one pull request stands."""

    number: int
    author: str  # the pull request's user.login
    approvers: tuple[str, ...]  # sorted; latest deciding review APPROVED, author excluded
    changes_requested: tuple[str, ...]  # sorted; latest deciding review CHANGES_REQUESTED
    # Where the pull request goes and what it merged (None when not read from GitHub).
    base: str | None = None
    head_sha: str | None = None
    merge_commit_sha: str | None = None  # set once merged


@dataclass(frozen=True)
class Expected:
    """The commit a promotion judges and the branch it is on (or would be merged into)."""

    commit: str
    branch: str


class NotThisPullRequest(VerificationError):
    """The pull request named does not put the judged commit on the stage branch."""


def check_target(reviews: PullRequestReviews, expected: Expected) -> None:
    """Raise NotThisPullRequest unless the pull request goes into ``expected.branch`` and
    ``expected.commit`` is its head (before the merge, or a fast-forward) or its merge
    commit (a merge or squash commit GitHub made on the branch)."""
    number = reviews.number
    if reviews.base != expected.branch:
        raise NotThisPullRequest(
            f"pull request #{number} goes into {one_line(str(reviews.base)[:200])}, not "
            f"{expected.branch}: "
            "its reviews are not this promotion's"
        )
    if expected.commit not in (reviews.head_sha, reviews.merge_commit_sha):
        raise NotThisPullRequest(
            f"pull request #{number} neither has {expected.commit[:12]} as its head nor "
            "merged as it: its reviews are not this promotion's"
        )


def decide(number: int, author: str, reviews: Iterable[Review]) -> PullRequestReviews:
    """Each reviewer's standing from their reviews in chronological order (see module doc)."""
    latest: dict[str, tuple[str, str]] = {}  # casefolded login -> (login, deciding state)
    for review in reviews:
        if review.state not in _DECIDING or same_login(review.login, author):
            continue
        latest[review.login.casefold()] = (review.login, review.state)
    approvers = sorted(login for login, state in latest.values() if state == "APPROVED")
    requested = sorted(login for login, state in latest.values() if state == "CHANGES_REQUESTED")
    return PullRequestReviews(number, author, tuple(approvers), tuple(requested))


def same_login(one: str, other: str) -> bool:
    """GitHub logins name one account whatever their case."""
    return one.casefold() == other.casefold()


def read_reviews(client: GitHubClient, repository: str, number: int) -> PullRequestReviews:
    """The author and each reviewer's standing on pull request ``number`` of ``repository``."""
    pull_path = f"{paths.repository(repository)}/pulls/{paths.pull_number(number)}"
    pull = client.request("GET", pull_path, permission=_READ_PULLS, expect=dict)
    where = f"GET {pull_path}"
    author = _login(answer_field(pull, "user.login", str, where), where)
    base: str = answer_field(pull, "base.ref", str, where)
    head_sha: str = answer_field(pull, "head.sha", str, where)
    merged_as = answer_field(pull, "merge_commit_sha", (str, type(None)), where)
    if pull.get("merged") is not True:
        merged_as = None  # an open pull request's is only GitHub's test merge
    reviews: list[Review] = []
    for page in range(1, MAX_PAGES + 1):
        answer = client.request(
            "GET",
            f"{pull_path}/reviews",
            query={"per_page": str(PER_PAGE), "page": str(page)},
            permission=_READ_PULLS,
            expect=list,
        )
        where = f"GET {pull_path}/reviews?page={page}"
        reviews += [r for item in answer if (r := _review(item, where)) is not None]
        if len(answer) < PER_PAGE:
            decided = decide(number, author, reviews)
            return PullRequestReviews(
                number,
                author,
                decided.approvers,
                decided.changes_requested,
                base=base,
                head_sha=head_sha,
                merge_commit_sha=merged_as,
            )
    raise GitHubError(
        f"GitHub API GET {pull_path}/reviews: more than {MAX_PAGES * PER_PAGE} reviews; "
        "not judged on a partial list"
    )


def _review(item: Any, where: str) -> Review | None:
    """One review of a page; None for a review whose author's account is gone (``user``
    null: nobody whose approval could count)."""
    if not isinstance(item, dict):
        raise GitHubError(f"GitHub API {where}: unexpected answer: a review is not an object")
    state = answer_field(item, "state", str, where)
    if state not in STATES:
        raise GitHubError(
            f"GitHub API {where}: unexpected answer: review state {one_line(repr(state[:40]))} "
            f"(expected one of {', '.join(sorted(STATES))})"
        )
    if item.get("user") is None:
        return None
    return Review(_login(answer_field(item, "user.login", str, where), where), state)


def _login(value: str, where: str) -> str:
    """A login from GitHub's answer, refused unless it has a login's shape: it is shown in
    messages, written into registry records and put into membership URLs."""
    if not _LOGIN.fullmatch(value):
        raise GitHubError(
            f"GitHub API {where}: unexpected answer: {one_line(repr(value[:60]))} is not a "
            "GitHub login"
        )
    return value


def team_members(client: GitHubClient, team: str, logins: Iterable[str]) -> frozenset[str]:
    """Which of ``logins`` are active members of ``team`` (``ORG/SLUG``).

    The team is read first, so that a team the token cannot see is an error naming the
    permission, not "nobody is a member" (GitHub answers 404 for both).
    """
    team_path = paths.team(team)
    try:
        client.request("GET", team_path, expect=dict)
    except GitHubError as error:
        if error.status in (403, 404):
            raise GitHubError(
                f"approvals from team {team}: GitHub answered {error.status} to GET "
                f"{team_path}: no such team, or the token cannot see it; check the team's "
                f"slug, and that the token has {MEMBERS_PERMISSION}",
                error.status,
            ) from None
        raise
    members = set()
    for login in sorted(set(logins)):
        if login.endswith("[bot]"):
            continue  # an app is never a team member
        path = f"{team_path}/memberships/{paths.login(login)}"
        try:
            answer = client.request("GET", path, expect=dict)
        except GitHubError as error:
            if error.status == 404:
                continue  # not a member
            if error.status == 403:
                raise GitHubError(
                    f"approvals from team {team}: {error}; reading memberships needs "
                    f"{MEMBERS_PERMISSION}",
                    error.status,
                ) from None
            raise
        if answer_field(answer, "state", str, f"GET {path}") == "active":
            members.add(login)
    return frozenset(members)


class ReviewSource:
    """The reviews of one pull request and the team memberships of its reviewers, read
    once when first asked for (a gate without an approvals rule never calls GitHub).

    ``repository`` defaults to ``$GITHUB_REPOSITORY``; the token is ``$GITHUB_TOKEN``.
    With ``expected``, :meth:`reviews` raises NotThisPullRequest when the pull request does
    not put that commit on that branch (see :func:`check_target`).
    """

    def __init__(
        self,
        number: int,
        repository: str | None = None,
        client: GitHubClient | None = None,
        expected: Expected | None = None,
    ):
        self.number = paths.pull_number(number)
        self._repository = repository
        self._client = client
        self._expected = expected
        self._reviews: PullRequestReviews | None = None
        self._members: dict[tuple[str, str], bool] = {}

    def _connect(self) -> tuple[GitHubClient, str]:
        from gitml.github.client import GitHubClient

        repository = self._repository or os.environ.get("GITHUB_REPOSITORY")
        client = self._client or GitHubClient.from_environment()
        needs = f"the approvals of pull request #{self.number}"
        if client is None:
            raise UsageError(
                f"reading {needs} needs GITHUB_TOKEN (a token with `pull-requests: read`)"
            )
        if not repository:
            raise UsageError(f"reading {needs} needs --repository OWNER/NAME or GITHUB_REPOSITORY")
        paths.repository(repository)
        self._client, self._repository = client, repository
        return client, repository

    def reviews(self) -> PullRequestReviews:
        """The pull request's author and each reviewer's standing."""
        if self._reviews is None:
            client, repository = self._connect()
            self._reviews = read_reviews(client, repository, self.number)
        if self._expected is not None:
            check_target(self._reviews, self._expected)
        return self._reviews

    def members(self, team: str, logins: Iterable[str]) -> frozenset[str]:
        """Which of ``logins`` are active members of ``team`` (each asked once)."""
        wanted = sorted({login for login in logins if (team, login) not in self._members})
        if wanted:
            client, _ = self._connect()
            found = team_members(client, team, wanted)
            self._members.update({(team, login): login in found for login in wanted})
        return frozenset(login for login in logins if self._members[(team, login)])


def reviews_from_environment(number: int | None) -> PullRequestReviews | None:
    """The reviews of pull request ``number`` of ``$GITHUB_REPOSITORY`` read with
    ``$GITHUB_TOKEN``; None when ``number`` is None or either variable is not set."""
    from gitml.github.client import GitHubClient

    repository = os.environ.get("GITHUB_REPOSITORY")
    client = GitHubClient.from_environment()
    if number is None or client is None or not repository:
        return None
    return read_reviews(client, repository, number)

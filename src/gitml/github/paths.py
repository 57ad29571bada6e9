"""The values gitml puts into GitHub API paths, checked before any request is sent.

A path segment is the one place a value can change which endpoint a request reaches:
``--sha ../../x`` would turn ``/repos/o/r/statuses/{sha}`` into another URL, sent with
the token. Each check here accepts only what GitHub itself allows for that value (so
nothing needs escaping) and refuses the rest with a one-line :class:`BadValue` naming it.
Values sent as query parameters or in a JSON body (branch names, titles) are encoded by
requests and need no check here.
"""

from __future__ import annotations

import re

from gitml.github.errors import BadValue

# GitHub logins: letters, digits and hyphens (managed users add `_shortcode`); a little
# more lenient than github.com so Enterprise names pass, never a `/`, `.` or `%`.
_OWNER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
# Repository names: letters, digits, `.`, `_` and `-`, at most 100; GitHub refuses `.`
# and `..` as names.
_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
_COMMIT = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")
# A workflow is named by its file in .github/workflows or by its numeric id.
_WORKFLOW = re.compile(r"[A-Za-z0-9_.-]{1,200}\.ya?ml|[1-9][0-9]{0,19}")
# A user's login as a path segment: what _OWNER allows (an app's ``name[bot]`` is not a
# user and is never looked up by login).
_LOGIN = _OWNER
# A team's slug: GitHub lowercases the team's name and turns other characters into `-`;
# letters, digits, `_`, `.` and `-` are accepted, never `.` or `..` alone.
_TEAM_SLUG = re.compile(r"[A-Za-z0-9._-]{1,100}")


def repository(value: str) -> str:
    """``/repos/OWNER/NAME`` for ``OWNER/NAME``."""
    owner, _, name = value.partition("/")
    if not (_OWNER.fullmatch(owner) and _NAME.fullmatch(name) and name not in (".", "..")):
        raise BadValue(
            f"repository {value!r}: expected OWNER/NAME (letters, digits, '-' and '_'; "
            "the name also '.')"
        )
    return f"/repos/{owner}/{name}"


def commit(value: str, what: str = "commit") -> str:
    """A full commit id (40 hex digits, or 64 for SHA-256)."""
    if not _COMMIT.fullmatch(value):
        raise BadValue(f"{what} {value!r}: expected a full commit id (40 or 64 hex digits)")
    return value


def pull_number(value: object) -> int:
    """A pull request number: a positive integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadValue(f"pull request number {value!r}: expected a positive integer")
    return value


def login(value: str) -> str:
    """A GitHub user's login (``/users/{login}``, ``.../memberships/{login}``)."""
    if not _LOGIN.fullmatch(value):
        raise BadValue(f"login {value!r}: expected a GitHub login (letters, digits, '-' and '_')")
    return value


def team(value: str) -> str:
    """``/orgs/ORG/teams/SLUG`` for ``ORG/SLUG`` (a team as ``gates.*.approvals.from`` names it)."""
    org, _, slug = value.partition("/")
    if not (_OWNER.fullmatch(org) and _TEAM_SLUG.fullmatch(slug) and slug not in (".", "..")):
        raise BadValue(
            f"team {value!r}: expected ORG/TEAM (the organization's login and the team's slug)"
        )
    return f"/orgs/{org}/teams/{slug}"


def workflow(value: str) -> str:
    """A workflow file name (``propose.yml``) or numeric id."""
    if not _WORKFLOW.fullmatch(value):
        raise BadValue(
            f"workflow {value!r}: expected a file name of .github/workflows (letters, "
            "digits, '.', '_' and '-', ending .yml or .yaml) or a numeric workflow id"
        )
    return value


def is_commit(value: str) -> bool:
    """Whether ``value`` is a full commit id (as :func:`commit` accepts)."""
    return bool(_COMMIT.fullmatch(value))

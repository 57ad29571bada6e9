"""What GitHub answered: the records gitml keeps of it, the shape checks that make a
wrong answer a one-line error, and the wording of errors (server text made inert)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitml.github.errors import GitHubError
from gitml.github.retry import RATE_LIMIT_STATUSES

if TYPE_CHECKING:
    from collections.abc import Mapping


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


def pull_request_from(answer: Any, where: str, *, created: bool) -> PullRequest:
    number: int = answer_field(answer, "number", int, where)
    url: str = answer_field(answer, "html_url", str, where)
    # shown in messages and logs: one printable URL, nothing a terminal would act on
    if not (url.startswith(("https://", "http://")) and url.isprintable() and len(url) < 2000):
        raise GitHubError(f"GitHub API {where}: unexpected answer: html_url is not a URL")
    if " " in url or number < 1:
        raise GitHubError(f"GitHub API {where}: unexpected answer: not a pull request")
    return PullRequest(number, url, created=created)


_KINDS = {dict: "an object", list: "an array", str: "a string", int: "an integer"}


def answer_field(answer: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """``answer[a][b]`` for ``key`` ``"a.b"``, of type ``kind``; else a one-line GitHubError
    naming the endpoint (``where``) and what was expected."""
    value = answer
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        expected = " or ".join(_KINDS.get(k, "null") for k in kinds)
        raise GitHubError(f"GitHub API {where}: unexpected answer: {key} is not {expected}")
    return value


def json_kind(value: object) -> str:
    for kind, name in ((dict, "object"), (list, "array"), (str, "string"), (bool, "boolean")):
        if isinstance(value, kind):
            return f"a JSON {name}"
    return "a JSON number" if isinstance(value, int | float) else "JSON null"


def size_text(count: int) -> str:
    return f"{count / 1024 / 1024:g} MiB" if count >= 1024 * 1024 else f"{count} bytes"


def advice_for(
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


# A server's text (GitHub's message, a host name) shown in an error is cut here.
MAX_SHOWN_CHARS = 300


def one_line(text: str) -> str:
    """``text`` on one line, control characters escaped (a server's terminal escapes stay
    inert in a CI log), at most :data:`MAX_SHOWN_CHARS` characters."""
    line = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in " ".join(text.split()))
    return line if len(line) <= MAX_SHOWN_CHARS else line[: MAX_SHOWN_CHARS - 1] + "…"


def cause(error: Exception) -> str:
    """The innermost reason a request got no answer (refused, unresolvable, timed out)."""
    reason: BaseException = error
    while True:
        inner = getattr(reason, "reason", None) or (reason.args[0] if reason.args else None)
        if not isinstance(inner, BaseException):
            return one_line(str(reason))
        reason = inner

"""When a GitHub API request is sent again, and for how long gitml waits before it does.

GitHub documents three kinds of refusal (REST API, "Rate limits" and "Troubleshooting"):

* 502, 503 and 504: a proxy or backend hiccup; the same request usually succeeds moments
  later, so it is sent again after an exponential backoff;
* 403 or 429 with ``Retry-After``: a secondary rate limit. GitHub refused the request
  without acting on it and says how many seconds to wait, so it is sent again after that
  wait, whatever its method;
* 403 or 429 with ``x-ratelimit-remaining: 0``: the primary rate limit is used up until
  ``x-ratelimit-reset``, up to an hour away. A CI step that sleeps that long only hides the
  cause, so this is never retried: the error names the reset time instead.

Both the number of retries and each wait are bounded: a ``Retry-After`` longer than
:data:`MAX_WAIT_SECONDS` is not waited for at all (retrying earlier than GitHub asks only
earns another refusal, and GitHub may block an integration that keeps doing it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from urllib3.exceptions import InvalidHeader, MaxRetryError, ResponseError
from urllib3.util import Retry

from gitml.github import deadline

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType
    from typing import Self

    from urllib3.connectionpool import ConnectionPool
    from urllib3.response import BaseHTTPResponse

# Three retries (four attempts) ride out a GitHub incident's short blips without turning a
# real outage into minutes of a silent CI step.
MAX_RETRIES = 3
# After a server error urllib3 waits 0 s, then 2 s, then 4 s (factor × 2^(n-1)).
BACKOFF_FACTOR = 1.0
# GitHub's secondary rate limits ask for about a minute; longer waits are not waited for.
MAX_WAIT_SECONDS = 60.0

RETRIED_SERVER_ERRORS = frozenset({502, 503, 504})
RATE_LIMIT_STATUSES = frozenset({403, 429})

# The methods sent again after a server error or a lost answer, when GitHub may already
# have acted on the first request. POST is included because every POST gitml sends is
# harmless twice:
# - opening a pull request: GitHub refuses a second open one for the same head and base
#   (422 "already exists"), which create_pull_request turns into the existing one;
# - a commit status: GitHub shows the latest status of each context, so the same state
#   twice is the same verdict;
# - a workflow dispatch: propose.yml runs in the concurrency group of its pull request
#   with cancel-in-progress, so a second run replaces the first instead of racing it.
# A POST without that property (an issue comment would be posted twice) needs a Retry
# that leaves POST out. PATCH is left out: gitml sends none.
REPLAYED_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "POST"})


class GitHubRetry(Retry):
    """urllib3's ``Retry`` with GitHub's rate-limit rules and a cap on every wait."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code in RATE_LIMIT_STATUSES:
            # Only a secondary rate limit with Retry-After says when to come back. Without
            # it, a 403 is a missing permission, and a 403 or 429 is the primary limit or
            # a secondary one GitHub wants a minute or more for: not worth a CI step's wait.
            # GitHub did not act on a rate-limited request, so any method may be resent.
            return bool(self.total) and has_retry_after
        return super().is_retry(method, status_code, has_retry_after)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        # urllib3's pool always passes itself; raising MaxRetryError here is how a Retry
        # says "no more", and the pool then hands the refusal back as the answer.
        if response is not None and _pool is not None:
            reason = self.not_worth_waiting(response.status, response.headers)
            if reason is not None:
                raise MaxRetryError(_pool, url, ResponseError(reason))
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        # The wait between attempts belongs to neither (gitml.github.deadline); after an
        # attempt that ran out of time nothing is sent again, so there is nothing to wait for.
        current = deadline.current()
        if current is not None:
            current.attempt_over()
            if current.expired:
                return
        super().sleep(response)

    def not_worth_waiting(self, status: int, headers: Mapping[str, str]) -> str | None:
        """Why an answer that asks to come back later is not retried, or None when it is."""
        if status in RATE_LIMIT_STATUSES and headers.get("x-ratelimit-remaining") == "0":
            return f"the API rate limit is used up {_until_reset(headers)}; run it again then"
        value = headers.get("Retry-After")
        if value is None:
            return None
        try:
            seconds = self.parse_retry_after(value)
        except InvalidHeader:
            return "GitHub asked to wait but its Retry-After is unreadable; run it again later"
        if seconds > MAX_WAIT_SECONDS:
            return (
                f"GitHub asks to wait {seconds:.0f} s, longer than gitml waits "
                f"({MAX_WAIT_SECONDS:.0f} s); run it again later"
            )
        return None


def default_retry(*, backoff_factor: float = BACKOFF_FACTOR) -> GitHubRetry:
    """gitml's retry policy for the GitHub API (tests drop the backoff to 0)."""
    return GitHubRetry(
        total=MAX_RETRIES,
        status_forcelist=RETRIED_SERVER_ERRORS,
        allowed_methods=REPLAYED_METHODS,
        backoff_factor=backoff_factor,
        backoff_max=MAX_WAIT_SECONDS,
        # The last refusal comes back as an answer, so the client can say what it was.
        raise_on_status=False,
    )


def _until_reset(headers: Mapping[str, str]) -> str:
    """When the primary limit resets, from ``x-ratelimit-reset`` (UTC epoch seconds)."""
    try:
        reset = datetime.fromtimestamp(int(headers["x-ratelimit-reset"]), tz=UTC)
    except (KeyError, ValueError, OverflowError, OSError):
        return "until it resets (within the hour)"
    return f"until {reset:%Y-%m-%d %H:%M:%S} UTC"

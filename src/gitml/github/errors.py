"""What goes wrong talking to GitHub: a refusal or no usable answer, or a value refused
before anything is sent."""

from __future__ import annotations

from gitml.errors import GitmlError, UsageError


class GitHubError(GitmlError):
    """GitHub answered with an error (bad token, missing permission, validation...), or
    gave no usable answer (none in time, not JSON, too large, a redirect elsewhere).

    ``status`` is the HTTP status of GitHub's answer (None when there was no answer).
    """

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class BadValue(GitHubError, UsageError):
    """A value that cannot go into an API path (a commit id, a number, OWNER/NAME, a
    workflow file), refused before any request: a usage error (exit 2)."""

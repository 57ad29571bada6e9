"""The URL of the GitHub Actions run gitml is part of: where a record says it was written.

GitHub sets ``GITHUB_SERVER_URL`` (``https://github.com``, or an Enterprise server),
``GITHUB_REPOSITORY`` (``OWNER/NAME``) and ``GITHUB_RUN_ID`` in every run; the run's page
is ``$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID``.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from gitml.errors import UsageError
from gitml.github import paths

if TYPE_CHECKING:
    from collections.abc import Mapping

# An http(s) origin with an optional path prefix (an Enterprise server may serve under
# one): no user info, query, fragment, space or quote, so the URL is safe in a record,
# a message and a Markdown link.
_SERVER = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~%+-]+)*")
_RUN_ID = re.compile(r"[1-9][0-9]{0,19}")


def run_url_from_environment(environ: Mapping[str, str] | None = None) -> str | None:
    """The run's URL, or None outside GitHub Actions (any of the three variables unset).

    A value of the wrong shape is a one-line UsageError naming the variable: a record
    must not carry a link somewhere else.
    """
    env = os.environ if environ is None else environ
    server = env.get("GITHUB_SERVER_URL", "")
    repository = env.get("GITHUB_REPOSITORY", "")
    run_id = env.get("GITHUB_RUN_ID", "")
    if not (server and repository and run_id):
        return None
    server = server.rstrip("/")
    if not _SERVER.fullmatch(server):
        raise UsageError(
            f"GITHUB_SERVER_URL {server[:100]!r}: expected an http(s) URL such as "
            "https://github.com"
        )
    if not _RUN_ID.fullmatch(run_id):
        raise UsageError(f"GITHUB_RUN_ID {run_id[:40]!r}: expected a positive integer")
    try:
        paths.repository(repository)
    except UsageError:
        raise UsageError(f"GITHUB_REPOSITORY {repository[:200]!r}: expected OWNER/NAME") from None
    return f"{server}/{repository}/actions/runs/{run_id}"

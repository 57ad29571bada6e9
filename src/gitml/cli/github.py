"""``gitml commit-status``: the one GitHub call a workflow makes besides commenting."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from gitml.cli.output import emit
from gitml.errors import EXIT_OK, UsageError

if TYPE_CHECKING:
    import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``commit-status`` command."""
    p = commands.add_parser(
        "commit-status",
        help="set a GitHub commit status (for commits a workflow pushed itself)",
        description=(
            "POST a commit status through GitHub's REST API (GITHUB_TOKEN, GITHUB_REPOSITORY, "
            "GITHUB_API_URL). A push made with GITHUB_TOKEN triggers no workflow, so the "
            "run that commits reproduced outputs back sets the required status itself."
        ),
    )
    p.add_argument("--sha", required=True, help="commit to set the status on")
    p.add_argument(
        "--state",
        required=True,
        choices=("success", "failure", "error", "pending"),
        help="status state",
    )
    p.add_argument("--context", default="gitml/check", help="status name (default: gitml/check)")
    p.add_argument("--description", default="", help="short text shown next to the status")
    p.add_argument("--target-url", help="link from the status (e.g. the workflow run)")
    p.add_argument("--repository", help="OWNER/NAME (default: $GITHUB_REPOSITORY)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Set the status."""
    from gitml.github.client import GitHubClient, create_commit_status

    client = GitHubClient.from_environment()
    repository = args.repository or os.environ.get("GITHUB_REPOSITORY")
    if client is None or not repository:
        raise UsageError("commit-status needs GITHUB_TOKEN and GITHUB_REPOSITORY (or --repository)")
    create_commit_status(
        client, repository, args.sha, args.state, args.context, args.description, args.target_url
    )
    emit(f"{args.context}: {args.state} on {args.sha[:12]}")
    return EXIT_OK

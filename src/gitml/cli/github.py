"""``gitml commit-status``, ``gitml pull-request`` and ``gitml start-checks``: the GitHub
calls workflows make besides commenting (the status on a judged commit; a dispatched
run's pull request; dispatching a pull request's checks when no event starts them)."""

from __future__ import annotations

import argparse

from gitml.cli.output import add_format_options, emit, emit_json
from gitml.errors import EXIT_OK, UsageError

# gitml.github.client.PROPOSE_WORKFLOW, named here so that --help does not import requests.
PROPOSE_WORKFLOW = "propose.yml"


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``commit-status``, ``pull-request`` and ``start-checks`` commands."""
    register_commit_status(commands)
    register_pull_request(commands)
    register_start_checks(commands)


def register_commit_status(commands: argparse._SubParsersAction) -> None:
    """Add the ``commit-status`` command."""
    p = commands.add_parser(
        "commit-status",
        help="set a GitHub commit status (for commits a workflow pushed itself)",
        description=(
            "POST a commit status through GitHub's REST API (GITHUB_TOKEN, GITHUB_REPOSITORY, "
            "GITHUB_API_URL). The propose jobs set gitml/check on every commit they judge "
            "(a push made with GITHUB_TOKEN triggers no workflow, and a pull request whose "
            "outputs already match pushes nothing): give --state, or --exit-code of the "
            "gitml command that judged (0 success; 3 gate failed and 5 verification failed: "
            "failure; anything else: error)."
        ),
    )
    p.add_argument("--sha", required=True, help="commit to set the status on")
    state = p.add_mutually_exclusive_group(required=True)
    state.add_argument(
        "--state", choices=("success", "failure", "error", "pending"), help="status state"
    )
    state.add_argument(
        "--exit-code",
        type=int,
        help="derive the state from a gitml exit code (0, 3, 5 or other)",
    )
    p.add_argument("--context", default="gitml/check", help="status name (default: gitml/check)")
    p.add_argument("--description", default="", help="short text shown next to the status")
    p.add_argument("--target-url", help="link from the status (e.g. the workflow run)")
    p.add_argument("--repository", help="OWNER/NAME (default: $GITHUB_REPOSITORY)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Set the status."""
    from gitml.github import paths
    from gitml.github.client import GitHubClient
    from gitml.github.statuses import create_commit_status, state_for_exit_code

    paths.commit(args.sha, "--sha")  # before anything is sent, and before asking for a token
    client, repository = GitHubClient.for_repository(args.repository, "commit-status")

    state = args.state or state_for_exit_code(args.exit_code)
    create_commit_status(
        client, repository, args.sha, state, args.context, args.description, args.target_url
    )
    emit(f"{args.context}: {state} on {args.sha[:12]}")
    return EXIT_OK


def register_pull_request(commands: argparse._SubParsersAction) -> None:
    """Add the ``pull-request`` command."""
    p = commands.add_parser(
        "pull-request",
        help="resolve a pull request number for a trusted build (base, head, fork or not)",
        description=(
            "GET the open pull request NUMBER through GitHub's REST API (GITHUB_TOKEN, "
            "GITHUB_REPOSITORY, GITHUB_API_URL) and print what a dispatched propose run "
            "checks out and judges, as key=value lines for $GITHUB_OUTPUT: number, base, "
            "head_ref, head_sha, head_repository, fork (true/false) and checkout (the head "
            "branch, or refs/pull/N/head for a fork). A fork's pull request needs "
            "--expect-sha, the head commit that was reviewed; a head that moved away from "
            "--expect-sha is refused (exit 5)."
        ),
        epilog="JSON (--json): {number, base, head_ref, head_sha, head_repository, fork, "
        "checkout} (all strings)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("number", type=int, help="the pull request number")
    p.add_argument(
        "--expect-sha",
        default="",
        help="the reviewed head commit (required for a fork's pull request; empty: none)",
    )
    p.add_argument("--repository", help="OWNER/NAME (default: $GITHUB_REPOSITORY)")
    add_format_options(p, ("table", "json"))
    p.set_defaults(run=run_pull_request)


def run_pull_request(args: argparse.Namespace) -> int:
    """Resolve and print the pull request."""
    from gitml.github import paths
    from gitml.github.client import GitHubClient
    from gitml.github.pulls import resolve

    paths.pull_number(args.number)
    client, repository = GitHubClient.for_repository(args.repository, "pull-request")
    resolved = resolve(client, repository, args.number, args.expect_sha)
    if args.format == "json":
        emit_json(resolved.outputs())
    else:
        emit("\n".join(f"{key}={value}" for key, value in resolved.outputs().items()))
    return EXIT_OK


def register_start_checks(commands: argparse._SubParsersAction) -> None:
    """Add the ``start-checks`` command."""
    p = commands.add_parser(
        "start-checks",
        help="dispatch a pull request's checks (propose.yml) when no event starts them",
        description=(
            "POST a workflow_dispatch of WORKFLOW on REF with input pr=NUMBER through "
            "GitHub's REST API (GITHUB_TOKEN with `actions: write`, GITHUB_REPOSITORY, "
            "GITHUB_API_URL). The dispatched propose run reads the pull request from GitHub "
            "and judges it again: review.yml runs this when a review of a promotion pull "
            "request is submitted or dismissed (a review triggers no propose run, so an "
            "approvals gate would keep its old verdict). REF defaults to the repository's "
            "default branch, whose propose.yml and gitml run."
        ),
    )
    p.add_argument(
        "--pr", type=int, required=True, metavar="NUMBER", help="the pull request to check"
    )
    p.add_argument(
        "--workflow",
        default=PROPOSE_WORKFLOW,
        help=f"workflow file (or numeric id) to dispatch (default: {PROPOSE_WORKFLOW})",
    )
    p.add_argument(
        "--ref",
        help="branch or tag whose workflow runs (default: the repository's default branch)",
    )
    p.add_argument("--repository", help="OWNER/NAME (default: $GITHUB_REPOSITORY)")
    p.set_defaults(run=run_start_checks)


def run_start_checks(args: argparse.Namespace) -> int:
    """Dispatch the workflow for the pull request."""
    from gitml.github import paths
    from gitml.github.client import GitHubClient
    from gitml.github.errors import GitHubError

    # Every value is checked before anything is sent, and before asking for a token.
    paths.pull_number(args.pr)
    paths.workflow(args.workflow)
    if args.ref is not None and not args.ref.strip():
        raise UsageError("--ref '': expected a branch or tag name (or no --ref)")
    client, repository = GitHubClient.for_repository(args.repository, "start-checks")
    by_hand = f"run {args.workflow} by hand with input pr={args.pr}"
    ref = args.ref
    if ref is None:
        try:
            ref = client.default_branch(repository)
        except GitHubError as error:
            raise GitHubError(
                f"finding the default branch to start {args.workflow} on failed: {error}; "
                f"{by_hand}",
                error.status,
            ) from None
    try:
        client.dispatch_workflow(repository, args.workflow, ref, {"pr": str(args.pr)})
    except GitHubError as error:
        raise GitHubError(
            f"starting {args.workflow} on {ref} for pull request #{args.pr} failed: {error}; "
            f"{by_hand}",
            error.status,
        ) from None
    emit(f"{args.workflow} dispatched on {ref} for pull request #{args.pr}")
    return EXIT_OK

"""``gitml retrain``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from gitml.cli.output import add_format_options, emit, emit_json
from gitml.errors import EXIT_OK

if TYPE_CHECKING:
    from gitml.retrain import RetrainResult

EPILOG = """\
JSON (--json): {model, branch, base, commit, status: created|exists|resumed,
  data: {path, md5, rows} | null, pushed, pull_request: {number, url} | null,
  dispatched, data_dvc: {path, before, after} | null, changed: [paths], note}
exit codes: 0 branch created (already there: "exists"; left unpushed by an interrupted
  run and pushed now: "resumed"); 1 bad input (missing
  file, columns vs the data schema, batch already in the data, unknown model, retrain
  not configured) or a git/DVC/GitHub failure (nothing is left behind, except an open
  pull request whose workflow dispatch failed: the message says so); 2 usage
"""


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``retrain`` command."""

    p = commands.add_parser(
        "retrain",
        help="prepare a branch that adds a batch of new data to the DVC-tracked training data",
        description=(
            "From BASE, build a branch (default retrain/MODEL-<md5[:8]> of the batch) that "
            "adds the batch to the directory retrain.data of gitml.yaml (through the "
            "retrain.adopt command when set, else copied in under a new name), runs `dvc add` "
            "(a new .dvc hash) and commits. Built in a temporary worktree: your checkout is "
            "never touched. The pull request's propose run then retrains and reports. With "
            "--push, `dvc push` the data and push the branch; with --open-pr, also open the "
            "pull request into BASE and dispatch the propose workflow for it (pull requests "
            "opened with GITHUB_TOKEN trigger no workflow)."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", help="the model the data is for, e.g. credit")
    p.add_argument("--data", required=True, help="the batch (e.g. from gitml drift --save-batch)")
    p.add_argument("--base", default="main", help="branch to start from and target (default main)")
    p.add_argument("--branch", help="branch name (default: retrain/MODEL-<md5[:8]>)")
    p.add_argument("--push", action="store_true", help="dvc push the data and git push the branch")
    p.add_argument(
        "--open-pr",
        action="store_true",
        help="open the pull request and dispatch the propose workflow (implies --push; needs "
        "GITHUB_TOKEN and GITHUB_REPOSITORY; honours GITHUB_API_URL)",
    )
    p.add_argument(
        "--drift-report",
        metavar="FILE",
        help="the `gitml drift --json` report that prompted this, cited in the commit and PR",
    )
    p.add_argument("--remote", default="origin", help="git remote (default: origin)")
    p.add_argument("--repository", help="OWNER/NAME on GitHub (default: $GITHUB_REPOSITORY)")
    p.add_argument(
        "--workflow", default="propose.yml", help="workflow to dispatch (default: propose.yml)"
    )
    p.add_argument("--root", default=".", help="repository root (default: .)")
    add_format_options(p, ("table", "json"))
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Prepare the branch and print what was done."""
    from gitml.retrain import retrain

    result = retrain(
        args.root,
        args.model,
        args.data,
        base=args.base,
        branch=args.branch,
        push=args.push,
        open_pr=args.open_pr,
        remote=args.remote,
        repository=args.repository,
        drift_report=args.drift_report,
        workflow=args.workflow,
    )
    if args.format == "json":
        emit_json(result.to_dict())
    else:
        emit(render(result))
    return EXIT_OK


def render(result: RetrainResult) -> str:
    """The terminal summary of a retrain."""
    if result.status == "exists":
        return f"{result.model}: {result.note} (at {result.commit[:12]})"
    assert result.data is not None
    assert result.data_dvc is not None
    lines = [
        f"{result.model}: branch {result.branch} from {result.base} at {result.commit[:12]}",
        f"  data: {result.data.path} ({result.data.rows} rows, md5 {result.data.md5})",
        f"  {result.data_dvc[0]}: {result.data_dvc[1]} -> {result.data_dvc[2]}",
        f"  changed: {', '.join(result.changed)}",
        f"  pushed: {'yes' if result.pushed else 'no (use --push)'}",
    ]
    if result.pull_request:
        number, url = result.pull_request
        dispatched = "propose dispatched" if result.dispatched else "not dispatched"
        lines.append(f"  pull request: #{number} {url} ({dispatched})")
    return "\n".join(lines)

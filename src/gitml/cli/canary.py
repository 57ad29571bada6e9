"""``gitml canary replay``: test a stage's canary policy on recorded traffic."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from gitml.cli.output import add_format_options, emit, emit_json
from gitml.cli.recording import add_record_options, recording
from gitml.errors import EXIT_CANARY_STOPPED, EXIT_ERROR, EXIT_OK

if TYPE_CHECKING:
    import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``canary`` command."""
    p = commands.add_parser(
        "canary",
        help="replay recorded traffic through a stage's canary policy",
        description=(
            "`gitml canary replay CANDIDATE --against STABLE --data FILE` runs the canary "
            "analysis of gitml serve offline: both versions score every row of a prediction "
            "log (JSONL of gitml serve; ids, labels and ts read when present) or a batch "
            "(CSV/Parquet, optional label column), the rows are split as the server would "
            "split them, and each window is judged by the canary policy of the target stage "
            "(gitml.yaml canary.STAGE). Prints each window's figures and rules, then the "
            "decision. Exit 0 passed, 6 stopped, 1 when the data ends undecided."
        ),
    )
    p.add_argument("action", choices=("replay",), help="what to do (replay)")
    p.add_argument("candidate", help="candidate version, e.g. credit@staging or credit@v0.2.0")
    p.add_argument(
        "--against", required=True, help="stable version, e.g. credit@production (required)"
    )
    p.add_argument(
        "--data", required=True, help="prediction log (.jsonl) or batch (.csv, .parquet)"
    )
    p.add_argument(
        "--stage",
        help="stage whose canary policy judges (default: the stage --against names)",
    )
    p.add_argument(
        "--percent", type=float, help="share of rows the candidate answers (default: the policy's)"
    )
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the split of rows without a key (default: 0)"
    )
    add_record_options(
        p,
        "keep the decision in the registry: a tag gitml.canary/MODEL/N on the candidate's "
        "commit (read by gitml history and the dossier)",
        open_pr=True,
    )
    p.add_argument("--local", action="store_true", help="read local stage branches")
    p.add_argument("--root", default=".", help="repository root (default: .)")
    add_format_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Replay, print, optionally record; the exit code says the verdict."""
    from gitml.canary.render import render_markdown, render_table
    from gitml.canary.replay import replay

    record, push = recording(args)
    result = replay(
        args.root,
        args.candidate,
        args.against,
        args.data,
        stage=args.stage,
        percent=args.percent,
        seed=args.seed,
        local=args.local,
    )
    recorded = None
    if record and result.decision is not None:
        from gitml.canary.record import record_decision

        recorded = record_decision(
            args.root,
            result.decision,
            result.pair,
            push=push,
            remote=args.remote,
            open_pr=args.open_pr,
            repository=args.repository,
        )
        sys.stderr.write(f"recorded {recorded.tag}{' (pushed)' if push else ''}\n")
        if recorded.branch is not None:
            where = recorded.branch.pull_request or recorded.branch.command or ""
            sys.stderr.write(f"{recorded.branch.kind} branch {recorded.branch.branch}: {where}\n")
    elif record:
        sys.stderr.write("nothing recorded: the replay reached no decision\n")
    if args.format == "json":
        data = result.to_dict()
        data["recorded"] = recorded.to_dict() if recorded else None
        emit_json(data)
    else:
        emit(render_markdown(result) if args.format == "md" else render_table(result))
    if result.state == "stopped":
        return EXIT_CANARY_STOPPED
    return EXIT_OK if result.state == "passed" else EXIT_ERROR

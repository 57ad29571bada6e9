"""``gitml check``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.cli.output import add_format_options, emit, emit_json
from gitml.errors import EXIT_GATE_FAILED, EXIT_OK
from gitml.report.tables import table

if TYPE_CHECKING:
    import argparse

    from gitml.gates import CheckResult

ICON = {"pass": "✅ pass", "warn": "⚠️ warn", "fail": "❌ fail"}


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``check`` command."""
    p = commands.add_parser(
        "check",
        help="run the promotion gates of a stage: exit 0 pass, 3 fail",
        description=(
            "Judge the candidate (the workspace, or --head) against each model's gate for "
            "--stage, as declared under `gates:` in gitml.yaml: absolute bounds, allowed "
            "regression against the stage's recorded model (or --base for main), required "
            "metrics, operational limits, the model card, the training data schema, and "
            "approving reviews of --pull-request (read through GitHub's API with "
            "GITHUB_TOKEN). Exits 3 when a required gate fails."
        ),
    )
    p.add_argument("--stage", help="stage to judge for (default: derived from --base, else main)")
    p.add_argument("--base", help="baseline revision (default: the stage's recorded version)")
    p.add_argument("--head", help="candidate revision (default: the workspace)")
    p.add_argument(
        "--pull-request",
        type=int,
        metavar="N",
        help="pull request whose reviews an `approvals` rule judges (needs GITHUB_TOKEN)",
    )
    p.add_argument(
        "--repository", help="OWNER/NAME of the pull request (default: $GITHUB_REPOSITORY)"
    )
    p.add_argument("--root", default=".", help="repository root (default: .)")
    add_format_options(p)
    p.set_defaults(run=run)


def render(result: CheckResult, fmt: str) -> str:
    """The gate table(s) as text or markdown."""
    blocks = []
    for gate in result.gates:
        title = f"{gate.model} → {gate.stage}: {gate.status}"
        if gate.baseline:
            title += f" (baseline {gate.baseline})"
        if not gate.configured:
            blocks.append(f"{title} (no gate configured for this stage)")
            continue
        rows = [[r.rule, r.observed, r.limit, ICON[r.status]] for r in gate.rules]
        blocks.append(f"{title}\n\n" + table(fmt, ["rule", "observed", "limit", "result"], rows))
    return "\n\n".join(blocks)


def run(args: argparse.Namespace) -> int:
    """Check, print, and exit 3 on a failed required gate."""
    from gitml import api

    result = api.check(
        root=args.root,
        stage=args.stage,
        base=args.base,
        head=args.head,
        pull_request=args.pull_request,
        repository=args.repository,
    )
    if args.format == "json":
        emit_json(result.to_dict())
    else:
        emit(render(result, args.format))
    return EXIT_GATE_FAILED if result.status == "failed" else EXIT_OK

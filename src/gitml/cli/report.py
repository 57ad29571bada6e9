"""``gitml report``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gitml.cli.output import add_format_options, emit, emit_json
from gitml.errors import EXIT_OK, GitmlError

if TYPE_CHECKING:
    import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``report`` command."""
    parser = commands.add_parser(
        "report",
        help="the pull-request report: metric, params and data diff against a base revision",
        description=(
            "Compare the workspace (after `dvc repro`) or --head with --base: a summary "
            "verdict per model, metrics with better/worse by direction, operational "
            "figures, params and data diff, curves as Mermaid charts, and a footer to "
            "reproduce. The markdown is what the pull-request comment shows."
        ),
    )
    parser.add_argument("--base", required=True, help="base revision, e.g. origin/main")
    parser.add_argument("--head", help="head revision (default: the workspace)")
    parser.add_argument(
        "--stage", help="stage whose gate applies (default: derived from --base; main otherwise)"
    )
    parser.add_argument("-o", "--output", help="write to this file instead of stdout")
    parser.add_argument(
        "--repro-log", help="file with `dvc repro` output, to report ran vs restored"
    )
    parser.add_argument(
        "--plots-dir", help="also render the curves as PNG files here (workflow artefacts)"
    )
    parser.add_argument(
        "--no-rescore",
        action="store_true",
        help="when the data changed, skip scoring the base model on the head's rows",
    )
    parser.add_argument("--root", default=".", help="repository root (default: .)")
    add_format_options(parser, ("md", "json"))
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Build the report and print or write it."""
    import json

    from gitml import api
    from gitml.report.jsondata import to_data
    from gitml.report.markdown import render

    repro_log = None
    if args.repro_log:
        try:
            repro_log = Path(args.repro_log).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise GitmlError(f"--repro-log {args.repro_log}: cannot read: {exc}") from None
    report = api.report(
        args.base,
        args.head,
        root=args.root,
        stage=args.stage,
        repro_log=repro_log,
        rescore=not args.no_rescore,
    )
    if args.plots_dir:
        from gitml.report.png import write_pngs

        write_pngs(report, Path(args.plots_dir))
    if args.format == "json":
        content = json.dumps(to_data(report), indent=2) + "\n"
    else:
        content = render(report)
    if args.output:
        from gitml.fsutil import atomic_write_text

        atomic_write_text(Path(args.output), content)
    elif args.format == "json":
        emit_json(to_data(report))
    else:
        emit(content)
    return EXIT_OK

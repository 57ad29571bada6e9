"""``gitml report``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gitml.cli.output import add_format_options, emit, emit_json
from gitml.errors import EXIT_OK, GitmlError, UsageError

if TYPE_CHECKING:
    import argparse

    from gitml.report.model import Report


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
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--base", help="base revision, e.g. origin/main")
    source.add_argument(
        "--from-json",
        metavar="FILE",
        help="render the markdown of a report saved with --format json by another run (a "
        "fork's build), after checking it against the report schema and a 512 KiB limit",
    )
    parser.add_argument("--head", help="head revision (default: the workspace)")
    parser.add_argument(
        "--stage", help="stage whose gate applies (default: derived from --base; main otherwise)"
    )
    parser.add_argument("-o", "--output", help="write to this file instead of stdout")
    parser.add_argument(
        "--force",
        action="store_true",
        help="with -o, replace an existing regular file (never a link, folder or device)",
    )
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
    from gitml.report.from_json import render_markdown
    from gitml.report.jsondata import to_data
    from gitml.report.markdown import render

    if args.output:
        from gitml.fsutil import check_output_path

        check_output_path(Path(args.output), force=args.force)  # before the work, not after
    report = _from_json(args) if args.from_json else None
    repro_log = None
    if args.repro_log:
        try:
            repro_log = Path(args.repro_log).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise GitmlError(f"--repro-log {args.repro_log}: cannot read: {exc}") from None
    if report is None:
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
        content = render_markdown(report) if args.from_json else render(report)
    if args.output:
        from gitml.fsutil import write_output

        write_output(Path(args.output), content, force=args.force)
    elif args.format == "json":
        emit_json(to_data(report))
    else:
        emit(content)
    return EXIT_OK


def _from_json(args: argparse.Namespace) -> Report:
    """The report saved in ``--from-json``: the options that compute one do not apply."""
    from gitml.report.from_json import read_report

    given = [
        option
        for option, value in (
            ("--head", args.head),
            ("--stage", args.stage),
            ("--repro-log", args.repro_log),
            ("--plots-dir", args.plots_dir),
            ("--no-rescore", args.no_rescore),
        )
        if value
    ]
    if given:
        raise UsageError(f"--from-json renders a finished report: {', '.join(given)} do not apply")
    return read_report(Path(args.from_json))
